"""A run: one crawl, import or reparse of the archive, from its ``runs`` row to its counts and dropped pages.

Every job stores what it read through one ``Run``: ``record`` takes the Outcome of one response with the captures
it came through and, in one transaction, saves the captures, stores the article (validate → normalise → version
and store → search index) or records why there is none, and counts the outcome by its kind. So the same bytes
give the same rows whichever job read them, and the counts, the ``runs`` row and the ``dropped`` table are kept
in one place.

A run's row says ``running`` until ``finish`` writes its counts. A process killed mid-run cannot write it; the
next run to find no other run holding the archive's lock (``pipelines.lock``) closes such rows as
``interrupted``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from sqlite_utils import Database

from .errors import Dropped
from .health import check_run, health_lines, record_health
from .item import Capture, Kind, Outcome
from .lock import archive_lock
from .normalise import normalise
from .schema import check_archive, open_archive, storage_error
from .store import Stored, adopt_alias, save_capture, seen_range, store_article, update, write_transaction
from .stories import link_unsigned
from .times import utc_now
from .validate import validate


class Job(StrEnum):
    """What a run is, as the ``runs`` table and the archive's lock name it."""

    CRAWL = "crawl"
    IMPORT = "import"
    REPARSE = "reparse"


class Status(StrEnum):
    """A run's state in the ``runs`` table."""

    RUNNING = "running"
    OK = "ok"
    ERRORS = "errors"  # finished, but some pages failed or some files were damaged
    REFUSING = "refusing"  # stopped early: the site kept refusing (rate limits, block pages)
    MAX_ARTICLES = "max-articles"  # stopped early: --max-articles reached
    MAX_REQUESTS = "max-requests"  # stopped early: --max-requests reached
    UNREACHABLE = "unreachable"  # stopped early: no answer from the site (name lookup, connection, timeout)
    ABORTED = "aborted"  # stopped by an error the run could not go on after (a full disk, Ctrl-C)
    INTERRUPTED = "interrupted"  # the process died mid-run; closed by a later run


# The summary line: always the first four, then whatever happened.
_ALWAYS = ("new", "updated", "unchanged", "failed")
_LABELS = {"listing": "listing pages", "article_part": "later pages of articles", "dropped": "dropped by validation",
           "block_page": "block pages", "error_page": "error pages", "no_article": "not an article",
           "not_html": "not HTML", "redirect": "redirects", "gone": "gone", "http_error": "HTTP errors",
           "skipped": "skipped", "retried": "retried", "robots": "disallowed by robots.txt",
           "deferred": "listing pages left for the next run"}


