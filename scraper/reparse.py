"""Rebuild every article from its stored WARC capture, without the network (after a parser upgrade).

Each capture is read back (``pipelines.warc.read_record``), read by ``scraper.ingest.read_response`` and stored
by ``pipelines.run.Run.record``: the path a crawl and an import take. An article the parser no longer takes for
one is left as it is stored, and the page is recorded in ``dropped`` with the reason. Pages the archive holds no
article for (dropped by validation, or not taken for an article) are read again from their last capture too: after
a parser fix they come back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from pipelines.errors import WarcDamaged
from pipelines.item import Capture, Kind
from pipelines.run import Job, Run, RunResult, open_run
from pipelines.store import write_transaction
from pipelines.warc import capture_path, read_record

from . import PARSER_VERSION, __version__, frontier
from .frontier import State
from .ingest import read_response
from .multipage import PageSource, stored_pages
from .rules import SiteRules


def current_captures(db) -> Iterator[tuple[str, Capture]]:
    """(article URL, its current capture) for every article read from a WARC record."""
    return _keyset(db, "select a.id as key, a.url as page_url, c.* from articles a join captures c on c.id = "
                       "a.capture_id where c.warc_file is not null and a.id > ? order by a.id limit ?")


def unread_captures(db) -> Iterator[tuple[str, Capture]]:
    """(URL, its last capture) for every page with a 2xx body that was recorded in ``dropped`` and that the archive
    holds no article for."""
    return _keyset(db, "select d.id as key, d.url as page_url, c.* from dropped d join captures c on c.id = "
                       "d.capture_id where d.id > ? and c.warc_file is not null and c.status between 200 and 299 "
                       "and d.id = (select max(id) from dropped where url = d.url) "
                       "and not exists (select 1 from articles a where a.url = d.url) order by d.id limit ?")


def _keyset(db, sql: str, batch: int = 500) -> Iterator[tuple[str, Capture]]:
    """The rows of ``sql`` (which selects ``key``, ``page_url`` and a capture's columns, and takes the last key and
    a limit) in keyset batches: memory stays flat however large the archive."""
    last = 0
    while True:
        cursor = db.execute(sql, [last, batch])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if not rows:
            return
        last = rows[-1]["key"]
        for row in rows:
            yield row["page_url"], Capture.from_row(row)


def reparse_archive(db_path: str, warc_dir: str | os.PathLike,
                    progress: Callable[[int], None] | None = None, rules: SiteRules | None = None) -> RunResult:
    """Reparse every article's current capture under the archive's lock; a ``runs`` row of kind reparse."""
    warc_dir = Path(warc_dir)
    with open_run(db_path, Job.REPARSE, [str(warc_dir)], software=__version__, parser_version=PARSER_VERSION,
                  create=False) as run:
        pages = stored_pages(run.db, warc_dir)
        for url, capture in current_captures(run.db):
            reparse_one(run, url, capture, warc_dir, pages=pages, rules=rules)
            if progress:
                progress(1)
        # Listed first, then read: reading them adds rows to ``dropped``, which the listing walks.
        for url, capture in list(unread_captures(run.db)):
            reparse_one(run, url, capture, warc_dir, stored=False, pages=pages, rules=rules)
            if progress:
                progress(1)
        return run.finish()


def reparse_one(run: Run, url: str, capture: Capture, warc_dir: Path, stored: bool = True,
                pages: PageSource | None = None, rules: SiteRules | None = None) -> None:
    """Read one capture again; ``stored``: it is the current capture of the article at ``url``."""
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
    reading = read_response(record.exchange, pages=pages, rules=rules)
    if reading.kind is Kind.ARTICLE and stored:
        reading.outcome.article.url = reading.outcome.url = url  # rebuilt in place, where it is stored
    with write_transaction(run.db):
        stored_now = run.record(reading.outcome, [capture])
        if stored_now is not None and frontier.state_of(run.db, reading.outcome.url) == State.NOT_ARTICLE:
            # An article after all: the crawl now rechecks it like any other.
            frontier.mark(run.db, reading.outcome.url, State.DONE)
    if reading.kind is Kind.FAILED:
        run.note_error(f"{url}: {reading.outcome.reason}")
