"""Rebuild every article from its stored WARC capture, without the network (after a parser upgrade)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import NotAnArticle
from .parse import parse_article
from .urls import canonicalize_url
from .warc import capture_path, read_response


@dataclass
class ReparseStats:
    updated: int = 0
    unchanged: int = 0
    not_article: int = 0
    missing: int = 0  # captures whose WARC file is gone
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"updated {self.updated}, unchanged {self.unchanged}, not an article {self.not_article}, "
                f"capture missing {self.missing}")


def _current_captures(db, batch: int = 500):
    """(url, capture fields…) of every article's current capture, read in keyset batches: memory stays flat."""
    last_id = 0
    while True:
        rows = db.execute(
            "select a.id, a.url, c.record_id, c.url, c.fetched_at, c.status, c.content_type, c.payload_digest, "
            "c.warc_file, c.warc_offset, c.warc_length from articles a join captures c on c.id = a.capture_id "
            "where c.warc_file is not null and a.id > ? order by a.id limit ?", [last_id, batch]).fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        for row in rows:
            yield row[1:]


def reparse_archive(db, warc_dir: str | os.PathLike, progress: Callable[[int], None] | None = None) -> ReparseStats:
    from pipelines.importer import process_article
    from pipelines.store import Capture

    warc_dir = Path(warc_dir)
    stats = ReparseStats()
    for url, *cap in _current_captures(db):
        capture = Capture(*cap)
        path = capture_path(warc_dir, capture.warc_file)
        try:
            _, http_headers, body = read_response(path, capture.warc_offset)
        except (OSError, StopIteration) as exc:
            stats.missing += 1
            stats.errors.append(f"{url}: capture unreadable in {path}: {exc}")
            continue
        content_type = http_headers.get_header("Content-Type") if http_headers else capture.content_type
        try:
            article = parse_article(body, capture.url, content_type)
        except NotAnArticle:
            stats.not_article += 1
            continue
        article.url = canonicalize_url(url)
        outcome = process_article(db, article, capture, None)
        if outcome == "unchanged":
            stats.unchanged += 1
        else:
            stats.updated += 1
        if progress:
            progress(1)
    return stats
