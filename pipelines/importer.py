"""Import: read captures, parse each HTML response, run the article through the pipelines, count outcomes.

The steps, in order, each in its own module: ``validate`` → ``normalise`` → ``version`` and ``store`` →
``search`` (the index row). One transaction per article: its capture, row, authors, images, history and search
row are committed together or not at all.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

from sqlite_utils import Database

from scraper.article import Article
from scraper.errors import NotAnArticle

from .errors import Dropped, StorageError, WarcDamaged
from .normalise import normalise
from .schema import storage_error
from .store import NEW, UNCHANGED, UPDATED, Capture, now, save_capture, start_run, store_article
from .validate import validate
from .warc import Response, is_html, read_html_file, read_warc

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass
class Counts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    not_article: int = 0
    dropped: int = 0
    failed: int = 0
    skipped: int = 0   # records that are not HTML pages (images, CSS, redirects, revisits of unknown pages)

    def summary(self) -> str:
        return (f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.not_article} not an article, {self.dropped} dropped, {self.failed} failed; "
                f"{self.skipped} non-HTML records skipped")


@dataclass
class ImportResult:
    run_id: int
    counts: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)  # damaged files and pages that failed, one line each

    @property
    def ok(self) -> bool:
        return not self.errors


def is_warc(path: str) -> bool:
    return path.lower().endswith(WARC_SUFFIXES)


def import_files(db: Database, paths: Iterable[str], url: str | None = None, *, kind: str = "import",
                 progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import WARC files and saved HTML pages (``url`` is the address of the HTML ones) into an open archive.

    Records one row in ``runs``. Raises ``StorageError`` if the database cannot be written: the article being
    written is rolled back, the ones before it stay.
    """
    paths = list(paths)
    try:  # the files as absolute paths, as their captures name them
        result = ImportResult(run_id=start_run(db, kind, [os.path.abspath(p) for p in paths]))
    except sqlite3.Error as exc:
        raise storage_error(exc, db_path(db)) from exc
    try:
        for path in paths:
            responses = read_warc(path) if is_warc(path) else iter([read_html_file(path, url)])
            done = 0
            try:
                for response in responses:
                    process_response(db, response, result)
                    if progress:
                        progress(response.end_offset - done)
                    done = response.end_offset
            except WarcDamaged as exc:
                result.errors.append(str(exc))
            if progress:
                progress(max(os.path.getsize(path) - done, 0))
    except sqlite3.Error as exc:
        finish_run(db, result, status="aborted", error=str(exc))
        raise storage_error(exc, db_path(db)) from exc
    except BaseException as exc:
        finish_run(db, result, status="aborted", error=f"{type(exc).__name__}: {exc}")
        raise
    finish_run(db, result, status="ok" if result.ok else "errors")
    return result


def process_response(db: Database, response: Response, result: ImportResult) -> None:
    """One record: skip what is not an HTML page, parse the rest, store the article or record why not."""
    capture, counts = response.capture, result.counts
    if response.record_type == "revisit":
        if touch_revisit(db, capture, result.run_id):
            counts.unchanged += 1
        else:
            counts.skipped += 1
        return
    if capture.status is not None and not 200 <= capture.status < 300:
        counts.skipped += 1
        return
    if not is_html(capture.content_type, response.body):
        counts.skipped += 1
        return
    if not capture.url:
        counts.failed += 1
        result.errors.append(f"{capture.saved_file}: the page does not say its URL; give it with --url")
        return
    from scraper.parse import parse_article
    from scraper.polite import looks_blocked

    try:
        article = parse_article(response.body, capture.url, capture.content_type)
    except NotAnArticle as exc:
        counts.not_article += 1
        record_drop(db, capture, result.run_id, "parse", exc.reason)
        return
    except Exception as exc:  # a parser bug must not stop the import of the other pages
        counts.failed += 1
        reason = f"{type(exc).__name__}: {exc}"
        result.errors.append(f"{capture.url}: parsing failed: {reason}")
        record_drop(db, capture, result.run_id, "error", reason)
        return
    if sum(map(len, article.paragraphs)) < 300 and looks_blocked(response.body, capture.content_type):
        # A crawl's WARC keeps the block and captcha pages the site served: they are never articles.
        counts.not_article += 1
        record_drop(db, capture, result.run_id, "parse", "a block or captcha page, not the article")
        return
    try:
        outcome = process_article(db, article, capture, result.run_id)
    except Dropped as exc:
        counts.dropped += 1
        record_drop(db, capture, result.run_id, "validate", exc.reason)
        return
    setattr(counts, outcome, getattr(counts, outcome) + 1)


def process_article(db: Database, article: Article, capture: Capture, run_id: int | None) -> str:
    """The pipelines for one parsed article, in one transaction. Returns ``new``, ``updated`` or ``unchanged``."""
    article = normalise(validate(article))
    with db.atomic():
        capture_id = save_capture(db, capture, run_id)
        outcome = store_article(db, article, capture_id, capture.fetched_at)
    assert outcome in (NEW, UPDATED, UNCHANGED)
    return outcome


def record_drop(db: Database, capture: Capture, run_id: int | None, stage: str, reason: str) -> None:
    with db.atomic():
        capture_id = save_capture(db, capture, run_id) if capture.record_id else None
        db["dropped"].insert({"run_id": run_id, "url": capture.url, "capture_id": capture_id,
                              "stage": stage, "reason": reason})


def touch_revisit(db: Database, capture: Capture, run_id: int | None) -> bool:
    """A revisit says the page is byte-identical to an earlier capture: the article's text was still there."""
    if not capture.payload_digest or not capture.fetched_at:
        return False
    row = db.execute(
        "SELECT a.id, a.first_seen, a.last_seen FROM articles a JOIN captures c ON c.id = a.capture_id "
        "WHERE c.payload_digest = ? AND c.url = ?", [capture.payload_digest, capture.url]
    ).fetchone()
    if row is None:
        return False
    with db.atomic():
        save_capture(db, capture, run_id)
        changes = {}
        if not row[1] or capture.fetched_at < row[1]:
            changes["first_seen"] = capture.fetched_at
        if not row[2] or capture.fetched_at > row[2]:
            changes["last_seen"] = capture.fetched_at
        if changes:
            db["articles"].update(row[0], changes)
    return True


def finish_run(db: Database, result: ImportResult, status: str, error: str | None = None) -> None:
    counts = {f.name: getattr(result.counts, f.name) for f in fields(Counts)}
    errors = "\n".join(([error] if error else []) + result.errors) or None
    try:
        with db.atomic():
            db["runs"].update(result.run_id, {**counts, "finished_at": now(), "status": status, "error": errors})
    except sqlite3.Error as exc:
        if status == "aborted":
            return  # the database already failed; the original error is the one to report
        raise storage_error(exc, db_path(db)) from exc


def db_path(db: Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else "the database"


__all__ = ["Counts", "ImportResult", "StorageError", "import_files", "process_article", "process_response"]
