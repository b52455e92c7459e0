"""Rebuild every article from its stored WARC capture, without the network (after a parser upgrade).

Each capture is read back (``pipelines.warc.read_record``), read by ``scraper.ingest.read_response`` and stored
by ``pipelines.run.Run.record``: the path a crawl and an import take. An article the parser no longer takes for
one is left as it is stored, and the page is recorded in ``dropped`` with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from pipelines.errors import WarcDamaged
from pipelines.item import Capture, Kind
from pipelines.run import Job, Run, RunResult, open_run
from pipelines.warc import capture_path, read_record

from . import PARSER_VERSION, __version__
from .ingest import read_response


def current_captures(db, batch: int = 500) -> Iterator[tuple[str, Capture]]:
    """(article URL, its current capture) for every article read from a WARC record, in keyset batches: memory
    stays flat."""
    last_id = 0
    while True:
        cursor = db.execute(
            "select a.id as article_id, a.url as article_url, c.* from articles a "
            "join captures c on c.id = a.capture_id "
            "where c.warc_file is not null and a.id > ? order by a.id limit ?", [last_id, batch])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if not rows:
            return
        last_id = rows[-1]["article_id"]
        for row in rows:
            yield row["article_url"], Capture.from_row(row)


def reparse_archive(db_path: str, warc_dir: str | os.PathLike,
                    progress: Callable[[int], None] | None = None) -> RunResult:
    """Reparse every article's current capture under the archive's lock; a ``runs`` row of kind reparse."""
    warc_dir = Path(warc_dir)
    with open_run(db_path, Job.REPARSE, [str(warc_dir)], software=__version__, parser_version=PARSER_VERSION,
                  create=False) as run:
        for url, capture in current_captures(run.db):
            reparse_one(run, url, capture, warc_dir)
            if progress:
                progress(1)
        return run.finish()


def reparse_one(run: Run, url: str, capture: Capture, warc_dir: Path) -> None:
    path = capture_path(warc_dir, capture.warc_file)
    try:
        record = read_record(path, capture.warc_offset)
    except (OSError, WarcDamaged) as exc:
        run.counts.failed += 1
        run.note_error(f"{url}: capture unreadable in {path}: {exc}")
        return
    if record.unread:  # the stored article is kept as it is
        run.counts.failed += 1
        run.note_error(f"{url}: capture in {path}: {record.unread}")
        return
    reading = read_response(record.exchange)
    if reading.kind is Kind.ARTICLE:
        reading.outcome.article.url = reading.outcome.url = url  # rebuilt in place, where it is stored
    run.record(reading.outcome, [capture])
    if reading.kind is Kind.FAILED:
        run.note_error(f"{url}: {reading.outcome.reason}")
