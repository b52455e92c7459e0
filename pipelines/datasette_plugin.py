"""Datasette plugin (entry point ``datasette``): Chinese search and a good default view of an archive.

Installed with the package, so plain ``datasette archive.db`` has it. Only databases that hold an archive (an
``articles_fts`` table) are touched; other databases in the same Datasette keep Datasette's defaults.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from weakref import WeakKeyDictionary

from datasette import hookimpl

from .search import FTS_TABLE, escape_fts

# Re-check a database that had no archive tables after this many seconds (it may have been imported since).
RECHECK_SECONDS = 5.0
_known: WeakKeyDictionary = WeakKeyDictionary()  # Datasette -> {database name: (is_archive, checked_at)}

ARTICLES_METADATA = {
    "description": "Articles of the 潮州库 (gdxk.southcn.com). The search box finds Chinese words of any length.",
    "fts_table": FTS_TABLE,
    "fts_pk": "id",
    "label_column": "title",
    "sort_desc": "published_at",
    "facets": ["collection", "column", "source_id"],
    "columns": {
        "published_at": "Publication time as printed on the page, ISO 8601 in China time (+08:00)",
        "source_id": "来源: the publication the article credits",
        "body": "The paragraphs, one per line",
        "headings": "Section headings (JSON array)",
        "breadcrumb": "The page's breadcrumb (JSON array)",
        "content_hash": "SHA-256 of title, subtitle and body: changes only when the text changes",
        "first_seen": "Time of the earliest capture of this URL (UTC)",
        "last_seen": "Time of the latest capture of this URL (UTC)",
        "capture_id": "The capture (WARC record) the current text came from",
    },
}
TABLES_METADATA = {
    "articles": ARTICLES_METADATA,
    "article_versions": {"description": "Earlier texts of articles, with when a newer capture replaced them"},
    "captures": {"description": "Where each stored response came from: WARC file, offset and length"},
    "runs": {"description": "One row per import or crawl, with its counts"},
    "dropped": {"description": "Pages that were not stored, and why"},
}


def has_archive(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'", [FTS_TABLE]).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def archive_databases(datasette) -> list[str]:
    """Names of the served databases that hold an archive (cached; negatives re-checked now and then)."""
    known = _known.setdefault(datasette, {})
    names = []
    for name, db in list(datasette.databases.items()):
        if name == "_internal" or db.is_memory:
            continue
        cached = known.get(name)
        if cached is None or (not cached[0] and time.monotonic() - cached[1] > RECHECK_SECONDS):
            try:
                conn = sqlite3.connect(Path(db.path).resolve().as_uri() + "?mode=ro", uri=True)
            except sqlite3.Error:
                continue
            try:
                cached = (has_archive(conn), time.monotonic())
            finally:
                conn.close()
            known[name] = cached
        if cached[0]:
            names.append(name)
    return names


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    # trylast: Datasette's default plugin registers its own escape_fts; the last registration wins.
    if has_archive(conn):
        conn.create_function("escape_fts", 1, escape_fts, deterministic=True)


@hookimpl
def get_metadata(datasette, key, database, table):
    return {"databases": {name: {"tables": TABLES_METADATA} for name in archive_databases(datasette)}}


@hookimpl
def asgi_wrapper(datasette):
    """Facet suggestions off on an archive's articles table (as ``_nosuggest=1`` does).

    Datasette suggests facets by running three queries per column, each allowed 50 ms; on a table of long texts
    they all run into that limit, and a search at 10k articles took 1 s instead of 85 ms. The facets that matter
    (collection, column, source) are declared in the metadata instead.
    """
    def wrap(app):
        async def add_nosuggest(scope, receive, send):
            if scope.get("type") == "http" and is_articles_path(datasette, scope.get("path", "")):
                query = scope.get("query_string", b"")
                if b"_nosuggest" not in query:
                    scope = {**scope, "query_string": query + (b"&" if query else b"") + b"_nosuggest=1"}
            await app(scope, receive, send)
        return add_nosuggest
    return wrap


def is_articles_path(datasette, path: str) -> bool:
    if not path.endswith(("/articles", "/articles.json")):
        return False
    routes = {datasette.databases[name].route for name in archive_databases(datasette) if name in datasette.databases}
    return path.rsplit("/", 1)[0].lstrip("/") in routes
