"""Datasette plugin: the articles table's search box finds Chinese words of any length, and stays fast.

The search box (``?_search=``, ``?_search_<column>=``, ``_searchmode=raw``) is this plugin's filter rather than
Datasette's (whose ``fts_table`` is therefore not declared): same parameters, same page, same rows, but SQL that
stays fast when a word is in most articles (``search_filter``). The query becomes FTS5 syntax through
``escape_fts`` (``pipelines.search``), registered over Datasette's own. Only archive databases are touched.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest

from pipelines.search import FTS_COLUMNS, FTS_TABLE, escape_fts

from .archive import archive_names, conn_is_archive

# A search matching more than 1/DENSE_SHARE of the articles is answered by scanning indexes (see search_filter).
# Measured at 100,000 articles: the two plans cost the same at about 7,000 matches.
DENSE_SHARE = 16


@hookimpl(trylast=True)
def prepare_connection(conn, database, datasette):
    # trylast: Datasette's default plugin registers its own escape_fts; the last registration wins.
    if conn_is_archive(conn):
        conn.create_function("escape_fts", 1, escape_fts, deterministic=True)


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    # trylast: Datasette's own search filter also runs (and finds no fts_table); our supports_search must win.
    if table != "articles" or database not in archive_names(datasette):
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
    routes = {datasette.databases[name].route for name in archive_names(datasette) if name in datasette.databases}
    return path.rsplit("/", 1)[0].lstrip("/") in routes
