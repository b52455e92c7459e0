"""The crawl's side of the pipelines: captures, runs and articles from a live fetch, through the same steps as
an import (validate → normalise → version/store → search index)."""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlite_utils import Database

from scraper.article import Article
from scraper.warc import Capture as WarcCapture

from .errors import Dropped
from .normalise import normalise
from .store import Capture, now, save_capture, start_run  # noqa: F401 (start_run: the crawl's store)
from .store import store_article as store_normalised
from .validate import validate


def finish_run(db: Database, run_id: int, stats) -> None:
    counts = asdict(stats)
    with db.atomic():
        db["runs"].update(run_id, {
            "finished_at": now(), "status": counts.pop("stopped") or "ok",
            "new": counts["new"], "updated": counts["updated"], "unchanged": counts["unchanged"],
            "not_article": counts["not_article"], "failed": counts["failed"],
            "skipped": counts["robots_skipped"], "error": json.dumps(counts, ensure_ascii=False),
        })


def record_captures(db: Database, captures: list[WarcCapture], content_type: str | None,
                    run_id: int) -> list[int]:
    """A captures row for each WARC record written; the content type is the final response's."""
    ids = []
    for i, cap in enumerate(captures):
        ids.append(save_capture(db, Capture(
            record_id=cap.record_id, url=cap.url, fetched_at=cap.fetched_at, status=cap.status,
            content_type=content_type if i == len(captures) - 1 else None, payload_digest=cap.payload_digest,
            warc_file=cap.warc_file, warc_offset=cap.offset, warc_length=cap.length), run_id))
    return ids


def last_capture(db: Database, url: str) -> WarcCapture | None:
    """The response the stored article was read from: what an identical payload is a revisit of.

    Only a capture that gave the article counts. A block page or a broken body captured for the URL must never
    make the next identical block page look like "unchanged".
    """
    row = db.execute(
        "select c.url, c.warc_file, c.warc_offset, c.warc_length, c.record_id, c.payload_digest, c.fetched_at, "
        "c.status from articles a join captures c on c.id = a.capture_id "
        "where a.url = ? and c.status = 200 and c.warc_file is not null", [url]).fetchone()
    return WarcCapture(*row) if row else None


def touch_article(db: Database, url: str) -> None:
    db.execute("update articles set last_seen = ? where url = ?", [now(), url])
    back_again(db, url)


def store_article(db: Database, article: Article, capture_id: int, run_id: int) -> str:
    """validate → normalise → store (version, search index). Returns new, updated or unchanged."""
    fetched_at = db.execute("select fetched_at from captures where id = ?", [capture_id]).fetchone()[0]
    try:
        article = normalise(validate(article))
    except Dropped as exc:
        with db.atomic():
            db["dropped"].insert({"run_id": run_id, "url": article.url, "capture_id": capture_id,
                                  "stage": "validate", "reason": exc.reason})
        return "not_article"
    with db.atomic():
        outcome = store_normalised(db, article, capture_id, fetched_at)
        back_again(db, article.url)
        return outcome


def mark_gone(db: Database, url: str, status: int) -> None:
    """The site answers 404/410 for an article we hold: say so, keep everything stored."""
    if "gone_at" in db["articles"].columns_dict:
        db.execute("update articles set gone_at = coalesce(gone_at, ?), gone_status = ? where url = ?",
                   [now(), status, url])


def back_again(db: Database, url: str) -> None:
    """An article marked gone answered again (a 404 during maintenance): it is no longer gone."""
    if "gone_at" in db["articles"].columns_dict:
        db.execute("update articles set gone_at = null, gone_status = null where url = ? and gone_at is not null",
                   [url])
