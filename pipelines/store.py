"""Store: write one normalised Article, its capture, authors, images, history and search row.

Callers wrap each article in ``db.atomic()`` (``process_article`` in ``pipelines.importer`` does): a crash or a
full disk rolls the whole article back. Rows are updated in place, never deleted and re-inserted, so an
article's id (its rowid, which the search index points at) never changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlite_utils import Database

from scraper import PARSER_VERSION, __version__
from scraper.article import Article

from . import version
from .normalise import collection_and_column
from .search import index_article, unindex_article

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


@dataclass
class Capture:
    """Where a response came from: a WARC record (file, offset, length) or a saved HTML file."""

    record_id: str
    url: str
    fetched_at: str | None = None
    status: int | None = None
    content_type: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    saved_file: str | None = None


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_run(db: Database, kind: str, inputs: list[str]) -> int:
    """A ``runs`` row for an import or a crawl, open until its counts are written at the end."""
    with db.atomic():
        return db["runs"].insert({
            "kind": kind, "started_at": now(), "status": "running",
            "inputs": json.dumps(inputs, ensure_ascii=False),
            "scraper_version": __version__, "parser_version": PARSER_VERSION,
        }).last_pk


def save_capture(db: Database, capture: Capture, run_id: int | None) -> int:
    """The id of the capture row for this record, inserting it the first time it is seen."""
    row = db.execute("SELECT id FROM captures WHERE record_id = ?", [capture.record_id]).fetchone()
    if row:
        return row[0]
    values = {**capture.__dict__, "run_id": run_id}
    return db["captures"].insert(values).last_pk


def article_row(article: Article) -> dict:
    """The articles-table columns that come from the Article itself (not ids, times or capture)."""
    collection, column = collection_and_column(article.url, article.breadcrumb)
    return {
        "url": article.url,
        "title": article.title,
        "subtitle": article.subtitle,
        "published_at": article.published_at,
        "editor": article.editor,
        "body": article.body,
        "headings": json.dumps(article.headings, ensure_ascii=False),
        "breadcrumb": json.dumps(article.breadcrumb, ensure_ascii=False),
        "collection": collection,
        "column": column,
        "char_count": sum(len(p) for p in article.paragraphs),
        "paragraph_count": len(article.paragraphs),
        "site": article.site,
        "extractor": article.extractor,
        "encoding": article.encoding,
        "warnings": json.dumps(article.warnings, ensure_ascii=False),
        "field_rules": json.dumps(article.field_rules, ensure_ascii=False),
        "content_hash": version.content_hash(article),
        "parser_version": article.parser_version,
    }


def lookup_id(db: Database, table: str, name: str | None) -> int | None:
    if not name:
        return None
    row = db.execute(f"SELECT id FROM [{table}] WHERE name = ?", [name]).fetchone()
    return row[0] if row else db[table].insert({"name": name}).last_pk


def store_article(db: Database, article: Article, capture_id: int | None, fetched_at: str | None) -> str:
    """Insert or update the article at ``article.url``; returns NEW, UPDATED or UNCHANGED.

    The article must already be validated and normalised. Call inside a transaction.
    """
    row = article_row(article)
    row["source_id"] = lookup_id(db, "sources", article.source)
    cursor = db.execute(
        "SELECT a.*, c.fetched_at AS text_fetched_at FROM articles a LEFT JOIN captures c ON c.id = a.capture_id "
        "WHERE a.url = ?", [article.url]
    )
    found = cursor.fetchone()
    if found is None:
        row.update(first_seen=fetched_at, last_seen=fetched_at, capture_id=capture_id)
        article_id = db["articles"].insert(row).last_pk
        write_authors_images(db, article_id, article)
        index_article(db, article_id, article.title, article.subtitle, article.authors, article.body)
        return NEW
    current = dict(zip([d[0] for d in cursor.description], found, strict=True))
    article_id = current["id"]
    seen = seen_range(current, fetched_at)
    versions = {r[0] for r in db.execute(
        "SELECT content_hash FROM article_versions WHERE article_id = ?", [article_id])}
    decision = version.compare(current["content_hash"], current["text_fetched_at"], row["content_hash"],
                               fetched_at, versions)
    if decision == version.NEWER_TEXT:
        keep_version(db, current, replaced_at=fetched_at)
        row.update(seen, capture_id=capture_id)
        unindex_article(db, article_id)  # before the row changes: the index drops old tokens given the old text
        update(db, article_id, row)
        write_authors_images(db, article_id, article)
        index_article(db, article_id, article.title, article.subtitle, article.authors, article.body)
        return UPDATED
    if decision == version.OLDER_TEXT:
        db["article_versions"].insert({
            "article_id": article_id, "title": article.title, "subtitle": article.subtitle,
            "body": article.body, "headings": row["headings"], "content_hash": row["content_hash"],
            "parser_version": article.parser_version, "capture_id": capture_id, "first_seen": fetched_at,
            "replaced_at": current["text_fetched_at"] or current["first_seen"],
        })
        update(db, article_id, seen)
        return UPDATED
    if decision == version.KNOWN_TEXT:
        update(db, article_id, seen)
        return UNCHANGED
    # SAME_TEXT: refresh metadata (a newer parser may read more fields), but only from a capture at least as
    # recent as the one we hold, so that importing an old WARC never rolls fields back.
    changes = dict(seen)
    newer = (fetched_at or "") >= (current["text_fetched_at"] or "")
    differ = {k: v for k, v in row.items() if current.get(k) != v}
    refresh = newer and (bool(differ) or authors_images_differ(db, article_id, article))
    if refresh:
        changes.update(differ)
        unindex_article(db, article_id)  # before authors change (see above)
        write_authors_images(db, article_id, article)
        index_article(db, article_id, article.title, article.subtitle, article.authors, article.body)
    update(db, article_id, changes)
    return UPDATED if refresh else UNCHANGED


def seen_range(current: dict, fetched_at: str | None) -> dict:
    """first_seen/last_seen widened to include this capture: both come from capture times, not the clock, so
    re-importing the same files changes nothing."""
    if not fetched_at:
        return {}
    out = {}
    if not current["first_seen"] or fetched_at < current["first_seen"]:
        out["first_seen"] = fetched_at
    if not current["last_seen"] or fetched_at > current["last_seen"]:
        out["last_seen"] = fetched_at
    return out


def update(db: Database, article_id: int, changes: dict) -> None:
    if changes:
        db["articles"].update(article_id, changes)


def keep_version(db: Database, current: dict, replaced_at: str | None) -> None:
    db["article_versions"].insert({
        "article_id": current["id"], "title": current["title"], "subtitle": current["subtitle"],
        "body": current["body"], "headings": current["headings"], "content_hash": current["content_hash"],
        "parser_version": current["parser_version"], "capture_id": current["capture_id"],
        "first_seen": current["text_fetched_at"] or current["first_seen"], "replaced_at": replaced_at,
    })


def authors_images_differ(db: Database, article_id: int, article: Article) -> bool:
    authors = [r[0] for r in db.execute(
        "SELECT a.name FROM article_authors aa JOIN authors a ON a.id = aa.author_id WHERE aa.article_id = ? "
        "ORDER BY aa.position", [article_id])]
    images = [tuple(r) for r in db.execute(
        "SELECT url, caption FROM images WHERE article_id = ? ORDER BY position", [article_id])]
    return authors != article.authors or images != [(i.url, i.caption) for i in article.images]


def write_authors_images(db: Database, article_id: int, article: Article) -> None:
    # Join rows, not articles: replacing them keeps every article id stable.
    db.execute("DELETE FROM article_authors WHERE article_id = ?", [article_id])
    db.execute("DELETE FROM images WHERE article_id = ?", [article_id])
    for position, name in enumerate(article.authors):
        db.execute("INSERT INTO article_authors (article_id, author_id, position) VALUES (?, ?, ?)",
                   [article_id, lookup_id(db, "authors", name), position])
    for position, image in enumerate(article.images):
        db.execute("INSERT INTO images (article_id, position, url, caption) VALUES (?, ?, ?, ?)",
                   [article_id, position, image.url, image.caption])
