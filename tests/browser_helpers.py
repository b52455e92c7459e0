"""Headless Chromium against `scraper serve` on 127.0.0.1: shared by the browser tests and tests/screenshots.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# No traffic but to 127.0.0.1: no background services, updates, sync, pings, safe-browsing or translation.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--no-pings",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--disable-default-apps",
    "--disable-extensions", "--disable-features=Translate,OptimizationHints,MediaRouter",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(path: Path, log_path: Path) -> Iterator[str]:
    """`scraper serve` of the archive at path on a free port of 127.0.0.1, as a user would start it: its base URL."""
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
                        raise RuntimeError("scraper serve did not start: " + log_path.read_text()) from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def chromium(profile: Path, width: int = 1200, height: int = 1300):
    """A headless Chromium (selenium driver) with a window of width x height, its profile in profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROMIUM_FLAGS, f"--window-size={width},{height}", "--lang=zh-CN",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
