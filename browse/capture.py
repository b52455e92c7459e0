"""Datasette plugin: a capture as it was fetched, at ``/<database>/captures/<id>/replay``.

The response body is read from its WARC record (file and offset in ``captures``; a revisit record is followed to
an earlier capture of the same payload) or from the saved HTML file an import read, if the file still has the
recorded digest. It is served with its captured Content-Type under a Content-Security-Policy ``sandbox`` with
no sources allowed: the page is shown as text and layout only, its scripts never run, and it fetches nothing
(not even from the original site), so opening an archived page neither runs a hostile page's code nor tells
anyone it was read.

WARC files stored by name (the crawl's) are looked for in the ``warc_dir`` of the plugin's configuration
(``plugins: chaozhou-archive: warc_dir`` in Datasette's metadata), else in ``archive/`` beside the database,
as ``scraper crawl`` keeps them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from pipelines.errors import UnreadableBody, WarcDamaged
from pipelines.warc import capture_path, payload_digest, read_record, warc_directory

from . import PLUGIN_NAME
from .archive import archive_database

CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
MAX_BYTES = 25 * 1024 * 1024  # the crawl keeps bodies up to 20 MB; a bigger "record" is not one of ours


def warc_dir(datasette, db) -> Path:
    config = datasette.plugin_config(PLUGIN_NAME, database=db.name) or {}
    return warc_directory(db.path, config.get("warc_dir"))


def read_capture(row: dict, directory: Path) -> tuple[str | None, bytes] | None:
    """(content type, body) of a capture row, or None when its file is gone or does not hold it."""
    if row["warc_file"] and row["warc_offset"] is not None:
        if row["warc_length"] and row["warc_length"] > MAX_BYTES:
            return None
        try:
            record = read_record(capture_path(directory, row["warc_file"]), row["warc_offset"])
            # Served without its Content-Encoding, so undone here, with a cap: a stored gzip bomb stays shut.
            body = record.exchange.decoded_body(MAX_BYTES)
        except (OSError, WarcDamaged, UnreadableBody):
            return None
        return record.exchange.content_type or row["content_type"], body
    if row["saved_file"]:
        path = Path(row["saved_file"])
        try:
            if path.stat().st_size > MAX_BYTES:
                return None
            body = path.read_bytes()
        except OSError:
            return None
        # Only the bytes that were imported: the path alone could by now name any file.
        if payload_digest(body) != row["payload_digest"]:
            return None
        return row["content_type"], body
    return None


async def capture_view(datasette, request):
    db = await archive_database(datasette, request, table="captures")
    capture_id = int(request.url_vars["id"])
    row = (await db.execute("select * from captures where id = ?", [capture_id])).first()
    if row is None:
        raise NotFound("No such capture")
    # A revisit record holds no body: the same payload was stored by an earlier capture.
    candidates = [dict(row)] + [dict(r) for r in (await db.execute(
        "select * from captures where payload_digest = ? and id != ? and (warc_file is not null or saved_file "
        "is not null) order by fetched_at desc limit 5", [row["payload_digest"], capture_id])).rows
        if row["payload_digest"]]
    directory = warc_dir(datasette, db)
    for candidate in candidates:
        found = await asyncio.to_thread(read_capture, candidate, directory)
        if found and found[1]:
            content_type, body = found
            return Response(body, content_type=content_type or "application/octet-stream", headers={
                "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Cache-Control": "max-age=3600"})
    raise NotFound("The capture's WARC record or saved file is not available on this server")


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)/captures/(?P<id>\d+)/replay$", capture_view)]
