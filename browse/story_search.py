"""The readers' search, each story once: which stories match, in what order, and how many per facet value.

No Datasette hooks here: ``browse.reader_search`` turns a request into a ``Search`` and renders what this module
finds. Articles sharing a ``story_id`` are one story (NULL: a story of its own).

Counting stories rather than articles costs almost nothing extra: articles are counted as the search box counts
them (one grouped pass over the facet index, ``browse.facets``), then each story with several matching copies
takes back its extra copies. Only linked articles (``story_id`` not NULL, found through the ``articles_story``
index) are read for that. The page of results walks the matches best first (bm25 from the index, or the
``published_at`` index) and keeps each story's first copy: its most relevant, or its newest.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from datasette.database import QueryInterrupted
from datasette.utils import sqlite_timelimit
from markupsafe import Markup, escape

from pipelines.search import FTS_TABLE, escape_fts

from .queries import query_pattern
from .search import is_dense

PAGE_SIZE = 20
MAX_PAGE = 500  # deeper pages walk ever more matches; facets narrow a search better
SNIPPET_CHARS = 110
# bm25 weights of title, subtitle, authors, body: as the ranked canned query (browse.queries) weighs them
BM25 = f"bm25({FTS_TABLE}, 10.0, 5.0, 3.0, 1.0)"
DIMENSIONS = ("column", "year", "source", "author")


TOO_LONG = "检索超时，请缩小范围 · The search took too long: add a word or a filter"


class SearchError(ValueError):
    """A query or filter the page cannot answer; the message is shown to the reader."""


@dataclass
class Search:
    query: str = ""
    column: str | None = None
    year: str | None = None
    source: int | None = None
    author: int | None = None
    newest: bool = False  # else most relevant first (an empty query is always newest first)
    page: int = 1

    @property
    def fts(self) -> str:
        return escape_fts(self.query) if self.query.strip() else ""

    @property
    def by_newest(self) -> bool:
        return self.newest or not self.fts

    @property
    def filtered(self) -> bool:
        """Whether a facet value narrows the search (column, year, source or author)."""
        return any(getattr(self, name) is not None for name in DIMENSIONS)


@dataclass
class Facet:
    name: str
    values: list[tuple[object, str, int]] = field(default_factory=list)  # (value, label, stories), most first


@dataclass
class Found:
    stories: int
    hits: list[dict]  # the page's best copies, with "copies" and "snippet"
    facets: dict[str, Facet]


def where_sql(search: Search, dense: bool, with_query: bool = True) -> tuple[str, dict]:
    """The articles the search and its filters leave, as a WHERE clause on ``articles``."""
    clauses, params = [], {}
    if with_query and search.fts:
        # +id when the words are in most articles: test each index entry's id instead of looking rows up
        pk = "+id" if dense else "id"
        clauses.append(f"{pk} in (select rowid from [{FTS_TABLE}] where [{FTS_TABLE}] match :fts)")
        params["fts"] = search.fts
    if search.column is not None:
        clauses.append("[column] = :column")
        params["column"] = search.column
    if search.year is not None:
        clauses.append("substr(published_at, 1, 4) = :year")  # the facet index's own expression
        params["year"] = search.year
    if search.source is not None:
        clauses.append("source_id = :source")
        params["source"] = search.source
    if search.author is not None:
        clauses.append("id in (select article_id from article_authors where author_id = :author)")
        params["author"] = search.author
    return (" and ".join(clauses) or "1"), params


async def find_stories(db, search: Search, time_limit_ms: int) -> Found:
    """The stories the search finds: their number, the page's best copies, and the facets' story counts."""
    dense = False
    if search.fts:
        subquery = f"select rowid from [{FTS_TABLE}] where [{FTS_TABLE}] match :fts"
        dense = await is_dense(db, subquery, {"fts": search.fts})
    where, params = where_sql(search, dense)

    async def count_articles():
        # grouped as the facet index is ordered (schema step 009), so one pass over it counts them
        groups = (await db.execute(
            "select source_id, collection, [column], substr(published_at, 1, 4) as year, count(*) as n "
            f"from articles where {where} group by 1, 2, 3, 4", params, truncate=False)).rows
        return groups, *await extra_copies(db, search, where, params)

    async def walk():
        if search.page > MAX_PAGE:
            return []
        return await db.execute_fn(lambda conn: best_copies(conn, search, dense, time_limit_ms))

    # Three independent reads, each on one of Datasette's connections: the page waits for the slowest, not the sum.
    try:
        (groups, extra, linked), authors, ids = await asyncio.gather(
            count_articles(), author_counts(db, search, dense, where, params), walk())
    except QueryInterrupted:
        raise SearchError(TOO_LONG) from None
    except sqlite3.OperationalError as error:
        raise SearchError(query_problem(error)) from None
    stories = sum(row["n"] for row in groups) - sum(len(copies) - 1 for copies in extra.values())
    if not stories:
        return Found(0, [], {})
    over = overcounts(extra, linked)
    facets = await count_facets(db, groups, over)
    facets["author"] = await author_facet(db, authors, over["author"])
    return Found(stories, await describe(db, ids, search), facets)


def query_problem(error: sqlite3.Error) -> str:
    message = str(error)
    if "interrupt" in message:
        return TOO_LONG
    return f"无法理解该检索式 · The index could not read this query ({message.removeprefix('fts5: ')})"


@dataclass
class Linked:
    """The facet values and authors of every article that is linked to a story, as of one state of the file."""

    signature: tuple
    values: dict[int, dict]  # article id -> story_id, source_id, column, year
    authors: dict[int, list[int]]


_linked: dict[str, Linked] = {}  # database path -> its linked articles, read again when the file changes


def file_signature(path: str) -> tuple:
    """Changes whenever the database is written: the file's and its write-ahead log's size and time."""
    out = []
    for name in (path, path + "-wal"):
        try:
            stat = os.stat(name)
            out.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


async def linked_articles(db) -> Linked:
    """Facet values and authors of the linked articles, read once per change of the database (at 100,000 articles
    with a quarter of them linked, about 0.3 s) rather than for every search."""
    signature = file_signature(db.path) if db.path else None
    cached = _linked.get(db.path)
    if cached is not None and signature is not None and cached.signature == signature:
        return cached
    rows = (await db.execute("select id, story_id, source_id, [column], substr(published_at, 1, 4) as year "
                             "from articles where story_id is not null", truncate=False)).rows
    authors: dict[int, list[int]] = defaultdict(list)
    for article, author in (await db.execute(
            "select article_id, author_id from article_authors where article_id in "
            "(select id from articles indexed by articles_story where story_id is not null)", truncate=False)).rows:
        authors[article].append(author)
    linked = Linked(signature, {row["id"]: dict(row) for row in rows}, dict(authors))
    if db.path:
        _linked[db.path] = linked
    return linked


async def extra_copies(db, search: Search, where: str, params: dict) -> tuple[dict[int, list], Linked]:
    """Stories with more than one matching copy: story id -> those copies' facet values (``linked_articles``).

    Which linked articles match comes from the ``articles_story`` index alone when the words are the only filter
    (the id is in it).
    """
    index = "" if search.filtered else "indexed by articles_story "
    linked = await linked_articles(db)
    if where == "1":  # every linked article matches
        matching = [(article, row["story_id"]) for article, row in linked.values.items()]
    else:
        matching = (await db.execute(f"select id, story_id from articles {index}where story_id is not null and "
                                     f"{where}", params, truncate=False)).rows
    copies: dict[int, list] = defaultdict(list)
    for article, story in matching:
        row = linked.values.get(article) or {"id": article, "story_id": story, "source_id": None, "column": None,
                                             "year": None}  # linked since the cache was read: no values known
        copies[story].append(row)
    return {story: rows for story, rows in copies.items() if len(rows) > 1}, linked


def overcounts(extra: dict[int, list], linked: Linked) -> dict[str, Counter]:
    """How many articles too many each facet value counts: every copy of a story after the first with that value
    (source, column, year or author)."""
    over: dict[str, Counter] = {key: Counter() for key in ("source_id", "column", "year", "author")}
    for rows in extra.values():
        for key in ("source_id", "column", "year"):
            seen: set = set()
            for row in rows:
                if row[key] in seen:
                    over[key][row[key]] += 1
                seen.add(row[key])
        seen = set()
        for row in rows:
            for author in linked.authors.get(row["id"], ()):
                if author in seen:
                    over["author"][author] += 1
                seen.add(author)
    return over


async def count_facets(db, groups: list, over: dict[str, Counter]) -> dict[str, Facet]:
    facets = {}
    for name, key in (("column", "column"), ("year", "year"), ("source", "source_id")):
        articles: Counter = Counter()
        for row in groups:
            if row[key] is not None and (name != "year" or re.fullmatch(r"[0-9]{4}", row[key])):
                articles[row[key]] += row["n"]
        counts = articles - over[key]
        labels = await source_names(db, list(counts)) if name == "source" else {}
        if name == "year":
            ordered = sorted(counts.items(), reverse=True)
        else:
            ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
        facets[name] = Facet(name, [(value, str(labels.get(value, value)), n) for value, n in ordered])
    return facets


async def source_names(db, ids: list) -> dict:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    return dict((await db.execute(f"select id, name from sources where id in ({marks})", ids)).rows)


async def author_counts(db, search: Search, dense: bool, where: str, params: dict) -> Counter:
    """Matching articles per author, from the (author_id, article_id) index: one pass, testing each entry."""
    if where == "1":
        within = ""
    elif search.fts and not search.filtered:  # the words alone: the search index's own matches, no pass over articles
        within = f"where {'+' if dense else ''}article_id in (select rowid from [{FTS_TABLE}] " \
                 f"where [{FTS_TABLE}] match :fts)"
    else:
        within = f"where {'+' if dense else ''}article_id in (select id from articles where {where})"
    rows = (await db.execute(f"select author_id, count(*) as n from article_authors {within} group by author_id",
                             params, truncate=False)).rows
    return Counter({row["author_id"]: row["n"] for row in rows})


async def author_facet(db, counts: Counter, over: Counter) -> Facet:
    """Stories per author: a story whose copies name the same author counts once for them."""
    counts -= over
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:50]
    names: dict = {}
    if top:
        marks = ", ".join("?" for _ in top)
        names = dict((await db.execute(f"select id, name from authors where id in ({marks})",
                                       [a for a, _ in top])).rows)
    return Facet("author", [(a, names.get(a, str(a)), n) for a, n in top])


def best_copies(conn: sqlite3.Connection, search: Search, dense: bool, time_limit_ms: int) -> list[int]:
    """Ids of the page's stories' best copies, walking the matches best first until the page is full.

    A story's first copy in that walk is its most relevant (or newest) one: later copies are skipped.
    """
    wanted = search.page * PAGE_SIZE
    if search.by_newest:
        where, params = where_sql(search, dense)
        sql = f"select id, story_id from articles where {where} order by published_at desc, id desc"
        ranked = False
    else:
        where, params = where_sql(search, dense, with_query=False)
        # The index ranks; the filters (if any) are a list of ids it tests. Rows are read only for the walk.
        filters = "" if where == "1" else f" and rowid in (select id from articles where {where})"
        sql = (f"select rowid from [{FTS_TABLE}] where [{FTS_TABLE}] match :fts{filters} order by {BM25}")
        params["fts"] = search.fts
        ranked = True
    seen: set = set()
    order: list[int] = []
    with sqlite_timelimit(conn, time_limit_ms):
        try:
            cursor = conn.execute(sql, params)
            while len(order) < wanted:
                batch = cursor.fetchmany(PAGE_SIZE * 2)
                if not batch:
                    break
                rows = story_ids(conn, [r[0] for r in batch]) if ranked else [(r[0], r[1]) for r in batch]
                for article, story in rows:
                    key = ("s", story) if story is not None else ("a", article)
                    if key not in seen:
                        seen.add(key)
                        order.append(article)
        except sqlite3.OperationalError as error:
            raise SearchError(query_problem(error)) from None
    return order[wanted - PAGE_SIZE:wanted]


def story_ids(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[int, int | None]]:
    marks = ", ".join("?" for _ in ids)
    story = dict(conn.execute(f"select id, story_id from articles where id in ({marks})", ids).fetchall())
    return [(i, story.get(i)) for i in ids]


async def describe(db, ids: list[int], search: Search) -> list[dict]:
    """Title, date, source, column, copies and a snippet of each article, in the order given."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = {row["id"]: dict(row) for row in (await db.execute(
        "select a.id, a.title, a.url, a.published_at, a.source_id, s.name as source, a.[column], a.story_id, "
        f"a.body from articles a left join sources s on s.id = a.source_id where a.id in ({marks})", ids)).rows}
    stories = sorted({r["story_id"] for r in rows.values() if r["story_id"] is not None})
    copies: dict = {}
    if stories:
        marks = ", ".join("?" for _ in stories)
        copies = dict((await db.execute(
            f"select story_id, count(*) from articles where story_id in ({marks}) group by story_id",
            stories)).rows)
    pattern = query_pattern(search.query) if search.fts else None
    hits = []
    for i in ids:
        row = rows.get(i)
        if row is None:
            continue  # gone since the walk (a reparse between two statements)
        row["copies"] = copies.get(row["story_id"], 1)
        row["snippet"] = snippet(row.pop("body"), pattern)
        hits.append(row)
    return hits


