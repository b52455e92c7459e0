"""In a real browser: the reader page of one copy of a story links the other two (headless Chromium against
`scraper serve` on 127.0.0.1, as tests/test_browser.py does). Screenshot: test-artifacts/browser/story.png, copied
to docs/screenshots/story.png for the README."""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser_helpers import CHROMIUM, chromium, serving
from tests.test_browser import ARTIFACTS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]


@pytest.fixture
def story_server(story_archive, tmp_path):
    with serving(story_archive, tmp_path / "serve.log") as base:
        yield base


def test_reader_page_of_one_copy_links_the_other_two(story_server, story_archive, tmp_path):
    conn = sqlite3.connect(story_archive)
    articles = conn.execute("SELECT id, url FROM articles ORDER BY published_at, id").fetchall()
    conn.close()
    with chromium(tmp_path / "chromium-profile", width=1000, height=700) as driver:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.get(f"{story_server}/archive/articles/{articles[0][0]}/read")
        copies = driver.find_element("css selector", "nav.copies")
        assert copies.is_displayed()
        assert "也发表于 · Also published at" in copies.text
        hrefs = [a.get_attribute("href") for a in copies.find_elements("css selector", "a")]
        for other_id, other_url in articles[1:]:
            assert f"{story_server}/archive/articles/{other_id}/read" in hrefs
            assert other_url in hrefs
        driver.save_screenshot(str(ARTIFACTS / "story.png"))
        # Following a copy's link shows that copy, which lists the first among its others.
        copies.find_element("css selector", "li a").click()
        assert driver.current_url == f"{story_server}/archive/articles/{articles[1][0]}/read"
        others = driver.find_element("css selector", "nav.copies").find_elements("css selector", "a")
        assert f"{story_server}/archive/articles/{articles[0][0]}/read" in [a.get_attribute("href") for a in others]


def test_the_story_is_one_result_on_the_search_page_and_leads_to_its_copies(story_server, story_archive, tmp_path):
    """The three copies, linked by the import's own store step (no story_id set by hand), are one search result
    with its copies counted; its page links the other two."""
    conn = sqlite3.connect(story_archive)
    ids = {row[0] for row in conn.execute("SELECT id FROM articles")}
    assert len(ids) == 3 and conn.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0] == 1
    conn.close()
    with chromium(tmp_path / "chromium-profile", width=1280, height=1600) as driver:
        driver.get(f"{story_server}/archive")
        box = driver.find_element("css selector", "form input[name=q]")
        box.send_keys("政治建设")
        box.submit()
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(driver, 10).until(lambda d: d.find_elements("css selector", "li.search-hit"))
        assert "/-/search" in driver.current_url
        hits = driver.find_elements("css selector", "li.search-hit")
        assert len(hits) == 1
        assert "3 copies" in hits[0].find_element("css selector", ".hit-copies").text
        link = hits[0].find_element("css selector", "h2 a")
        shown = int(link.get_attribute("href").rstrip("/").split("/")[-2])
        assert shown in ids
        link.click()
        copies = driver.find_element("css selector", "nav.copies")
        hrefs = {a.get_attribute("href") for a in copies.find_elements("css selector", "a")}
        for other in ids - {shown}:
            assert f"{story_server}/archive/articles/{other}/read" in hrefs
