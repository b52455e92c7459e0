"""Datasette plugin: the articles table's facets, and the ``_author=`` filter the author facet links to.

Datasette runs each facet as a query of its own, and each repeats the page's filter: for a search matching most of
100,000 articles, 25 ms a facet before anything is counted. So the articles page declares its collection, column,
source and year facets as one ``article`` facet (``{"article": "source_id"}``, ... in ``browse.metadata``), counted
in a single pass over one index (schema step 009), and shown as Datasette's column facets are, with the same
links. Authors live in a join table: the ``author`` facet (``{"author": "id"}``) counts them from an
(author_id, article_id) index and links to ``_author=ID``, added by ``filters_from_request``. ``_facet_year=COLUMN``
remains for a year facet asked for by URL. Each is a facet class (``register_facet_classes``).
"""

from __future__ import annotations

import re
from collections import Counter

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args
from datasette.utils.asgi import BadRequest

from .archive import MAX_ROW_ID, is_archive, parse_row_id

# What the article facet can count, as SQL; the year is the facet index's own expression (schema step 009).
ARTICLE_DIMENSIONS = {"collection": "collection", "column": "[column]", "source_id": "source_id",
                      "year": "substr(published_at, 1, 4)"}
YEAR = re.compile(r"[0-9]{4}")
# A page filtered by its search alone, as the search filter writes it (pipelines.datasette_plugin.search_filter).
SEARCH_ONLY = re.compile(r"select [\w\[\], ]+ from articles where \+?id in \((select rowid from \[articles_fts\] "
                         r"where \[\w+\] match (?:escape_fts\(:\w+\)|:\w+))\)")


class ArticleFacet(Facet):
    type = "article"

    async def facet_results(self):
        results, timed_out = [], []
        if not is_archive(self.ds, self.database) or self.table != "articles":
            return results, timed_out
        configs: dict = {}
        for config in self.get_configs():  # metadata first: one asked for again by URL stays as declared
            if config_value(config) in ARTICLE_DIMENSIONS:
                configs.setdefault(config_value(config), config)
        names = list(configs)
        if not names:
            return results, timed_out
        select = ", ".join(f"{ARTICLE_DIMENSIONS[name]} as d{i}" for i, name in enumerate(names))
        groups = ", ".join(f"d{i}" for i in range(len(names)))
        sql = f"select {select}, count(*) as count from ({self.sql}) group by {groups}"
        try:
            rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                         custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return results, names
        size = self.get_facet_size()
        for i, name in enumerate(names):
            counts: Counter = Counter()
            for row in rows.rows:
                if row[i] is not None:
                    counts[row[i]] += row["count"]
            hideable = configs[name]["source"] != "metadata"
            hide_url = path_with_removed_args(self.request, {"_facet_article": name})
            if name == "year":
                found = sorted(((v, n) for v, n in counts.items() if YEAR.fullmatch(str(v))), reverse=True)
                results.append(year_facet(self, found, size, "published_at", hideable, hide_url))
            else:
                found = sorted(counts.items(), key=lambda item: (-item[1], isinstance(item[0], str), item[0]))
                results.append(await self.column_facet(name, found, size, hideable, hide_url))
        return results, timed_out

    async def column_facet(self, column: str, found: list, size: int, hideable: bool, hide_url: str) -> dict:
        """As Datasette's ColumnFacet shows a column: foreign keys by their labels, each value a filter to toggle."""
        shown = found[:size]
        labels = await self.ds.expand_foreign_keys(self.database, self.table, column, [v for v, _ in shown])
        pairs = self.get_querystring_pairs()
        values = []
        for value, count in shown:
            selected = (column, str(value)) in pairs
            values.append({"value": value, "label": labels.get((column, value), value), "count": count,
                           "toggle_url": toggle_url(self, column, value, selected), "selected": selected})
        # type "column": the page heads it as Datasette heads its own column facets (other types get "(type)").
        return {"name": column, "type": "column", "hideable": hideable, "toggle_url": hide_url,
                "results": values, "truncated": len(found) > size}


class YearFacet(Facet):
    """``_facet_year=COLUMN``: the year (first four characters) of any date column, newest first."""

    type = "year"

    async def facet_results(self):
        results, timed_out = [], []
        if not is_archive(self.ds, self.database):
            return results, timed_out
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            column = config_value(source_and_config)
            col = escape_sqlite(column)
            sql = (f"select substr({col}, 1, 4) as value, count(*) as count from ({self.sql}) "
                   f"where {col} glob '[0-9][0-9][0-9][0-9]*' group by value order by value desc limit {size + 1}")
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append("year")
                continue
            hide_url = path_with_removed_args(self.request, {"_facet_year": column})
            results.append(year_facet(self, [tuple(row) for row in rows.rows], size, column,
                                      source_and_config["source"] != "metadata", hide_url))
        return results, timed_out