def snippet(body: str | None, pattern: re.Pattern | None, chars: int = SNIPPET_CHARS) -> Markup:
    """About ``chars`` characters of body around the first match, every match in the window in <mark>, escaped.

    The index folds text with NFKC (full-width ＡＢＣ１２ match abc12) and case: the body is searched as it is
    first, and folded only when that finds nothing, each folded character mapped back to where it came from.
    """
    text = " ".join((body or "").split("\n"))
    start = 0
    if pattern:
        found = pattern.search(text)
        if found is None:
            folded, origin = fold(text)
            found_folded = pattern.search(folded)
            start = origin[found_folded.start()] if found_folded else 0
        else:
            start = found.start()
        start = max(0, start - chars // 4)
    end = min(len(text), start + chars)
    window = text[start:end]
    out = [Markup("…") if start else Markup("")]
    if pattern:
        folded, origin = fold(window)
        last = 0
        for m in pattern.finditer(folded):
            a, b = origin[m.start()], origin[m.end()]
            out += [escape(window[last:a]), Markup("<mark>"), escape(window[a:b]), Markup("</mark>")]
            last = b
        out.append(escape(window[last:]))
    else:
        out.append(escape(window))
    out.append(Markup("…") if end < len(text) else Markup(""))
    return Markup("").join(out)


def fold(text: str) -> tuple[str, list[int]]:
    """The text as the index folds it (NFKC), and for each folded character the index of its source character
    (plus one entry for the end)."""
    if unicodedata.is_normalized("NFKC", text):
        return text, list(range(len(text) + 1))
    pieces, origin = [], []
    for i, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char)
        pieces.append(piece)
        origin += [i] * len(piece)
    origin.append(len(text))
    return "".join(pieces), origin
