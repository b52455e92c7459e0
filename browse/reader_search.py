"""Datasette plugin: the readers' search page, at ``/<database>/-/search``, where the front page's search box leads.

Each story once (``browse.story_search``), with its title linking to the reader's page, date, source, column, how
many copies the archive holds, and a snippet with the words marked; most relevant or newest first; 20 a page;
facets for column, year, source and author as links with the number of stories; a query nothing matches says
so and offers the query without each of its words. Datasette's table view stays for readers who want SQL.

Every value shown comes from scraped pages or from the query, and Jinja escapes it; the snippet is escaped here
before ``<mark>`` goes in. As on the article page (``browse.article``), the Content-Security-Policy allows no
script.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from datasette import hookimpl

from pipelines.search import query_words

from . import PLUGIN_NAME
from .archive import archive_database, parse_row_id
from .article import display_time, reader_page
from .story_search import DIMENSIONS, MAX_PAGE, PAGE_SIZE, Found, Search, SearchError, find_stories

MAX_QUERY = 200  # characters: a longer "query" is a pasted paragraph, and costs the index one phrase per word
FACET_TITLES = {"column": "栏目 · Column", "year": "年份 · Year", "source": "来源 · Source", "author": "作者 · Author"}
FACET_SHOWN = 12


def search_path(datasette, db) -> str:
    return datasette.urls.path(f"{db.route}/-/search")


def read_search(args) -> Search:
    """The search a request asks for; SearchError for a value no search can have."""
    query = (args.get("q") or "").strip()
    if len(query) > MAX_QUERY:
        raise SearchError(f"检索词过长 · The query is longer than {MAX_QUERY} characters")
    search = Search(query=query, newest=args.get("sort") == "newest")
    search.column = args.get("column")
    year = args.get("year")
    if year is not None and not (len(year) == 4 and year.isascii() and year.isdigit()):
        raise SearchError(f"年份应为四位数字 · year={year[:20]!r}: a year is four digits")
    search.year = year
    for name in ("source", "author"):
        value = args.get(name)
        if value is not None:
            number = parse_row_id(value)
            if number is None:
                raise SearchError(f"{name}={value[:20]!r}: 应为编号 · give the {name}'s id (a whole number)")
            setattr(search, name, number)
    page = args.get("page", "1")
    if not (page.isascii() and page.isdigit()) or not 1 <= int(page) <= MAX_PAGE:
        raise SearchError(f"页码应为 1 至 {MAX_PAGE} · page={page[:20]!r}: pages run from 1 to {MAX_PAGE}")
    search.page = int(page)
    if search.query and not search.fts:
        raise SearchError("检索词中没有可检索的字词（标点不计）· The query has no word to look for (punctuation is "
                          "not indexed)")
    return search


def url_for(base: str, search: Search, **changes) -> str:
    """The search page for this search with some values changed (None removes a filter); page 1 unless given."""
    changed = dataclasses.replace(search, **{"page": 1, **changes})
    params = {"q": changed.query or None, "sort": "newest" if changed.newest and changed.query else None,
              **{name: getattr(changed, name) for name in DIMENSIONS},
              "page": changed.page if changed.page > 1 else None}
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return base + ("?" + query if query else "")


def facets_context(base: str, search: Search, found: Found) -> list[dict]:
    out = []
    for name in DIMENSIONS:
        facet = found.facets.get(name)
        if facet is None or not facet.values:
            continue
        values = []
        for value, label, count in facet.values[:FACET_SHOWN]:
            selected = getattr(search, name) == value
            values.append({"label": label, "count": count, "selected": selected,
                           "url": url_for(base, search, **{name: None if selected else value})})
        out.append({"name": name, "title": FACET_TITLES[name], "options": values,
                    "more": len(facet.values) > FACET_SHOWN})
    return out


def filters_context(base: str, search: Search, found: Found | None) -> list[dict]:
    """The filters in force, each with a link that removes it."""
    labels = {name: {value: label for value, label, _ in found.facets[name].values}
              for name in DIMENSIONS if found and name in found.facets}
    out = []
    for name in DIMENSIONS:
        value = getattr(search, name)
        if value is not None:
            label = labels.get(name, {}).get(value, value)
            out.append({"title": FACET_TITLES[name], "label": label, "url": url_for(base, search, **{name: None})})
    return out


def pages_context(base: str, search: Search, stories: int) -> list[dict]:
    last = min(MAX_PAGE, max(1, -(-stories // PAGE_SIZE)))
    shown = sorted({1, last, *range(max(1, search.page - 3), min(last, search.page + 3) + 1)})
    pages, previous = [], 0
    for number in shown:
        if number - previous > 1:
            pages.append({"gap": True})
        pages.append({"number": number, "current": number == search.page,
                      "url": url_for(base, search, page=number)})
        previous = number
    return pages if last > 1 else []


def suggestions(base: str, search: Search) -> list[dict]:
    """The query without each of its words, when it has several."""
    words = query_words(search.query)
    if len(words) < 2:
        return []
    out = []
    for i, word in enumerate(words):
        rest = " ".join(words[:i] + words[i + 1:])
        out.append({"dropped": word, "query": rest, "url": url_for(base, search, query=rest)})
    return out


async def search_view(datasette, request):
    db = await archive_database(datasette, request)
    base = search_path(datasette, db)
    search, found, message = Search(), None, None
    try:
        search = read_search(request.args)
        found = await find_stories(db, search, datasette.setting("sql_time_limit_ms"))
    except SearchError as error:
        message = str(error)
        search.query = (request.args.get("q") or "").strip()[:MAX_QUERY]
    hits = []
    for hit in found.hits if found else []:
        hits.append({**hit, "date": display_time(hit["published_at"]) if hit["published_at"] else "",
                     "url": datasette.urls.path(f"{db.route}/articles/{hit['id']}/read"),
                     "copies_url": (datasette.urls.table(db.name, "articles") + f"?story_id={hit['story_id']}"
                                    if hit["story_id"] is not None else None)})
    context = {
        "database": db.name,
        "search_url": base,
        "q": search.query,
        "search": search,
        "message": message,
        "stories": found.stories if found else None,
        "first": (search.page - 1) * PAGE_SIZE + 1,
        "hits": hits,
        "facets": facets_context(base, search, found) if found else [],
        "filters": filters_context(base, search, found),
        "pages": pages_context(base, search, found.stories) if found else [],
        "suggestions": suggestions(base, search) if found and not found.stories else [],
        "relevance_url": url_for(base, search, newest=False) if search.fts else None,
        "newest_url": url_for(base, search, newest=True),
        "table_url": datasette.urls.table(db.name, "articles"),
        "css_url": datasette.urls.static_plugins(PLUGIN_NAME, "reader.css"),
    }
    return await reader_page(datasette, request, "chaozhou_search.html", context, status=400 if message else 200)


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)/-/search$", search_view)]
