"""Datasette plugin (entry point ``datasette``): Chinese search and a good default view of an archive.

Installed with the package, so plain ``datasette archive.db`` has it. Only databases that hold an archive (an
``articles_fts`` table) are touched; other databases in the same Datasette keep Datasette's defaults.

The articles table's search box (``?_search=``, ``?_search_<column>=``, ``_searchmode=raw``) is this plugin's
filter rather than Datasette's (whose ``fts_table`` is therefore not declared): same parameters, same page, same
rows, but SQL that stays fast when a word is in most articles (``search_filter``).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from weakref import WeakKeyDictionary

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest

from .search import FTS_COLUMNS, FTS_TABLE, escape_fts

# Re-check a database that had no archive tables after this many seconds (it may have been imported since).
RECHECK_SECONDS = 5.0
_known: WeakKeyDictionary = WeakKeyDictionary()  # Datasette -> {database name: (is_archive, checked_at)}
# A search matching more than 1/DENSE_SHARE of the articles is answered by scanning indexes (see search_filter).
# Measured at 100,000 articles: the two plans cost the same at about 7,000 matches.
DENSE_SHARE = 16

ARTICLES_METADATA = {
    "description": "Articles of the 潮州库 (gdxk.southcn.com). The search box finds Chinese words of any length.",
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


ARCHIVE_TABLES = ("articles", FTS_TABLE)


def has_archive(conn: sqlite3.Connection) -> bool:
    """An archive has its articles table and their search index (the browse plugins use this test too)."""
    try:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)", ARCHIVE_TABLES).fetchall()
    except sqlite3.Error:
        return False
    return len(rows) == len(ARCHIVE_TABLES)


def archive_databases(datasette) -> list[str]:
    """Names of the served databases that hold an archive (cached; negatives re-checked now and then)."""
    known = _known.setdefault(datasette, {})
    names = []
    for name, db in list(datasette.databases.items()):
        if name == "_internal" or db.is_memory or not db.path:
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


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    # trylast: Datasette's own search filter also runs (and finds no fts_table); our supports_search must win.
    if table != "articles" or database not in archive_databases(datasette):
        return None

    async def inner():
        return await search_filter(request, datasette, database)
    return inner


async def search_filter(request, datasette, database: str) -> FilterArguments:
    """Datasette's search filter (datasette/filters.py), with one change for words found in most articles.

    Datasette writes ``id in (select rowid from articles_fts where articles_fts match escape_fts(:search))`` and
    runs it in the page query, the count and every facet. SQLite reads it as a list of rowids to look up (it
    guesses 25): for a word in 100,000 articles that is 100,000 look-ups of 10 kB rows, per query. When a word
    matches more than 1/DENSE_SHARE of the articles we write ``+id in (...)``: the unary plus rules the look-ups
    out, so SQLite answers each query from an index it already has (source_id, collection/column,
    published_at), testing each entry's id against the list. Rarer words keep the look-ups, then cheaper.
    """
    db = datasette.get_database(database)
    searches = {key: request.args[key] for key in request.args
                if key == "_search" or key.startswith("_search_")}
    raw = datasette.table_metadata(database, "articles").get("searchmode") == "raw"
    raw = {"raw": True, "escaped": False}.get(request.args.get("_searchmode"), raw)
    clauses, params, described, context = [], {}, [], {"supports_search": True}
    if "_search" in searches:
        searches = {"_search": searches["_search"]}
    for i, (key, text) in enumerate(searches.items()):
        column = key[len("_search_"):] if key != "_search" else None
        if column is not None and column not in FTS_COLUMNS:
            raise BadRequest("Cannot search by that column")
        context["search"] = text
        if not raw and not text.strip(' "\t\r\n\u3000'):
            continue  # an empty box: all rows (FTS5 rejects an empty query; the page used to be an error)
        name = "search" if column is None else f"search_{i}"
        match = f":{name}" if raw else f"escape_fts(:{name})"
        subquery = f"select rowid from [{FTS_TABLE}] where [{column or FTS_TABLE}] match {match}"
        pk = "+id" if await is_dense(db, subquery, {name: text}) else "id"
        clauses.append(f"{pk} in ({subquery})")
        params[name] = text
        described.append(f'search matches "{text}"' if column is None else f'search column "{column}" matches "{text}"')
    return FilterArguments(clauses, params, described, context)


async def is_dense(db, subquery: str, params: dict) -> bool:
    """Whether the search matches more than 1/DENSE_SHARE of the articles: skip that many matches, see if one is left.

    Ids are never reused, so max(id) counts the articles closely enough. A query FTS5 rejects is left for the
    page query to report, as Datasette does.
    """
    sql = f"{subquery} limit 1 offset (select max(id) from articles) / {DENSE_SHARE}"
    try:
        return (await db.execute(sql, params)).first() is not None
    except (sqlite3.DatabaseError, QueryInterrupted):
        return False


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
