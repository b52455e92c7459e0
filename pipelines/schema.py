"""The archive's schema and ``open_archive``: open, upgrade in place, or refuse.

The steps are in ``pipelines.migrations`` (frozen once released). A fresh database runs every step in order; an
older one runs the steps it lacks, each in its own transaction. A database with steps this release does not know
came from a newer one and is refused (``SchemaTooNew``) rather than written with a schema we do not understand.

The search index is the one thing built from today's code: after the steps, ``open_archive`` rebuilds it once
when the version it was built with (``archive_meta``) is not ``pipelines.search.SEARCH_TEXT_VERSION``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from enum import StrEnum
from pathlib import Path

from sqlite_utils import Database

from .errors import NotAnArchive, SchemaTooNew, StorageError
from .migrations import MIGRATION_SET, migrations
from .search import SEARCH_TEXT_VERSION, rebuild_index
from .store import write_transaction

# Seconds a write transaction waits for another writer before giving up with "database is locked". A crawl and
# imports each hold the write lock for one page at a time (milliseconds); only a schema upgrade or a search index
# rebuild holds it longer.
BUSY_TIMEOUT = 5.0


def schema_version(db: Database) -> list[str]:
    """The migrations applied to this database, oldest first."""
    return [m.name for m in migrations.applied(db)]


def known_migrations() -> list[str]:
    return [m.name for m in migrations._migrations]


class DatabaseKind(StrEnum):
    """What a database file holds, as far as the archive is concerned (``database_kind``)."""

    ARCHIVE = "archive"  # this project's schema steps are recorded in it
    EMPTY = "empty"  # nothing yet: a new file, free to become an archive
    OTHER = "other"  # another application's tables


def database_kind(conn: sqlite3.Connection) -> DatabaseKind:
    """Whether a database is an archive: the one test every command and the browse plugins ask.

    An archive is a database whose ``_sqlite_migrations`` table records this project's migration set (every
    release has kept it there since the first). Table names alone do not tell: ``articles`` with an ``articles_fts``
    search index is what sqlite-utils makes of any blog's database. Raises ``sqlite3.DatabaseError`` for a file
    that is no SQLite database.
    """
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if migrations.migrations_table in names and conn.execute(
            f"SELECT 1 FROM [{migrations.migrations_table}] WHERE migration_set = ? LIMIT 1",
            [MIGRATION_SET]).fetchone():
        return DatabaseKind.ARCHIVE
    # An application that claimed the file with an id or a version, but made no table yet, owns it all the same.
    claimed = conn.execute("PRAGMA application_id").fetchone()[0] or conn.execute("PRAGMA user_version").fetchone()[0]
    return DatabaseKind.OTHER if names or claimed else DatabaseKind.EMPTY


def is_archive(conn: sqlite3.Connection) -> bool:
    return database_kind(conn) is DatabaseKind.ARCHIVE


def connect_readonly(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection that can never write, nor create the file: for reading and for deciding what a file is. The
    path goes into a ``file:`` URI quoted, so a name with ``#``, ``?`` or ``%`` is that file and no other."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT)


def check_archive(path: str | os.PathLike, *, create: bool = True, init: bool = False) -> None:
    """Refuse, before anything is written (or any lock file made beside it), a database the job must not touch.

    A job that reads (``create=False``) needs an archive. A job that writes may also start one in a new or empty
    file, but adds its tables to another application's database only when told to (``init``, the ``--init``
    option). Raises ``StorageError`` (``NotAnArchive`` for a database that is not one).
    """
    path = str(path)
    if not os.path.exists(path):
        if create:
            return
        raise StorageError(f"{path} does not exist; run `scraper crawl` or `scraper import` first")
    try:
        conn = connect_readonly(path)
        try:
            kind = database_kind(conn)
            tables = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 4")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc, path) from exc
    if kind is DatabaseKind.ARCHIVE or (create and (kind is DatabaseKind.EMPTY or init)):
        return
    if kind is DatabaseKind.EMPTY:
        raise NotAnArchive(f"{path} is an empty database, not an archive; run `scraper crawl` or `scraper import` "
                           "first")
    holds = f"its tables: {', '.join(tables[:3])}{', …' if len(tables) > 3 else ''}" if tables else "no tables"
    hint = ("choose another --db, or give --init to add the archive's tables to it" if create
            else "choose another --db")
    raise NotAnArchive(f"{path} is not an archive but another application's database ({holds}); {hint}")


def open_archive(path: str | Path, *, create: bool = True, init: bool = False) -> Database:
    """Open (or create) the archive, in WAL mode with foreign keys enforced, upgrading an older schema in place.

    ``create``: a new or empty file becomes an archive (else the archive must exist); ``init``: so does another
    application's database (see ``check_archive``). Raises ``NotAnArchive`` for a database it may not make an
    archive of, ``SchemaTooNew`` for an archive from a newer release and ``StorageError`` when the file cannot be
    opened or written (not a database, read-only, locked).
    """
    path = str(path)
    check_archive(path, create=create, init=init)
    try:
        db = Database(connect(path))
        unknown = sorted(set(schema_version(db)) - set(known_migrations()))
        if unknown:
            db.close()
            raise SchemaTooNew(path, unknown)
        use_wal(db)  # first: in the rollback journal's mode a reader and a writer block each other
        upgrade(db)  # before foreign keys are on: a step may rebuild a referenced table
        build_search_index(db)
        db.execute("PRAGMA foreign_keys = ON")
        # In WAL mode NORMAL still never leaves a half-written transaction; it skips an fsync per commit, which
        # with one transaction per article is most of the import time. A power cut may lose the last articles.
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise storage_error(exc, path) from exc
    return db


def use_wal(db: Database) -> None:
    """WAL mode, which the file keeps: readers (Datasette) and a writer never wait for each other.

    Switching needs the file to itself, and SQLite does not wait for it (no busy timeout here): while another
    connection writes to an archive still in the old mode (a new archive, or one from an early release), try
    again until BUSY_TIMEOUT has passed.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while db.journal_mode != "wal":
        try:
            db.enable_wal()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def upgrade(db: Database) -> None:
    """Run the steps the archive lacks, each in its own write transaction. Each looks again, under the write lock,
    for what is left to run: two processes that open an older archive at once run every step once."""
    while migrations.pending(db):
        with write_transaction(db):
            pending = migrations.pending(db)
            if pending:
                migrations.apply(db, stop_before=[m.name for m in pending[1:]])


