"""Which served databases are archives, and small helpers shared by the plugin modules.

A database is an archive when it has an ``articles`` table and its search index (``articles_fts``); only those
get our metadata, pages and queries, so other databases in the same Datasette keep Datasette's defaults.
"""

from __future__ import annotations

from datasette.utils.asgi import NotFound

from pipelines.datasette_plugin import archive_databases, has_archive

# One test and one cache for every plugin of the archive (pipelines.datasette_plugin): a database is an archive
# when it has an ``articles`` table and its search index.
conn_is_archive = has_archive
archive_names = archive_databases


def is_archive(datasette, database: str | None) -> bool:
    return database is not None and database in archive_names(datasette)


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
    await datasette.ensure_permissions(request.actor, [
        ("view-table", (db.name, table)), ("view-database", db.name), "view-instance"])
    return db
