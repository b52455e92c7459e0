"""In a real browser: headless Chromium against `scraper serve` on 127.0.0.1.

Loads the front page, searches 党建 from its search box, opens the reference article from the results, and
checks the text as rendered (Chinese, not mojibake); opens the hostile article and its archived capture and
checks that none of the page's script ran. Screenshots go to test-artifacts/browser/. Needs Debian's chromium
and chromium-driver (.ci/run installs them); skipped only where /usr/bin/chromium is absent.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browse_helpers import HOSTILE_URL, PWNED, REFERENCE_URL, article_id

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
REFERENCE_TITLE = "发挥政治统领作用 强化机关政治建设"
# No traffic but to 127.0.0.1: no background services, updates, sync, pings, safe-browsing or translation.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--no-pings",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--disable-default-apps",
    "--disable-extensions", "--disable-features=Translate,OptimizationHints,MediaRouter",
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                               "(apt-get install chromium chromium-driver)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(path: Path, log_path: Path) -> Iterator[str]:
    """`scraper serve --db path` on a free port of 127.0.0.1, as a user would start it; yields its base URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", "--db", str(path), "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    with urllib.request.urlopen(base + "/-/versions.json", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("scraper serve did not start: " + log_path.read_text())
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(sample_archive, tmp_path_factory):
    with serving(sample_archive, tmp_path_factory.mktemp("browser") / "serve.log") as base:
        yield base, sample_archive


@contextmanager
def chromium(profile: Path, size: str = "1200,1300"):
    """Headless Chromium through its chromedriver, with a profile of its own; quit on leaving."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROMIUM_FLAGS, f"--window-size={size}", "--lang=zh-CN", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def screenshot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


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

    box = browser.find_element("css selector", "form.chaozhou-search input[name=_search]")
    box.send_keys("党建")
    box.submit()
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

