"""Which served databases are archives, and small helpers shared by the plugin modules.

A database is an archive as ``pipelines.schema.database_kind`` decides it for every command (its schema steps are
recorded); only those get our metadata, pages and queries, so other databases in the same Datasette (a blog's
``articles`` table with its search index among them) keep Datasette's defaults and stay writable.
"""

from __future__ import annotations

import sqlite3
import time
from weakref import WeakKeyDictionary

from datasette.utils.asgi import Forbidden, NotFound

from pipelines.schema import connect_readonly
from pipelines.schema import is_archive as db_is_archive

MAX_ROW_ID = 2 ** 63 - 1  # SQLite's largest integer: a larger one cannot even be asked for
# Re-check a database that had no archive tables after this many seconds (it may have been imported since).
RECHECK_SECONDS = 5.0
_known: WeakKeyDictionary = WeakKeyDictionary()  # Datasette -> {database name: (is_archive, checked_at)}


def conn_is_archive(conn: sqlite3.Connection) -> bool:
    """The one test every plugin of the archive uses (``pipelines.schema.is_archive``); a file that is no database
    is no archive."""
    try:
        return db_is_archive(conn)
    except sqlite3.Error:
        return False


def archive_names(datasette) -> list[str]:
    """Names of the served databases that hold an archive (cached; negatives re-checked now and then)."""
    known = _known.setdefault(datasette, {})
    names = []
    for name, db in list(datasette.databases.items()):
        if name == "_internal" or db.is_memory or not db.path:
            continue
        cached = known.get(name)
        if cached is None or (not cached[0] and time.monotonic() - cached[1] > RECHECK_SECONDS):
            try:
                conn = connect_readonly(db.path)
            except sqlite3.Error:
                continue
            try:
                cached = (conn_is_archive(conn), time.monotonic())
            finally:
                conn.close()
            known[name] = cached
        if cached[0]:
            names.append(name)
    return names


def is_archive(datasette, database: str | None) -> bool:
    return database is not None and database in archive_names(datasette)


def parse_row_id(text: str) -> int | None:
    """A row id from a URL (digits 0-9 only, 1 to MAX_ROW_ID), or None for anything else."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ROW_ID else None


def row_id(text: str) -> int:
    """The id in a route's path; NotFound for one that no row can have."""
    value = parse_row_id(text)
    if value is None:
        raise NotFound(f"No such row: ids are whole numbers from 1 to {MAX_ROW_ID}")
    return value


async def archive_database(datasette, request, table: str = "articles"):
    """The archive database named by the route's ``database`` part, after Datasette's permission checks.

    Raises NotFound for an unknown database or one that is not an archive, Forbidden when the actor may not
    see the table.
    """
    route = request.url_vars["database"]
    try:
        db = datasette.get_database(route=route)
    except KeyError:
        raise NotFound("Database not found") from None
    if not is_archive(datasette, db.name):
        raise NotFound("Not an archive database")
    await ensure_visible(datasette, request.actor, db.name, table)
    return db


async def ensure_visible(datasette, actor, database: str, table: str = "articles") -> None:
    """Raise Forbidden unless the actor may see the table, by Datasette's own rules (metadata ``allow`` blocks,
    permission plugins): a plugin's route gets no check of its own, so every route of ours makes this one."""
    await datasette.ensure_permissions(actor, [
        ("view-table", (database, table)), ("view-database", database), "view-instance"])


async def visible_archive_names(datasette, actor) -> list[str]:
    """The archives whose articles the actor may see; Forbidden when archives are served and none is theirs."""
    await datasette.ensure_permissions(actor, ["view-instance"])
    names, hidden = [], 0
    for name in archive_names(datasette):
        try:
            await ensure_visible(datasette, actor, name)
        except Forbidden:
            hidden += 1
            continue
        names.append(name)
    if hidden and not names:
        raise Forbidden("You may not see any of the archives served here")
    return names
