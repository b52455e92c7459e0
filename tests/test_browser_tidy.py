"""In a real browser (headless Chromium, 1280×1600): the articles table with the reader's columns, and the coverage
page. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest

from browse.columns import READER_COLUMNS
from tests.browser_helpers import CHROMIUM, chromium, serving

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
WIDTH, HEIGHT = 1280, 1600
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]


@pytest.fixture
def crawled(site, collection, crawl, db_path, tmp_path):
    """The reconstructed collection (16 articles) crawled, served, and a browser of the issue's size."""
    assert crawl(site).exit_code == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(db_path, tmp_path / "serve.log") as base, chromium(tmp_path / "profile", WIDTH, HEIGHT) as driver:
        yield base, driver


def headers(driver) -> list[str]:
    return [th.get_attribute("data-column") for th in driver.find_elements("css selector", "table.rows-and-columns th")]


def test_articles_table_shows_the_readers_columns(crawled):
    base, driver = crawled
    driver.get(base + "/archive/articles")
    assert headers(driver) == ["id", *[c for c in headers(driver)[1:] if c in READER_COLUMNS]]
    assert set(headers(driver)) == {"id", *READER_COLUMNS}
    rows = driver.find_elements("css selector", "table.rows-and-columns tbody tr")
    assert len(rows) >= 10
    # Short rows: at least ten of them within the window's height, and nothing wider than the window.
    tops = [r.location["y"] + r.size["height"] for r in rows[:10]]
    assert max(tops) <= HEIGHT, tops
    assert driver.execute_script("return document.documentElement.scrollWidth") <= driver.execute_script(
        "return window.innerWidth")
    driver.save_screenshot(str(ARTIFACTS / "articles-table.png"))

    # Datasette's column menu: "Show all columns" shows every column, body among them.
    driver.find_element("css selector", "th.col-title svg.dropdown-menu-icon").click()
    show_all = driver.find_element("css selector", ".dropdown-menu a.dropdown-show-all-columns")
    assert show_all.is_displayed()
    show_all.click()
    assert {"body", "url", "headings", "content_hash"} <= set(headers(driver))
    driver.save_screenshot(str(ARTIFACTS / "articles-table-all.png"))

    # ...and "Hide this column" there hides just that one.
    driver.find_element("css selector", "th.col-body svg.dropdown-menu-icon").click()
    driver.find_element("css selector", ".dropdown-menu a.dropdown-hide-column").click()
    shown = set(headers(driver))
    assert "body" not in shown and {"url", "headings"} <= shown


def test_coverage_page(sample_archive, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(sample_archive, tmp_path / "serve.log") as base, \
            chromium(tmp_path / "profile", WIDTH, HEIGHT) as driver:
        driver.get(base + "/-/coverage")
        assert driver.find_element("tag name", "h1").text == "字段覆盖 · Field coverage per month"
        # Datasette's own page around it: its header and the archive's stylesheet
        assert driver.find_elements("css selector", "header nav")
        assert any(link.get_attribute("href").endswith("/archive.css")
                   for link in driver.find_elements("css selector", "link[rel=stylesheet]"))
        chart = driver.find_element("css selector", "figure.chaozhou-coverage-chart svg")
        assert 0 < chart.size["width"] <= driver.execute_script("return window.innerWidth")
        legend = driver.find_element("css selector", "svg g.legend").text
        assert "作者 · authors" in legend and "标题 · title" in legend
        assert driver.execute_script("return document.documentElement.scrollWidth") <= driver.execute_script(
            "return window.innerWidth")
        driver.save_screenshot(str(ARTIFACTS / "coverage.png"))
        driver.find_element("css selector", "details.chaozhou-coverage-values summary").click()
        cells = driver.find_elements("css selector", "details.chaozhou-coverage-values tbody td")
        assert cells and cells[0].is_displayed()


def test_the_readme_screenshots_can_be_taken_again_and_show_the_sample(tmp_path):
    from tests.screenshots import take

    shown = take(tmp_path / "shots", tmp_path)
    assert {p.name for p in (tmp_path / "shots").iterdir()} >= {
        "index.png", "articles.png", "search.png", "ranked-search.png", "article.png", "coverage.png",
        "hostile-article.png"}
    assert shown["archive"] == 5  # `scraper import --sample`, as the README says
    assert shown["articles"] == shown["archive"]
    assert 0 < shown["search"] < shown["archive"] and 0 < shown["ranked-search"] <= shown["archive"]
    assert shown["coverage months"] >= 3
