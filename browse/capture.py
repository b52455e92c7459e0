"""Datasette plugin: a capture as it was fetched, at ``/<database>/captures/<id>/replay``.

The response body is read from its WARC record (file and offset in ``captures``; a revisit record is followed to
an earlier capture of the same payload) or from the saved HTML file an import read, if the file still has the
recorded digest. It is served with its captured Content-Type, its charset the one the parser decoded the page
with (``articles.encoding``): a page stored with no charset, or a wrong one, reads in the browser as it was
archived rather than as the browser guesses. It is served under a Content-Security-Policy ``sandbox`` with
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
from datasette.utils.asgi import Base400, NotFound, Response

from pipelines.errors import UnreadableBody, WarcDamaged
from pipelines.warc import MAX_BODY_BYTES, capture_path, payload_digest, read_record, warc_directory

from . import PLUGIN_NAME
from .archive import archive_database, row_id

CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"
TOO_LARGE = f"its stored body is over the {MAX_BODY_BYTES:,}-byte cap"
# Python's names for the encodings the parser may choose where the browser's (WHATWG) label differs; the others
# (utf-8, gb18030, gbk, big5, shift_jis, cp1252, iso8859-1, koi8-r, ...) browsers already know.
BROWSER_LABELS = {"euc_jp": "euc-jp", "euc_kr": "euc-kr", "iso2022_jp": "iso-2022-jp", "mac-roman": "macintosh",
                  "utf-16-le": "utf-16le", "utf-16-be": "utf-16be"}


class NotReplayable(Base400):
    """The capture is there, but its body is not served: too large (a gzip bomb the crawl refused), or not what
    its Content-Encoding says. Datasette answers with the message, never a traceback."""

    status = 422


def warc_dir(datasette, db) -> Path:
    config = datasette.plugin_config(PLUGIN_NAME, database=db.name) or {}
    return warc_directory(db.path, config.get("warc_dir"))


def read_capture(row: dict, directory: Path) -> tuple[str | None, bytes] | None:
    """(content type, body) of a capture row, or None when its file is gone or does not hold it.

    Raises NotReplayable for a body over MAX_BODY_BYTES (stored or once decoded) or one that cannot be decoded:
    nothing past the cap is ever read into memory.
    """
    if row["warc_file"] and row["warc_offset"] is not None:
        if row["warc_length"] and row["warc_length"] > MAX_BODY_BYTES:
            raise NotReplayable(f"Capture {row['id']}: {TOO_LARGE}")
        try:
            record = read_record(capture_path(directory, row["warc_file"]), row["warc_offset"])
            if record.unread:
                raise NotReplayable(f"Capture {row['id']}: {TOO_LARGE}")
            # Served without its Content-Encoding, so undone here, with the cap: a stored gzip bomb stays shut.
            body = record.exchange.decoded_body(MAX_BODY_BYTES)
        except (OSError, WarcDamaged):
            return None
        except UnreadableBody as exc:
            raise NotReplayable(f"Capture {row['id']}: {exc.reason}") from None
        return record.exchange.content_type or row["content_type"], body
    if row["saved_file"]:
        try:
            with open(row["saved_file"], "rb") as f:
                body = f.read(MAX_BODY_BYTES + 1)
        except OSError:
            return None
        # Only the bytes that were imported: the path alone could by now name any file.
        if len(body) > MAX_BODY_BYTES or payload_digest(body) != row["payload_digest"]:
            return None
        return row["content_type"], body
    return None


def with_charset(content_type: str | None, encoding: str | None) -> str:
    """content_type with its charset set to the encoding the archive read the page with, when there is one."""
    content_type = content_type or ("text/html" if encoding else "application/octet-stream")
    if not encoding:
        return content_type
    kept = [p.strip() for p in content_type.split(";")[1:] if not p.strip().lower().startswith("charset=")]
    label = BROWSER_LABELS.get(encoding.lower(), encoding.lower())
    return "; ".join([content_type.split(";")[0].strip(), *kept, f"charset={label}"])


async def read_encoding(db, capture_ids: list[int]) -> str | None:
    """The encoding the parser decoded these captures' payload with (one payload: a capture and its revisits)."""
    marks = ", ".join("?" * len(capture_ids))
    row = (await db.execute(f"select encoding from articles where capture_id in ({marks}) and encoding is not null "
                            "limit 1", capture_ids)).first()
    return row["encoding"] if row else None


async def capture_view(datasette, request):
    db = await archive_database(datasette, request, table="captures")
    capture_id = row_id(request.url_vars["id"])
    row = (await db.execute("select * from captures where id = ?", [capture_id])).first()
    if row is None:
        raise NotFound("No such capture")
    # A revisit record holds no body: the same payload was stored by an earlier capture.
    candidates = [dict(row)] + [dict(r) for r in (await db.execute(
        "select * from captures where payload_digest = ? and id != ? and (warc_file is not null or saved_file "
        "is not null) order by fetched_at desc limit 5", [row["payload_digest"], capture_id])).rows
        if row["payload_digest"]]
    directory = warc_dir(datasette, db)
    refused = None
    for candidate in candidates:
        try:
            found = await asyncio.to_thread(read_capture, candidate, directory)
        except NotReplayable as exc:
            refused = refused or exc
            continue
        if found and found[1]:
            content_type, body = found
            encoding = await read_encoding(db, [capture_id, candidate["id"]])
            return Response(body, content_type=with_charset(content_type, encoding), headers={
                "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer", "Cache-Control": "max-age=3600"})
    if refused:
        raise refused
    raise NotFound("The capture's WARC record or saved file is not available on this server")


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)/captures/(?P<id>[0-9]+)/replay$", capture_view)]
