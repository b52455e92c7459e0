"""The crawl frontier, kept in archive.db so a killed crawl resumes where it stopped.

One row per URL the crawl knows: what kind of page it is, where it was found, its state, and when to try it
again (the table is made by the archive's schema migrations, pipelines/schema.py). Every state change is
committed together with whatever the fetch stored, so after a kill -9 a URL is either done (its article
stored) or still pending, never half of each.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from pipelines.item import Kind
from pipelines.times import utc_later, utc_now

TABLE = "frontier"
# What the crawl takes a URL for (the table holds the text): a listing to walk, or an article to store.
KINDS = (Kind.LISTING, Kind.ARTICLE)
MAX_ATTEMPTS = 5


class State(StrEnum):
    """A URL's state in the frontier (the text is what the table holds)."""

    PENDING = "pending"  # to fetch
    DONE = "done"  # fetched and handled
    FAILED = "failed"  # gave up after MAX_ATTEMPTS tries
    GONE = "gone"  # 404/410
    ROBOTS = "robots"  # disallowed by robots.txt
    NOT_ARTICLE = "not-article"  # fetched, but no article on it
    OUT_OF_SCOPE = "out-of-scope"  # redirected away from the crawl's host and path


@dataclass
class Item:
    url: str
    kind: Kind  # LISTING or ARTICLE
    attempts: int
    found_on: str | None
    etag: str | None
    last_modified: str | None
    conditional: bool
    state_before: str | None  # the state this URL had when the run queued it again (None: never fetched)


def state_of(db: Database, url: str) -> str | None:
    row = db.execute(f"select state from {TABLE} where url = ?", [url]).fetchone()
    return row[0] if row else None


def add(db: Database, url: str, kind: Kind, found_on: str | None = None, title: str | None = None,
        run_id: int | None = None) -> bool:
    """Add a newly discovered URL as pending; returns False (and changes nothing) when it is already known."""
    cursor = db.execute(
        f"insert or ignore into {TABLE} (url, kind, state, attempts, found_on, title_hint, discovered_at, "
        "discovered_run) values (?, ?, 'pending', 0, ?, ?, ?, ?)",
        [url, kind.value, found_on, title, utc_now(), run_id])
    return cursor.rowcount == 1


def known_before(db: Database, url: str, run_id: int) -> str | None:
    """The state of a URL this run did not discover (None: unknown, or first seen in this run)."""
    row = db.execute(f"select state, discovered_run from {TABLE} where url = ?", [url]).fetchone()
    return row[0] if row and row[1] != run_id else None


def queue_again(db: Database, url: str, kind: Kind, run_id: int, conditional: bool = False,
                found_on: str | None = None) -> None:
    """Queue a URL for this run whatever its state (a start URL, a listing page, a recent article)."""
    add(db, url, kind, found_on)
    db.execute(
        f"update {TABLE} set state_before = case when queued_run = ? then state_before else state end, "
        "state = 'pending', next_try = null, conditional = ?, queued_run = ?, attempts = 0 where url = ?",
        [run_id, int(conditional), run_id, url])


def queue_once(db: Database, url: str, kind: Kind, run_id: int, found_on: str | None = None) -> None:
    """Queue a URL for this run unless this run already queued it (listings link to each other in circles)."""
    row = db.execute(f"select queued_run from {TABLE} where url = ?", [url]).fetchone()
    if row is None or row[0] != run_id:
        queue_again(db, url, kind, run_id, found_on=found_on)


def next_due(db: Database, kinds: tuple[Kind, ...] = KINDS, skip: Collection[str] = ()) -> Item | None:
    """The next pending URL whose retry time has come (none of ``skip``): articles to fetch before listings, and
    rechecks of stored articles (conditional GETs) last, each in discovery order. So the articles a listing page
    gave are fetched before the next listing page, and a run always makes progress, even on a site whose listings
    never end; and rechecks never crowd out the listings that find new articles (with --max-requests, say).

    One indexed query per pick (frontier(state, kind) keeps rowid order), so a pick costs the same with
    ten pending URLs or a hundred thousand.
    """
    marks = ", ".join("?" * len(skip))
    skipped = f"and url not in ({marks}) " if skip else ""
    order = [(Kind.ARTICLE, 0), (Kind.LISTING, 0), (Kind.ARTICLE, 1)]
    for kind, conditional in (pick for pick in order if pick[0] in kinds):
        row = db.execute(
            f"select url, kind, attempts, found_on, etag, last_modified, conditional, state_before from {TABLE} "
            "indexed by frontier_state_kind where state = 'pending' and kind = ? and coalesce(conditional, 0) = ? "
            f"and (next_try is null or next_try <= ?) {skipped}order by rowid limit 1",
            [kind.value, conditional, utc_now(), *skip]).fetchone()
        if row:
            return Item(row[0], Kind(row[1]), *row[2:6], bool(row[6]), row[7])
    return None


def pending(db: Database, kind: Kind) -> int:
    """How many URLs of a kind wait in the frontier (for a later run, once this one stops)."""
    return db.execute(f"select count(*) from {TABLE} indexed by frontier_state_kind where state = 'pending' "
                      "and kind = ?", [kind.value]).fetchone()[0]


def mark(db: Database, url: str, state: State, error: str | None = None, etag: str | None = None,
         last_modified: str | None = None) -> None:
    state = State(state)  # ValueError for a state the frontier does not know
    db.execute(
        f"update {TABLE} set state = ?, last_error = ?, fetched_at = ?, next_try = null, conditional = 0, "
        "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) where url = ?",
        [state.value, error, utc_now(), etag, last_modified, url])


def postpone(db: Database, url: str, error: str, attempts: int, base_seconds: float = 60.0) -> State:
    """Record a failed try; the URL is tried again later (exponential), or marked failed after MAX_ATTEMPTS."""
    attempts += 1
    if attempts >= MAX_ATTEMPTS:
        db.execute(f"update {TABLE} set state = 'failed', attempts = ?, last_error = ?, next_try = null "
                   "where url = ?", [attempts, error, url])
        return State.FAILED
    next_try = utc_later(base_seconds * 2 ** (attempts - 1))
    db.execute(f"update {TABLE} set state = 'pending', attempts = ?, last_error = ?, next_try = ? where url = ?",
               [attempts, error, next_try, url])
    return State.PENDING