@dataclass
class Counts:
    """How many responses of each outcome a run saw (articles split by what storing them did)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0  # responses that could not be read, and (the crawl) requests that gave none
    dropped: int = 0  # articles that failed validation
    listing: int = 0
    block_page: int = 0
    error_page: int = 0
    no_article: int = 0
    not_html: int = 0
    redirect: int = 0
    gone: int = 0
    http_error: int = 0
    article_part: int = 0  # later pages of long articles, read on their own (an import's records)
    skipped: int = 0  # revisit records of pages the archive does not hold
    retried: int = 0  # requests repeated after an error (the crawl)
    requests: int = 0  # requests sent (the crawl)
    robots: int = 0  # URLs robots.txt disallowed (the crawl)
    deferred: int = 0  # listing pages a bound left for the next run (the crawl)

    def add(self, what: Kind | Stored) -> None:
        """One more of an outcome's kind, or of what storing an article did."""
        name = what.value.replace("-", "_")
        setattr(self, name, getattr(self, name) + 1)

    @property
    def articles(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def not_article(self) -> int:
        return self.block_page + self.error_page + self.no_article

    def summary(self) -> str:
        parts = [f"{name} {getattr(self, name)}" for name in _ALWAYS]
        parts += [f"{label} {getattr(self, name)}" for name, label in _LABELS.items() if getattr(self, name)]
        return ", ".join(parts)


@dataclass
class RunResult:
    """What a finished run tells its command: counts, problems, why it stopped early, and its health."""

    run_id: int
    counts: Counts
    errors: list[str] = field(default_factory=list)  # one line each: damaged files, pages that failed for good
    stopped: Status | None = None  # why the run stopped early (REFUSING, UNREACHABLE, MAX_ARTICLES …)
    health: list[str] = field(default_factory=list)  # the health lines (pipelines.health)
    drift: bool = False
    notes: list[str] = field(default_factory=list)  # one line each: a bound that was reached, what it left
    reason: str | None = None  # in words, why the run stopped early (also in the runs row's error)

    @property
    def exit_code(self) -> int:
        """0 done, 1 a page failed or a file was damaged (each an error line), 3 the site kept refusing, 4 template
        drift, 5 the site could not be reached."""
        if self.stopped is Status.REFUSING:
            return 3
        if self.stopped is Status.UNREACHABLE:
            return 5
        if self.drift:
            return 4
        return 1 if self.errors else 0


@contextmanager
def open_run(db_path: str | os.PathLike, job: Job, inputs: list[str], *, software: str, parser_version: str,
             create: bool = True, init: bool = False) -> Iterator[Run]:
    """What every job does around its work: open (or create) the archive, take the archive's lock and start a run;
    if the work fails, record the run as aborted and report SQLite's error as one line (``StorageError``). The job
    ends with ``run.finish()`` inside the block. ``create`` and ``init`` say which files may become an archive
    (``pipelines.schema.check_archive``); any other is refused before anything is written or made beside it."""
    check_archive(db_path, create=create, init=init)
    db = open_archive(db_path, create=create, init=init)
    try:
        with ExitStack() as held:
            with write_transaction(db):  # runs start one at a time (pipelines.lock)
                alone = held.enter_context(archive_lock(db_path, job, alone=job in _ALONE,
                                                        one_at_a_time=job in _ONE_AT_A_TIME))
                run = Run.start(db, job, inputs, software=software, parser_version=parser_version,
                                close_interrupted=alone)
            try:
                link_unsigned(db)  # articles stored before stories existed: once, in batches, resumable
                yield run
            except BaseException as exc:
                run.abort(exc)
                raise
    except sqlite3.Error as exc:  # mid-run: a full disk, the database made read-only, a writer that never let go
        raise storage_error(exc, str(db_path)) from exc
    finally:
        with suppress(sqlite3.Error):
            db.close()


# A reparse rebuilds every article from what is stored: nothing else may write meanwhile. Crawls and imports share
# the archive, but two crawls would walk one frontier (pipelines.lock).
_ALONE = {Job.REPARSE}
_ONE_AT_A_TIME = {Job.CRAWL}


class Run:
    """One job's run. Make it with ``open_run``."""

    def __init__(self, db: Database, run_id: int | None, job: Job | None):
        self.db = db
        self.id = run_id  # None: records without a runs row (tests, benchmarks)
        self.job = job
        self.counts = Counts()
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.health: list[str] = []
        self.drift = False

    @classmethod
    def start(cls, db: Database, job: Job, inputs: list[str], *, software: str, parser_version: str,
              close_interrupted: bool = False) -> Run:
        """A ``runs`` row, open until ``finish``. ``close_interrupted`` (no other run holds the archive): rows still
        ``running`` were left by a killed process, and are closed as interrupted."""
        with write_transaction(db):
            run_id = db["runs"].insert({
                "kind": job.value, "started_at": utc_now(), "status": Status.RUNNING.value,
                "inputs": json.dumps(inputs, ensure_ascii=False),
                "scraper_version": software, "parser_version": parser_version,
            }).last_pk
            if close_interrupted:
                db.execute(
                    "UPDATE runs SET status = ?, error = coalesce(error || char(10), '') || ? "
                    "WHERE status = ? AND id != ?",
                    [Status.INTERRUPTED.value, f"the process ended before the run did (killed?); closed by run "
                     f"{run_id}", Status.RUNNING.value, run_id])
        return cls(db, run_id, job)

    # -- what one response gave ------------------------------------------------------------------------------
    def save_captures(self, captures: list[Capture]) -> list[int]:
        """Capture rows for records that are not a page to read (robots.txt, the hops of a redirect that was not
        followed); their ids, also set on each Capture. A redirect among them is counted."""
        self.counts.redirect += sum(1 for c in captures if _is_redirect(c))
        return self._save(captures)

    def _save(self, captures: list[Capture]) -> list[int]:
        for capture in captures:
            capture.id = save_capture(self.db, capture, self.id)
        return [c.id for c in captures]

    def record(self, outcome: Outcome, captures: list[Capture]) -> Stored | None:
        """Save the captures and store what the last of them gave, in one transaction; count it by its kind.

        Returns what storing the article did (None when there was no article to store, or it was dropped).
        """
        with write_transaction(self.db):
            self._save(captures)
            self.counts.redirect += sum(1 for c in captures[:-1] if _is_redirect(c))  # the hops before it
            capture = captures[-1] if captures else None
            stored = None
            if outcome.kind is Kind.ARTICLE:
                stored = self._store(outcome, capture)
            elif outcome.kind is Kind.GONE and capture is not None:
                mark_gone(self.db, outcome.url or capture.url, capture)
                self.counts.add(outcome.kind)
            else:
                if outcome.kind.is_dropped:
                    url = outcome.url or (capture.url if capture else "")
                    self._drop(url, capture, outcome.kind.value, outcome.reason)
                self.counts.add(outcome.kind)
        return stored

    def _store(self, outcome: Outcome, capture: Capture | None) -> Stored | None:
        try:
            article = normalise(validate(outcome.article))
        except Dropped as exc:
            self._drop(outcome.article.url, capture, "validate", exc.reason)
            self.counts.dropped += 1
            return None
        adopt_alias(self.db, article, outcome.aliases)
        if outcome.partial and self.db.execute("SELECT 1 FROM articles WHERE url = ?", [article.url]).fetchone():
            # Part of a long article (a later page could not be had this time) never replaces what is stored.
            self.counts.add(Stored.UNCHANGED)
            return Stored.UNCHANGED
        stored = store_article(self.db, article, capture.id if capture else None, capture.fetched_at if capture
                               else None)
        back_again(self.db, article.url, capture.fetched_at if capture else None)
        self.counts.add(stored)
        return stored

    def _drop(self, url: str, capture: Capture | None, stage: str, reason: str) -> None:
        self.db["dropped"].insert({"run_id": self.id, "url": url, "capture_id": capture.id if capture else None,
                                   "stage": stage, "reason": reason})

    def record_revisit(self, capture: Capture) -> bool:
        """A revisit record (or a 304) for the article whose current capture holds the same payload: the text was
        still there, so the article was seen then. False when no such article is held (the capture is kept all
        the same: the WARC holds it)."""
        with write_transaction(self.db):  # the article read under the write lock: another job may be storing it
            row = self.db.execute(
                "SELECT a.id, a.first_seen, a.last_seen, a.url FROM articles a JOIN captures c "
                "ON c.id = a.capture_id WHERE c.payload_digest = ? AND c.url = ?",
                [capture.payload_digest, capture.url]).fetchone()
            self._save([capture])
            if row is not None:
                update(self.db, row[0], seen_range({"first_seen": row[1], "last_seen": row[2]}, capture.fetched_at))
                back_again(self.db, row[3], capture.fetched_at)
        if row is None:
            self.counts.skipped += 1
            return False
        self.counts.add(Stored.UNCHANGED)
        return True

    def record_failure(self, captures: list[Capture] = ()) -> None:
        """A request that gave no page to read (a timeout, a refused connection, too many redirects): its hops are
        kept, and it counts as failed. Nothing goes into ``dropped``, which holds pages that were read: the WARC
        holds no page here, and the crawl's frontier says why and when it is tried again."""
        with write_transaction(self.db):
            self.save_captures(list(captures))
        self.counts.failed += 1

    def note_error(self, line: str) -> None:
        """A problem to tell the user about at the end (a damaged file, a page that failed)."""
        self.errors.append(line)

    def note(self, line: str) -> None:
        """Something to tell the user at the end that is no error (a bound was reached, work left for later)."""
        self.notes.append(line)

    # -- the end ---------------------------------------------------------------------------------------------
    def check_health(self) -> None:
        report = check_run(self.db, self.id)
        record_health(self.db, self.id, report)
        self.health = health_lines(report)
        self.drift = any(col.drifts for col in report)

    def finish(self, stopped: Status | None = None, reason: str | None = None) -> RunResult:
        """Write the run's end; ``reason`` says in words why it stopped early (kept in the row's error)."""
        status = stopped or (Status.ERRORS if self.errors else Status.OK)  # as the exit code: 1 with an error line
        self._write_end(status, "\n".join([*([reason] if reason else []), *self.errors]) or None)
        return RunResult(self.id, self.counts, self.errors, stopped, self.health, self.drift, self.notes, reason)

    def abort(self, exc: BaseException) -> None:
        """Record the run as aborted if the database still can; the first error is the one to report."""
        with suppress(sqlite3.Error):
            self._write_end(Status.ABORTED, "\n".join([f"{type(exc).__name__}: {exc}", *self.errors]))

    def _write_end(self, status: Status, error: str | None) -> None:
        c = self.counts
        with write_transaction(self.db):
            self.db["runs"].update(self.id, {
                "finished_at": utc_now(), "status": status.value, "new": c.new, "updated": c.updated,
                "unchanged": c.unchanged, "not_article": c.not_article, "dropped": c.dropped, "failed": c.failed,
                "skipped": c.not_html + c.redirect + c.skipped, "error": error, "counts": json.dumps(asdict(c)),
            })


def _is_redirect(capture: Capture) -> bool:
    return capture.status is not None and 300 <= capture.status < 400 and capture.status != 304


def mark_gone(db: Database, url: str, capture: Capture) -> None:
    """The site answered 404/410 for the article at ``url``: say so and keep everything stored. An answer older
    than the article's last sighting (an old WARC imported late) changes nothing."""
    db.execute("UPDATE articles SET gone_at = coalesce(gone_at, ?), gone_status = ? "
               "WHERE url = ? AND (last_seen IS NULL OR last_seen <= ?)",
               [capture.fetched_at, capture.status, url, capture.fetched_at or ""])


def back_again(db: Database, url: str, seen_at: str | None) -> None:
    """An article marked gone answered again (a 404 during maintenance): it is no longer gone."""
    db.execute("UPDATE articles SET gone_at = NULL, gone_status = NULL "
               "WHERE url = ? AND gone_at IS NOT NULL AND gone_at <= ?", [url, seen_at or ""])
