"""In a real browser: the reader page of one copy of a story links the other two (headless Chromium against
`scraper serve` on 127.0.0.1, as tests/test_browser.py does). Screenshot: test-artifacts/browser/story.png, copied
to docs/screenshots/story.png for the README."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.test_browser import ARTIFACTS, CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]


@pytest.fixture
def story_server(story_archive, tmp_path):
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", "--db", str(story_archive),
                                    "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
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


def test_reader_page_of_one_copy_links_the_other_two(story_server, story_archive, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    conn = sqlite3.connect(story_archive)
    articles = conn.execute("SELECT id, url FROM articles ORDER BY published_at, id").fetchall()
    conn.close()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROMIUM_FLAGS, "--window-size=1000,700", "--lang=zh-CN",
                     f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(f"{story_server}/archive/articles/{articles[0][0]}/read")
        copies = driver.find_element("css selector", "nav.copies")
        assert copies.is_displayed()
        assert "也发表于 · Also published at" in copies.text
        hrefs = [a.get_attribute("href") for a in copies.find_elements("css selector", "a")]
        for other_id, other_url in articles[1:]:
            assert f"{story_server}/archive/articles/{other_id}/read" in hrefs
            assert other_url in hrefs
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "story.png"))
        # Following a copy's link shows that copy, which lists the first among its others.
        copies.find_element("css selector", "li a").click()
        assert driver.current_url == f"{story_server}/archive/articles/{articles[1][0]}/read"
        others = driver.find_element("css selector", "nav.copies").find_elements("css selector", "a")
        assert f"{story_server}/archive/articles/{articles[0][0]}/read" in [a.get_attribute("href") for a in others]
    finally:
        driver.quit()
