"""Datasette plugin: Datasette's own pages of an archive, tidied for readers who are not SQL users.

- The tables readers look at (articles first) come before the archive's internal tables (captures, runs, ...) on
  the front page and on the database page; Datasette orders them by relationships and row counts, which put
  ``captures`` first.
- Facets are headed in both languages (``年份 · year``) instead of by column name and facet type.
- The licence is shown once, under the title, not again in the footer.

The templates in ``browse/templates`` extend Datasette's own (``default:``) or change one line of a copy, and ask
the functions given here (``extra_template_vars``), which leave any database that is not an archive as it was.
"""

from __future__ import annotations

from datasette import hookimpl

from .archive import archive_names, is_archive

# Readers' tables in this order; any other table (internal: captures, runs, run_health, dropped, frontier, ...)
# follows, by name.
READER_TABLES = ("articles", "authors", "sources", "article_authors", "images", "article_versions")
FACET_TITLES = {"year": "年份 · year", "author": "作者 · author", "source_id": "来源 · source",
                "column": "栏目 · column", "collection": "文库 · collection"}


def reader_first(names: list[str]) -> list[str]:
    """Table names with the readers' tables first, in READER_TABLES order, then the rest by name."""
    rank = {name: n for n, name in enumerate(READER_TABLES)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


@hookimpl
def extra_template_vars(datasette, database, table, request):
    archives = set(archive_names(datasette))

    def order_tables(tables: list[dict]) -> list[dict]:
        if database not in archives:
            return tables
        by_name = {t["name"]: t for t in tables}
        return [by_name[name] for name in reader_first(list(by_name))]

    def facet_title(name: str, kind: str) -> str:
        if is_archive(datasette, database) and table == "articles" and name in FACET_TITLES:
            return FACET_TITLES[name]
        return name if kind == "column" else f"{name} ({kind})"

    async def index_tables() -> dict[str, list[str]]:
        """Each archive's visible tables, readers' first: the front page lists them all (there are a dozen)."""
        listed = {}
        actor = request.actor if request else None
        for name in archives:
            db = datasette.get_database(name)
            hidden = set(await db.hidden_table_names())
            names = []
            for t in await db.table_names():
                # As Datasette's own list: a table the actor may not see is not named.
                visible, _ = await datasette.check_visibility(actor, action="view-table", resource=(name, t))
                if t not in hidden and visible:
                    names.append(t)
            listed[name] = reader_first(names)
        return listed

    async def inner():
        return {"chaozhou_order_tables": order_tables, "chaozhou_facet_title": facet_title,
                "chaozhou_archive_page": database in archives or (database is None and bool(archives)),
                "chaozhou_index_tables": await index_tables() if database is None else {}}

    return inner