def year_facet(facet: Facet, found: list, size: int, column: str, hideable: bool, hide_url: str) -> dict:
    """A year facet's results: each year a ``COLUMN__startswith=YEAR`` filter (Datasette's own) to toggle."""
    arg = f"{column}__startswith"
    selected_year = dict(facet.get_querystring_pairs()).get(arg)
    values = [{"value": year, "label": year, "count": count, "selected": year == selected_year,
               "toggle_url": toggle_url(facet, arg, year, year == selected_year)} for year, count in found[:size]]
    return {"name": "year", "type": "year", "results": values, "hideable": hideable, "toggle_url": hide_url,
            "truncated": len(found) > size}


class AuthorFacet(Facet):
    type = "author"

    async def facet_results(self):
        results, timed_out = [], []
        if not is_archive(self.ds, self.database) or self.table != "articles":
            return results, timed_out
        selected_ids = set(self.request.args.getlist("_author"))
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            # Unfiltered, every article counts: no need to test each one. Filtered, each matching article's authors
            # are looked up, unless nearly all articles match: then one pass over the (author_id, article_id)
            # index, testing each entry, is quicker (at 100,000 articles, 40 instead of 54 ms). Names are joined
            # to the counts, not to every row.
            within = ""
            if " where " in self.sql.lower() or self.params:
                plus = "+" if await self.matches_most() else ""
                within = f"where {plus}article_id in ({self.article_ids_sql()})"
            sql = ("select c.value, au.name as label, c.count from (select author_id as value, count(*) as count "
                   f"from article_authors {within} group by author_id) c join authors au on au.id = c.value "
                   f"order by c.count desc, label limit {size + 1}")
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append("author")
                continue
            values = []
            for row in rows.rows[:size]:
                selected = str(row["value"]) in selected_ids
                values.append({"value": row["value"], "label": row["label"], "count": row["count"],
                               "toggle_url": toggle_url(self, "_author", str(row["value"]), selected),
                               "selected": selected})
            results.append({"name": "author", "type": self.type, "results": values,
                            "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": path_with_removed_args(self.request, {"_facet_author": "id"}),
                            "truncated": len(rows.rows) > size})
        return results, timed_out

    def article_ids_sql(self) -> str:
        """The ids of the page's articles. When the search is the page's only filter, they are the search index's
        own matches (every indexed row is an article: pipelines.search), which saves a pass over the articles
        (at 100,000 articles, 40 instead of 75 ms for a word in nearly all of them)."""
        found = SEARCH_ONLY.fullmatch(self.sql.strip())
        return found.group(1) if found else f"select id from ({self.sql})"

    async def matches_most(self) -> bool:
        """Whether the page's filters leave more than three quarters of the articles (ids are never reused)."""
        if self.row_count is None:
            return False
        total = (await self.ds.execute(self.database, "select max(id) from articles")).first()[0] or 0
        return self.row_count * 4 > total * 3


def config_value(source_and_config: dict) -> str:
    config = source_and_config["config"]
    return config.get("simple") or config.get("column")


def toggle_url(facet: Facet, arg: str, value, selected: bool) -> str:
    """The page with this filter value added, or taken away when it is already applied.

    The request's path already holds Datasette's ``base_url``: adding it again (as ``datasette.urls.path`` does,
    and Datasette's own column facets therefore do) makes a link that is not found.
    """
    change = path_with_removed_args if selected else path_with_added_args
    return facet.ds.absolute_url(facet.request, change(facet.request, {arg: str(value)}))


@hookimpl
def register_facet_classes():
    return [ArticleFacet, YearFacet, AuthorFacet]


@hookimpl
def filters_from_request(request, database, table, datasette):
    """``?_author=ID`` (repeatable: all of them): articles with that author in their byline.

    Raises BadRequest for a value that is not an author id: a filter left out would show the wrong articles.
    """
    values = request.args.getlist("_author")
    if table != "articles" or not values or not is_archive(datasette, database):
        return None
    ids = [parse_row_id(value) for value in values]
    if None in ids:
        bad = next(v for v, i in zip(values, ids, strict=True) if i is None)
        raise BadRequest(f"_author={bad[:40]!r}: give an author's id, a whole number from 1 to {MAX_ROW_ID}")

    async def inner():
        db = datasette.get_database(database)
        clauses, params, described = [], {}, []
        for n, author_id in enumerate(ids):
            clauses.append(f"id in (select article_id from article_authors where author_id = :chaozhou_author_{n})")
            params[f"chaozhou_author_{n}"] = author_id
            row = (await db.execute("select name from authors where id = ?", [author_id])).first()
            described.append(f'author is "{row["name"] if row else author_id}"')
        return FilterArguments(clauses, params=params, human_descriptions=described)

    return inner
