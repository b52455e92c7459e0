"""An archive for the browsing tests: the bundled sample plus a hostile page, imported through the pipelines."""

from __future__ import annotations

import asyncio
import sqlite3
from importlib import resources
from pathlib import Path

from datasette.app import Datasette

from pipelines.schema import open_archive
from scraper.importer import import_files
from tests.warc_helpers import HTML, REFERENCE_URL, write_warc

HOSTILE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_666666.html"
HOSTILE_PAGE = Path(__file__).parent / "data" / "hostile-article.html"
# Markers a hostile page's script would leave if it ever ran: in the DOM, the title, or window.__pwned.
PWNED = "PWNED"


def make_archive(directory: Path) -> Path:
    """archive.db in directory with the sample WARC and the hostile page (its WARC kept in directory/archive)."""
    path = directory / "archive.db"
    warcs = directory / "archive"
    warcs.mkdir(exist_ok=True)
    hostile = write_warc(warcs / "hostile.warc.gz", [(HOSTILE_URL, HTML, HOSTILE_PAGE.read_bytes())],
                         date="2026-02-03T04:05:06Z")
    sample = str(resources.files("scraper").joinpath("samples/sample.warc.gz"))
    result = import_files(str(path), [sample, str(hostile)], drift_check=False)
    assert not result.errors, result.errors
    db = open_archive(path)
    try:
        # An image address and caption no parser would give, for the page's own markup.
        hostile_id = db.execute("select id from articles where url = ?", [HOSTILE_URL]).fetchone()[0]
        with db.atomic():
            db.execute("insert into images (article_id, position, url, caption) values (?, 0, ?, ?)",
                       [hostile_id, "javascript:window.__pwned=1", '"><script>window.__pwned=1</script>'])
            db.execute("insert into images (article_id, position, url, caption) values (?, 1, ?, ?)",
                       # 127.0.0.1's discard port: the browser test's Chromium must reach no other machine
                       [hostile_id, 'http://127.0.0.1:9/a.jpg" onerror="window.__pwned=1', "图片说明"])
    finally:
        db.close()
    return path


def article_id(path: Path, url: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select id from articles where url = ?", [url]).fetchone()[0]
    finally:
        conn.close()


def get(path: Path, *paths: str, **datasette_kwargs):
    """Responses from an in-process Datasette serving path (and any other files given as files=...)."""
    async def run():
        ds = Datasette([str(path), *datasette_kwargs.pop("files", [])], **datasette_kwargs)
        return [await ds.client.get(p) for p in paths]
    responses = asyncio.run(run())
    return responses[0] if len(responses) == 1 else responses


__all__ = ["HOSTILE_URL", "PWNED", "REFERENCE_URL", "article_id", "get", "make_archive"]
