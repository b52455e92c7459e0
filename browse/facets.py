"""Datasette plugin: facets by year and by author, and the ``_author=`` filter the author facet links to.

Datasette's own facets count a column's values; a year is the first four characters of ``published_at`` and
authors live in a join table, so both are facet classes of their own (``register_facet_classes``), declared on
the articles table by ``browse.metadata`` as ``{"year": "published_at"}`` and ``{"author": "id"}``. A year links to
Datasette's own ``published_at__startswith=`` filter; an author to ``_author=ID``, added by
``filters_from_request``.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

from .archive import is_archive


class YearFacet(Facet):
    type = "year"

    async def facet_results(self):
        results, timed_out = [], []
        if not is_archive(self.ds, self.database):
            return results, timed_out
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            column = source_and_config["config"].get("simple") or source_and_config["config"].get("column")
            col = escape_sqlite(column)
            # Newest first, as the table is; substr over the indexed column reads the index, not the rows.
            sql = (f"select substr({col}, 1, 4) as value, count(*) as count from ({self.sql}) "
                   f"where {col} glob '[0-9][0-9][0-9][0-9]*' group by value order by value desc limit {size + 1}")
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append("year")
                continue
            arg = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(arg) == row["value"]
                path = (path_with_removed_args(self.request, {arg: row["value"]}) if selected
                        else path_with_added_args(self.request, {arg: row["value"]}))
                values.append({"value": row["value"], "label": row["value"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path), "selected": selected})
            results.append({"name": "year", "type": self.type, "results": values,
                            "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": path_with_removed_args(self.request, {"_facet_year": column}),
                            "truncated": len(rows.rows) > size})
        return results, timed_out


class AuthorFacet(Facet):
    type = "author"

    async def facet_results(self):
        results, timed_out = [], []
        if not is_archive(self.ds, self.database) or self.table != "articles":
            return results, timed_out
        selected_ids = set(self.request.args.getlist("_author"))
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            # Unfiltered, every article counts: skip the IN over 100k ids (it costs more than the count itself).
            unfiltered = " where " not in self.sql.lower() and not self.params
            within = "" if unfiltered else f"where aa.article_id in (select id from ({self.sql}))"
            sql = ("select aa.author_id as value, au.name as label, count(*) as count from article_authors aa "
                   f"join authors au on au.id = aa.author_id {within} group by aa.author_id "
                   f"order by count desc, label limit {size + 1}")
            try:
                rows = await self.ds.execute(self.database, sql, self.params, truncate=False,
                                             custom_time_limit=self.ds.setting("facet_time_limit_ms"))
            except QueryInterrupted:
                timed_out.append("author")
                continue
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                selected = value in selected_ids
                path = (path_with_removed_args(self.request, {"_author": value}) if selected
                        else path_with_added_args(self.request, {"_author": value}))
                values.append({"value": row["value"], "label": row["label"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, path), "selected": selected})
            results.append({"name": "author", "type": self.type, "results": values,
                            "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": path_with_removed_args(self.request, {"_facet_author": "id"}),
                            "truncated": len(rows.rows) > size})
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [YearFacet, AuthorFacet]


@hookimpl
def filters_from_request(request, database, table, datasette):
    """``?_author=ID`` (repeatable: all of them): articles with that author in their byline."""
    ids = [value for value in request.args.getlist("_author") if value.isdigit()]
    if table != "articles" or not ids or not is_archive(datasette, database):
        return None

    async def inner():
        db = datasette.get_database(database)
        clauses, params, described = [], {}, []
        for n, author_id in enumerate(ids):
            clauses.append(f"id in (select article_id from article_authors where author_id = :chaozhou_author_{n})")
            params[f"chaozhou_author_{n}"] = int(author_id)
            row = (await db.execute("select name from authors where id = ?", [int(author_id)])).first()
            described.append(f'author is "{row["name"] if row else author_id}"')
        return FilterArguments(clauses, params=params, human_descriptions=described)

    return inner
