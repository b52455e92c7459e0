"""Made tests/data/archive-schema-001.db: an archive as release 0.1 (schema step 001_initial) left it.

Kept for the record; the .db file is the fixture and is not re-made by the tests. Run from the repository
root: ``python tests/data/make_archive_schema_001.py``.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from sqlite_utils import Database

from pipelines.normalise import normalise
from pipelines.schema import migrations
from pipelines.store import article_row
from scraper.parse import parse_article

OUT = Path(__file__).with_name("archive-schema-001.db")
URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"


def main() -> None:
    OUT.unlink(missing_ok=True)
    db = Database(sqlite3.connect(OUT))
    migrations.apply(db, stop_before="002_collections_counts_search")
    html = resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()
    article = normalise(parse_article(html, URL, "text/html; charset=utf-8"))
    row = article_row(article)
    for key in ("collection", "column", "char_count", "paragraph_count"):
        row.pop(key)  # columns added by step 002
    with db.atomic():
        run_id = db["runs"].insert({"kind": "import", "started_at": "2025-06-01T00:00:00Z",
                                    "finished_at": "2025-06-01T00:00:01Z", "status": "ok", "new": 1}).last_pk
        capture_id = db["captures"].insert({
            "record_id": "<urn:uuid:00000000-0000-4000-8000-000000000001>", "url": URL,
            "fetched_at": "2025-06-01T00:00:00Z", "status": 200, "content_type": "text/html; charset=utf-8",
            "warc_file": "old-crawl.warc.gz", "warc_offset": 0, "warc_length": 4096, "run_id": run_id}).last_pk
        source_id = db["sources"].insert({"name": article.source}).last_pk
        # id 7, not 1: the migration test checks that ids survive the upgrade.
        db["articles"].insert({**row, "id": 7, "source_id": source_id, "first_seen": "2025-06-01T00:00:00Z",
                               "last_seen": "2025-06-01T00:00:00Z", "capture_id": capture_id})
        for position, name in enumerate(article.authors):
            author_id = db["authors"].insert({"name": name}).last_pk
            db["article_authors"].insert({"article_id": 7, "author_id": author_id, "position": position})
    db.execute("VACUUM")
    db.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
