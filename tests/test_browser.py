"""In a real browser: headless Chromium against `scraper serve` on 127.0.0.1.

Loads the front page, searches 党建 from its search box, opens the reference article from the results, and
checks the text as rendered (Chinese, not mojibake); opens the hostile article and its archived capture and
checks that none of the page's script ran. Screenshots go to test-artifacts/browser/. Needs Debian's chromium
and chromium-driver (.ci/run installs them); skipped only where /usr/bin/chromium is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browse_helpers import HOSTILE_URL, PWNED, REFERENCE_URL, article_id
from tests.browser_helpers import CHROMIUM, chromium, serving

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
REFERENCE_TITLE = "发挥政治统领作用 强化机关政治建设"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                               "(apt-get install chromium chromium-driver)")]


@pytest.fixture(scope="module")
def server(sample_archive, tmp_path_factory):
    """`scraper serve` on a free port of 127.0.0.1, as a user would start it."""
    try:
        with serving(sample_archive, tmp_path_factory.mktemp("browser") / "serve.log") as base:
            yield base, sample_archive
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture(scope="module")
def search_server(search_archive, tmp_path_factory):
    """The search page's archive (tests/search_archive.py), served; with its articles' ids."""
    with serving(search_archive[0], tmp_path_factory.mktemp("browser-search") / "serve.log") as base:
        yield base, search_archive[1]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def screenshot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait_for(driver, css: str) -> None:
    """Until the page shows an element matching css: a submitted form's page loads after submit() returns."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 10).until(lambda d: d.find_elements("css selector", css))


def ran_no_script(driver) -> None:
    assert driver.title != PWNED  # what the page's scripts set it to
    assert driver.find_elements("id", "pwned") == []
    assert driver.execute_script("return typeof window.__pwned") == "undefined"


def test_index_search_and_article(server, browser):
    base, _ = server
    browser.get(base + "/")
    assert "潮州库档案" in browser.find_element("tag name", "h1").text
    charts = browser.find_elements("css selector", "figure.chaozhou-chart img")
    assert len(charts) == 2
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
               for img in charts), "the charts did not load"
    screenshot(browser, "index")

    box = browser.find_element("css selector", "form.chaozhou-search input[name=q]")
    box.send_keys("党建")
    box.submit()  # the readers' search page (browse/reader_search.py); the table view is a link away
    assert browser.find_element("css selector", "input[name=q]").get_attribute("value") == "党建"
    assert REFERENCE_TITLE in [a.text for a in browser.find_elements("css selector", "li.search-hit h2 a")]
    browser.find_element("css selector", "p.search-sql a").click()
    assert browser.find_element("css selector", "input[name=_search]").get_attribute("value") == "党建"
    titles = [a.text for a in browser.find_elements("css selector", "td.col-title a")]
    assert REFERENCE_TITLE in titles and "潮州市召开市直机关党建工作座谈会" in titles
    excel = browser.find_element("css selector", "p.export-links a.chaozhou-excel-csv")  # added by our script
    assert "_bom=1" in excel.get_attribute("href") and "_search=" in excel.get_attribute("href")
    screenshot(browser, "search")

    link = next(a for a in browser.find_elements("css selector", "td.col-title a") if a.text == REFERENCE_TITLE
                and a.get_attribute("href").endswith(f"/articles/{article_id(server[1], REFERENCE_URL)}/read"))
    link.click()
    assert browser.find_element("css selector", "article h1").text == REFERENCE_TITLE
    body = browser.find_element("css selector", ".chaozhou-body").text
    assert body.startswith("开展机关党建工作，一定要把党的政治建设摆在首位")
    headings = [h.text for h in browser.find_elements("css selector", ".chaozhou-body h2")]
    assert "一、坚持政治机关站位，落实政治要求" in headings
    assert "来源：潮州日报" in browser.find_element("css selector", ".byline").text
    assert "\ufffd" not in body and "Ã" not in body and "å" not in body  # no mojibake
    screenshot(browser, "article")


def test_ranked_search_page(server, browser):
    base, _ = server
    browser.get(base + "/archive/search?q=%E6%94%BF%E6%B2%BB%E5%BB%BA%E8%AE%BE")
    snippets = [td.text for td in browser.find_elements("css selector", "td.col-snippet")]
    assert snippets and "【政治建设】" in snippets[0]
    screenshot(browser, "ranked-search")


def test_hostile_article_runs_no_script(server, browser):
    base, path = server
    browser.get(f"{base}/archive/articles/{article_id(path, HOSTILE_URL)}/read")
    heading = browser.find_element("css selector", "article h1").text
    assert heading.startswith("<img src=x onerror=") and heading.endswith("恶意测试文章")  # shown, as text
    assert "<script>window.__pwned=1" in browser.find_element("css selector", ".chaozhou-body").text
    ran_no_script(browser)
    screenshot(browser, "hostile-article")

    browser.find_element("link text", "存档网页 · Archived capture").click()
    assert "恶意测试文章" in browser.page_source  # the page as fetched, with its scripts...
    ran_no_script(browser)  # ...not run
    screenshot(browser, "hostile-capture")



def test_search_page_facets_pages_and_an_empty_result(search_server, browser):
    base, ids = search_server
    browser.get(base + "/")
    box = browser.find_element("css selector", "form.chaozhou-search input[name=q]")
    box.send_keys("乡村振兴")
    box.submit()
    wait_for(browser, "p.search-count")
    assert "25" in browser.find_element("css selector", "p.search-count").text
    assert len(browser.find_elements("css selector", "li.search-hit")) == 20

    browser.find_element("css selector", "nav.search-pages").find_element("link text", "2").click()
    hits = browser.find_elements("css selector", "li.search-hit h2 a")
    assert len(hits) == 5 and "page=2" in browser.current_url

    year = browser.find_element("css selector", "section.facet-year")
    year.find_element("link text", "2024").click()
    assert [a.text for a in browser.find_elements("css selector", "li.search-hit h2 a")] == ["乡村振兴第25篇"]
    chip = browser.find_element("css selector", "ul.search-filters li")
    assert "2024" in chip.text
    chip.find_element("tag name", "a").click()  # removes the year
    assert "25" in browser.find_element("css selector", "p.search-count").text
    assert not browser.find_elements("css selector", "ul.search-filters li")

    box = browser.find_element("css selector", "form.chaozhou-search input[name=q]")
    box.clear()
    box.send_keys("乡村振兴 疫情")
    box.submit()
    wait_for(browser, "p.search-none")
    assert not browser.find_elements("css selector", "li.search-hit")
    screenshot(browser, "search-page-nothing")
    browser.find_element("css selector", ".search-suggestions").find_element("link text", "疫情").click()
    titles = [a.text for a in browser.find_elements("css selector", "li.search-hit h2 a")]
    assert titles == ["疫情防控一线纪实", "扎实推进机关党建"]  # the word in a title weighs most
    assert "3" in browser.find_element("css selector", "li.search-hit .hit-copies").text
    marks = browser.find_elements("css selector", "li.search-hit .hit-snippet mark")
    assert marks and {m.text for m in marks} == {"疫情"}
    assert marks[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"  # the stylesheet loaded
    screenshot(browser, "search-page")

    browser.get(base + "/archive/-/search?q=%E6%81%B6%E6%84%8F")  # the hostile title and body, shown as text
    assert browser.find_element("css selector", "li.search-hit h2 a").text.startswith("<script>")
    ran_no_script(browser)
