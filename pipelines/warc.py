"""Read captures: WARC files (any standard WARC, .warc or .warc.gz) and saved HTML pages.

Readers yield ``Response`` objects; they never parse HTML. A damaged WARC yields its good records, then raises
``WarcDamaged`` with the file and the byte offset where reading stopped.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from .errors import WarcDamaged
from .store import Capture

# Record types that carry a page. request, warcinfo, metadata and conversion records are not counted at all.
PAGE_RECORDS = ("response", "resource", "revisit")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)", re.I | re.S)
# Where saved pages keep their address: Chrome/IE "saved from url=(0064)…", SingleFile, canonical and og:url.
_SAVED_URL = (
    re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I),
    re.compile(rb"Page saved with SingleFile\s+url:\s*(\S+)", re.I),
    re.compile(rb"<link[^>]+rel=[\"']?canonical[\"']?[^>]+href=[\"']?([^\"'\s>]+)", re.I),
    re.compile(rb"<link[^>]+href=[\"']?([^\"'\s>]+)[\"']?[^>]+rel=[\"']?canonical", re.I),
    re.compile(rb"<meta[^>]+property=[\"']?og:url[\"']?[^>]+content=[\"']?([^\"'\s>]+)", re.I),
)


@dataclass
class Response:
    capture: Capture
    body: bytes | None        # None for a revisit record
    record_type: str = "response"
    end_offset: int = 0       # bytes of the file read so far, for progress


def is_html(content_type: str | None, body: bytes | None) -> bool:
    """HTML by its Content-Type, or, when the type is missing or generic, by how the body starts."""
    if not body:
        return False
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    if kind in ("", "application/octet-stream", "text/plain", "unk", "unknown"):
        return bool(_HTML_START.match(body[:4096]))
    return False


def read_warc(path: str) -> Iterator[Response]:
    """Yield each page record of the WARC at ``path``; raise ``WarcDamaged`` after the last good one."""
    warc_file = os.path.abspath(path)
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        good_end = 0
        try:
            for record in records:
                response = read_record(record, warc_file)
                offset, length = records.get_record_offset(), records.get_record_length()
                if response is None:
                    good_end = offset + length
                    continue
                if getattr(record.raw_stream, "limit", 0) > 0:
                    raise WarcDamaged(path, offset, f"the {record.rec_type} record for {response.capture.url} is "
                                                    f"truncated ({record.raw_stream.limit} bytes missing)")
                response.capture.warc_offset, response.capture.warc_length = offset, length
                response.end_offset = good_end = offset + length
                yield response
        except WarcDamaged:
            raise
        except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError, IndexError) as exc:
            raise WarcDamaged(path, good_end, printable(str(exc)) or type(exc).__name__) from exc


def printable(text: str, limit: int = 160) -> str:
    """warcio quotes the damaged bytes in its messages: keep them readable on a terminal."""
    text = " ".join("".join(c if c.isprintable() else "?" for c in text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def read_record(record, warc_file: str) -> Response | None:
    if record.rec_type not in PAGE_RECORDS:
        return None
    headers = record.rec_headers
    url = (headers.get_header("WARC-Target-URI") or "").strip("<>")
    http = record.http_headers
    status = int(http.get_statuscode()) if http and http.get_statuscode() and http.get_statuscode().isdigit() else None
    if record.rec_type == "resource":
        content_type = headers.get_header("Content-Type")
    else:
        content_type = http.get_header("Content-Type") if http else None
    body = None if record.rec_type == "revisit" else record.content_stream().read()
    digest = headers.get_header("WARC-Payload-Digest") or (payload_digest(body) if body is not None else None)
    capture = Capture(
        record_id=headers.get_header("WARC-Record-ID") or f"{warc_file}#{record.rec_headers.get_header('WARC-Date')}"
                                                           f"#{url}",
        url=url, fetched_at=warc_time(headers.get_header("WARC-Date")), status=status,
        content_type=content_type, payload_digest=digest, warc_file=warc_file,
    )
    return Response(capture=capture, body=body, record_type=record.rec_type)


def read_html_file(path: str, url: str | None) -> Response:
    """A saved page as a Response; its URL is ``url``, else the one the saving browser wrote into the page."""
    with open(path, "rb") as f:
        body = f.read()
    url = url or url_from_saved_page(body)
    digest = payload_digest(body)
    mtime = datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
    capture = Capture(
        # Same bytes at the same URL is the same capture, wherever the file lies: re-importing changes nothing.
        record_id=f"file:{digest}:{url}", url=url or "", fetched_at=mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        status=None, content_type="text/html", payload_digest=digest, saved_file=os.path.abspath(path),
    )
    return Response(capture=capture, body=body, record_type="file", end_offset=len(body))


def url_from_saved_page(body: bytes) -> str | None:
    head = body[:65536]
    for pattern in _SAVED_URL:
        match = pattern.search(head)
        if match and match.group(1).lower().startswith((b"http://", b"https://")):
            return match.group(1).decode("utf-8", "replace")
    return None


def payload_digest(body: bytes) -> str:
    """The WARC spelling of a digest (``sha1:`` + base32), so that file and WARC captures compare."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_time(value: str | None) -> str | None:
    """WARC-Date in one spelling (``2020-10-13T03:13:14Z``), so that times compare as text."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