def search_index_version(db: Database) -> int | None:
    row = db.execute("SELECT value FROM archive_meta WHERE key = 'search_index_version'").fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else None


def build_search_index(db: Database) -> bool:
    """Rebuild the search index when it was built with another version of the tokenising (or never); True if so."""
    if search_index_version(db) == SEARCH_TEXT_VERSION:
        return False
    with write_transaction(db):
        if search_index_version(db) == SEARCH_TEXT_VERSION:  # another process built it while this one waited
            return False
        rebuild_index(db)
        db.execute("INSERT OR REPLACE INTO archive_meta (key, value) VALUES ('search_index_version', ?)",
                   [str(SEARCH_TEXT_VERSION)])
    return True


def connect(path: str) -> sqlite3.Connection:
    """A connection that waits up to BUSY_TIMEOUT for another writer. isolation_level None: the sqlite3 module
    opens no transaction of its own (its implicit one is a deferred BEGIN, left open until a commit); every
    transaction is a ``pipelines.store.write_transaction``."""
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)


# What to do, by SQLite's primary result code (sqlite3 gives it as ``sqlite_errorname``, extended codes included).
_STORAGE_HINTS = {
    "SQLITE_BUSY": "another process is writing to it; wait for it to finish (or stop it) and run again",
    "SQLITE_LOCKED": "another process is writing to it; wait for it to finish (or stop it) and run again",
    "SQLITE_READONLY": "the file or its folder is read-only; make both writable, or choose another --db",
    "SQLITE_FULL": "the disk is full; free some space and run again (nothing was half-written)",
    "SQLITE_IOERR": "the disk failed or its file system went read-only; check it, then run again",
    "SQLITE_NOTADB": "the file is not an SQLite database, or is damaged; choose another --db",
    "SQLITE_CORRUPT": "the file is not an SQLite database, or is damaged; choose another --db",
    "SQLITE_CANTOPEN": "the file cannot be opened; check that its folder exists and is writable",
}


def storage_error(exc: sqlite3.Error, path: str) -> StorageError:
    """SQLite's error as one line that says what to do, chosen by its result code."""
    code = (getattr(exc, "sqlite_errorname", None) or "").split("_")
    hint = _STORAGE_HINTS.get("_".join(code[:2]), "see the SQLite error above")
    return StorageError(f"{path}: {exc}: {hint}")
