"""Store: write one validated, normalised Article with its authors, images, history and search row.

``pipelines.run.Run`` calls these inside one transaction per response (``write_transaction``): a crash or a full
disk rolls the whole article back. Rows are updated in place, never deleted and re-inserted, so an article's id
(its rowid, which the search index points at) never changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

from sqlite_utils import Database

from .item import Article, Capture
from .search import index_article, unindex_article
from .stories import link_article, refresh_story
from .version import Decision, compare, content_hash


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes SQLite's write lock as it begins (``BEGIN IMMEDIATE``); inside another, a savepoint.

    Every write to the archive goes through one, because a crawl, imports and Datasette share the file. Only a
    transaction that has read nothing yet can wait for another writer (the connection's busy timeout): in WAL mode a
    deferred ``BEGIN`` that reads and then writes gets SQLITE_BUSY at once if another connection holds the write
    lock (waiting could not help: its reads may already be out of date). Django's ``transaction_mode`` option for
    SQLite is there for the same reason.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()  # a no-op if the error already ended the transaction: the first error is the one raised
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


class Stored(Enum):
    """What storing an article did to the archive."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def save_capture(db: Database, capture: Capture, run_id: int | None) -> int:
    """The id of the capture row for this record, inserting it the first time it is seen."""
    row = db.execute("SELECT id FROM captures WHERE record_id = ?", [capture.record_id]).fetchone()
    if row:
        return row[0]
    return db["captures"].insert({**capture.row(), "run_id": run_id}).last_pk


def article_row(article: Article) -> dict:
    """The articles-table columns that come from the Article itself (not ids, times or capture)."""
    return {
        "url": article.url,
        "title": article.title,
        "subtitle": article.subtitle,
        "published_at": article.published_at,
        # The names again beside the title, for the table view; article_authors stays the list to query.
        "authors": "、".join(article.authors) or None,
        "editor": article.editor,
        "body": article.body,
        "headings": json.dumps(article.headings, ensure_ascii=False),
        "breadcrumb": json.dumps(article.breadcrumb, ensure_ascii=False),
        "collection": article.collection,
        "column": article.column,
        "char_count": sum(len(p) for p in article.paragraphs),
        "paragraph_count": len(article.paragraphs),
        "site": article.site,
        "extractor": article.extractor,
        "encoding": article.encoding,
        "warnings": json.dumps(article.warnings, ensure_ascii=False),
        "field_rules": json.dumps(article.field_rules, ensure_ascii=False),
        "content_hash": content_hash(article),
        "parser_version": article.parser_version,
    }


def lookup_id(db: Database, table: str, name: str | None) -> int | None:
    if not name:
        return None
    row = db.execute(f"SELECT id FROM [{table}] WHERE name = ?", [name]).fetchone()
    return row[0] if row else db[table].insert({"name": name}).last_pk


def store_article(db: Database, article: Article, capture_id: int | None, fetched_at: str | None) -> Stored:
    """Insert or update the article at ``article.url``; returns what that did.

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
        link_article(db, article_id, article.body)
        return Stored.NEW
    current = dict(zip([d[0] for d in cursor.description], found, strict=True))
    article_id = current["id"]
    seen = seen_range(current, fetched_at)
    versions = {r[0] for r in db.execute(
        "SELECT content_hash FROM article_versions WHERE article_id = ?", [article_id])}
    decision = compare(current["content_hash"], current["text_fetched_at"], row["content_hash"],
                               fetched_at, versions)
    if decision == Decision.NEWER_TEXT:
        keep_version(db, current, replaced_at=fetched_at)
        row.update(seen, capture_id=capture_id)
        unindex_article(db, article_id)  # before the row changes: the index drops old tokens given the old text
        update(db, article_id, row)
        write_authors_images(db, article_id, article)
        index_article(db, article_id, article.title, article.subtitle, article.authors, article.body)
        link_article(db, article_id, article.body)  # signed again: it may join, or leave, a story
        return Stored.UPDATED
    if decision == Decision.OLDER_TEXT:
        db["article_versions"].insert({
            "article_id": article_id, "title": article.title, "subtitle": article.subtitle,
            "body": article.body, "headings": row["headings"], "content_hash": row["content_hash"],
            "parser_version": article.parser_version, "capture_id": capture_id, "first_seen": fetched_at,
            "replaced_at": current["text_fetched_at"] or current["first_seen"],
        })
        update(db, article_id, seen)
        return Stored.UPDATED
    if decision == Decision.KNOWN_TEXT:
        update(db, article_id, seen)
        return Stored.UNCHANGED
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
    if refresh and current["story_id"] is not None and ("title" in differ or "published_at" in differ):
        refresh_story(db, current["story_id"])  # the story's title and date are its earliest copy's
    return Stored.UPDATED if refresh else Stored.UNCHANGED


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


def adopt_alias(db: Database, article: Article, aliases: list[str]) -> bool:
    """Move the article stored under one of ``aliases`` (a URL that now redirects for good to ``article.url``) to
    ``article.url``, with its versions and history: one article, not two. Nothing moves when ``article.url``
    already holds one, or when the stored article has another title (then they are two articles, and the site
    moved one onto the other's address). Returns whether an article moved. Call inside a transaction."""
    url = article.url
    if not aliases or db.execute("SELECT 1 FROM articles WHERE url = ?", [url]).fetchone():
        return False
    for alias in aliases:
        row = db.execute("SELECT id FROM articles WHERE url = ? AND title IS ?", [alias, article.title]).fetchone()
        if row:
            db.execute("UPDATE articles SET url = ? WHERE id = ?", [url, row[0]])
            return True
    return False


def current_capture(db: Database, url: str) -> Capture | None:
    """The response the stored article at ``url`` was read from: what an identical payload is a revisit of.

    Only a capture that gave the article counts. A block page or a broken body captured for the URL must never
    make the next identical block page look unchanged.
    """
    cursor = db.execute(
        "SELECT c.* FROM articles a JOIN captures c ON c.id = a.capture_id "
        "WHERE a.url = ? AND c.status = 200 AND c.warc_file IS NOT NULL", [url])
    row = cursor.fetchone()
    return Capture.from_row(dict(zip([d[0] for d in cursor.description], row, strict=True))) if row else None
