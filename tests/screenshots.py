"""The README's screenshots, taken again: `python -m tests.screenshots [DIRECTORY]` (docs/screenshots by default).

Headless Chromium (1280 wide) against `scraper serve` of a fresh `scraper import --sample` archive: the front page,
the search box's results for 党建, the ranked search, an article, the articles table and the coverage page. The
hostile page's screenshot comes from the browsing tests' archive (the sample and that page). Each page is checked
against the archive before it is taken: a screenshot shows as many articles as the sample holds.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from contextlib import closing
from importlib import resources
from pathlib import Path

from scraper.importer import import_files
from tests.browse_helpers import HOSTILE_URL, REFERENCE_URL, article_id, make_archive
from tests.browser_helpers import chromium, serving

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 1200


def sample_archive(directory: Path) -> Path:
    """What `scraper import --sample --db archive.db` makes."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "archive.db"
    result = import_files(str(path), [str(resources.files("scraper").joinpath("samples/sample.warc.gz"))],
                          drift_check=False)
    if result.errors:
        raise RuntimeError(f"the sample did not import: {result.errors}")
    return path


def count(path: Path, sql: str) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchone()[0]


def shown_rows(driver) -> int:
    return len(driver.find_elements("css selector", "table.rows-and-columns tbody tr"))


def take(out: Path, work: Path) -> dict[str, int]:
    """Writes the screenshots into out; returns what they show (articles in the table, search results...)."""
    out.mkdir(parents=True, exist_ok=True)
    path = sample_archive(work / "sample")
    shown: dict[str, int] = {"archive": count(path, "select count(*) from articles")}
    with serving(path, work / "serve.log") as base, chromium(work / "profile", WIDTH, HEIGHT) as driver:
        def shoot(name: str, url: str) -> None:
            driver.get(base + url)
            driver.save_screenshot(str(out / f"{name}.png"))

        shoot("index", "/")
        shoot("articles", "/archive/articles")
        shown["articles"] = shown_rows(driver)
        shoot("search", "/archive/articles?_search=%E5%85%9A%E5%BB%BA")
        shown["search"] = shown_rows(driver)
        shoot("ranked-search", "/archive/search?q=%E6%94%BF%E6%B2%BB%E5%BB%BA%E8%AE%BE")
        shown["ranked-search"] = shown_rows(driver)
        shoot("article", f"/archive/articles/{article_id(path, REFERENCE_URL)}/read")
        shoot("coverage", "/-/coverage")
        shown["coverage months"] = len(driver.find_elements("css selector", "svg rect.month"))
    hostile = make_archive(work)
    with serving(hostile, work / "serve-hostile.log") as base, chromium(work / "profile", WIDTH, HEIGHT) as driver:
        driver.get(f"{base}/archive/articles/{article_id(hostile, HOSTILE_URL)}/read")
        driver.save_screenshot(str(out / "hostile-article.png"))
    return shown


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    with tempfile.TemporaryDirectory() as work:
        for what, n in take(out, Path(work)).items():
            print(f"{what}: {n}")


if __name__ == "__main__":
    main()
