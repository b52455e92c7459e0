"""Datasette opens an archive read-only: every connection to it is set to `query_only`.

Datasette already reads through `mode=ro` connections, but a plugin or a writable canned query could still ask
for its write connection. The crawl is the archive's only writer; what Datasette serves can never change it.
"""

from __future__ import annotations

from datasette import hookimpl

from .archive import conn_is_archive


@hookimpl
def prepare_connection(conn):
    if conn_is_archive(conn):
        conn.execute("PRAGMA query_only = ON")
