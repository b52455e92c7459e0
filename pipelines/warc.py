"""WARC files, both ways: every exchange the crawl makes is written here, and every record is read back here.

Writing: gzipped WARC 1.1, made from the bytes we hold (not captured from the socket). Files are written as
NAME.warc.gz.open and renamed on close, so a file a killed run left behind is known by its suffix;
``recover_open_files`` cuts it back to its last whole record before anything reads it. Each record is made in
memory and written whole; a write that fails (a full disk) is cut back off, so a file never ends in half a
record while its writer lives.

Reading: any standard WARC (.warc or .warc.gz), an ARC file (as warcio converts it), or a WARC inside a WACZ
(``read_warc``'s byte range; ``pipelines.filekind`` tells which a file is). A record gives its Capture (what the
``captures`` table keeps) and its Exchange: the payload as it was sent, still content-encoded, de-chunked.
``Exchange.decoded_body`` undoes the Content-Encoding with a size cap, so a gzip bomb the crawl refused to read is
not inflated by a later reader.
A damaged WARC yields its good records, then raises ``WarcDamaged`` with the file and the offset where reading
stopped.

Every body the archive reads, fetched or stored, is held to one cap, ``MAX_BODY_BYTES``: the fetch's
(``scraper.fetch.FetchPolicy``), the import's, the re-parse's and the replay's. What warcio would read without a
limit is bounded too: a record's header lines (``pipelines.warc_bounds``) and a chunk of a chunked payload.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import zlib
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .errors import BodyTooLarge, UnreadableBody, WarcDamaged, WarcWriteError
from .item import Capture
from .times import parse_time, utc_from_text, utc_text
from .warc_bounds import BoundedRecords, FileSlice

OPEN_SUFFIX = ".open"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
# Record types that carry a page. request, warcinfo, metadata and conversion records are not counted at all.
PAGE_RECORDS = ("response", "resource", "revisit")
# Hop-by-hop framing that does not describe the stored payload: it is stored de-chunked.
_FRAMING_HEADERS = {"transfer-encoding"}
# The one cap on a body, as sent and once decoded: a page is far smaller, and a bigger body (a video in someone
# else's WARC, a gzip bomb) is not read into memory at all, whoever reads it. A page of the collection is < 1 MB.
MAX_BODY_BYTES = 20 * 1024 * 1024


def payload_digest(body: bytes) -> str:
    """The WARC spelling of a digest (``sha1:`` + base32), so that file and WARC captures compare."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_directory(db_path: str | os.PathLike, warc_dir: str | os.PathLike | None = None) -> Path:
    """Where a database's WARC files are: --warc-dir (or the plugin's ``warc_dir``), else archive/ beside it."""
    return Path(warc_dir) if warc_dir else Path(db_path).resolve().parent / "archive"


def capture_path(warc_dir: Path, warc_file: str) -> Path:
    """A capture's file: imports store absolute paths, the crawl a name inside its WARC directory."""
    path = Path(warc_file)
    return path if path.is_absolute() else warc_dir / warc_file


@dataclass
class Exchange:
    """One request and the response to it, byte for byte what a WARC file keeps."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int | None  # None: no HTTP status (a saved file, a WARC resource record)
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes  # the payload as sent on the wire (still content-encoded), de-chunked
    fetched_at: datetime
    http_version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == name), None)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""

    def decoded_body(self, max_bytes: int = MAX_BODY_BYTES) -> bytes:
        """The payload with Content-Encoding undone, stopping at max_bytes so a gzip bomb cannot fill memory.

        Raises BodyTooLarge past the cap, and UnreadableBody for a body that is not what its Content-Encoding
        says (or is cut short).
        """
        encoding = (self.header("Content-Encoding") or "").strip().lower()
        if encoding not in ("gzip", "x-gzip", "deflate") or not self.body:
            if len(self.body) > max_bytes:
                raise BodyTooLarge(self.url, f"body passed the {max_bytes:,}-byte cap")
            return self.body
        # gzip, zlib-wrapped deflate, then raw deflate (which some servers send as "deflate").
        for wbits in ((16 + zlib.MAX_WBITS,) if "gzip" in encoding else ()) + (zlib.MAX_WBITS, -zlib.MAX_WBITS):
            decompressor = zlib.decompressobj(wbits)
            try:
                out = decompressor.decompress(self.body, max_bytes + 1)
            except zlib.error:
                continue
            if len(out) > max_bytes:
                raise BodyTooLarge(self.url, f"decompressed body passed the {max_bytes:,}-byte cap")
            if not decompressor.eof:
                raise UnreadableBody(self.url, f"the {encoding} stream is cut short")
            return out
        raise UnreadableBody(self.url, f"Content-Encoding {encoding}, but the body is not {encoding} data")


# -- writing ---------------------------------------------------------------------------------------------------

class WarcArchive:
    """An append-only set of WARC files in one directory, rotated at max_bytes.

    ``info`` goes into each file's warcinfo record (software, user agent, what was crawled): nothing about the
    machine or its user.
    """

    def __init__(self, directory: str | os.PathLike, info: dict[str, str], prefix: str = "chaozhou",
                 max_bytes: int = 1024 ** 3):
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarcWriteError(self.directory, exc) from exc
        self.info = info
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._file = None
        self._writer: WARCWriter | None = None
        self._name: str | None = None
        self._serial = 0

    def _open(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        self._serial += 1
        self._name = f"{self.prefix}-{stamp}-{os.getpid()}-{os.urandom(3).hex()}-{self._serial:05d}.warc.gz"
        path = self.directory / (self._name + OPEN_SUFFIX)
        try:
            # Unbuffered: each record reaches the kernel in _write, before the database row that points at it.
            self._file = open(path, "xb", buffering=0)  # noqa: SIM115 - lives until close()
            # Held while it is written, and let go by the kernel when the writer ends, however it ends: what
            # recover_open_files asks before it touches an .open file (another crawl may share the folder).
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise WarcWriteError(self.directory, exc) from exc
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        try:
            self._write(self._writer.create_warcinfo_record(
                self._name, {"format": "WARC File Format 1.1", **self.info}))
        except WarcWriteError:
            self._file.close()
            path.unlink(missing_ok=True)
            self._file, self._writer, self._name = None, None, None
            raise

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
            self._file, self._writer, self._name = None, None, None

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ensure_open(self) -> None:
        if self._file is None or self._file.tell() > self.max_bytes:
            self.close()
            self._open()

    def _write(self, record) -> tuple[int, int]:
        buffer = BytesIO()
        WARCWriter(buffer, gzip=True, warc_version="1.1").write_record(record)
        data = memoryview(buffer.getbuffer())
        offset = self._file.tell()
        try:
            # In the kernel before this returns, so before the database row that points here is committed: a
            # kill -9 after this line cannot leave a capture row pointing past the end of the file.
            while data:
                data = data[self._file.write(data):]
        except OSError as exc:
            # A full disk: cut the partial record off, so that the file stays a run of whole records.
            with suppress(OSError):
                os.ftruncate(self._file.fileno(), offset)
                self._file.seek(offset)
            raise WarcWriteError(self.directory, exc) from exc
        return offset, self._file.tell() - offset

    def write_exchange(self, exchange: Exchange, revisit_of: Capture | None = None) -> Capture:
        """Write the request and its response (or a revisit record that points at revisit_of)."""
        self._ensure_open()
        date = utc_text(exchange.fetched_at)
        request = self._request_record(exchange, date)
        headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(),
            [(k, v) for k, v in exchange.response_headers if k.lower() not in _FRAMING_HEADERS],
            protocol=exchange.http_version,
        )
        digest = payload_digest(exchange.body)
        if revisit_of is not None or exchange.status == 304:
            profile = REVISIT_NOT_MODIFIED if exchange.status == 304 else REVISIT_IDENTICAL
            record = self._writer.create_revisit_record(
                exchange.url, revisit_of.payload_digest if revisit_of else digest,
                revisit_of.url if revisit_of else exchange.url, revisit_of.fetched_at if revisit_of else date,
                http_headers=headers, warc_headers_dict={"WARC-Date": date})
            record.rec_headers.replace_header("WARC-Profile", profile)
            if revisit_of is not None:
                record.rec_headers.add_header("WARC-Refers-To", revisit_of.record_id)
        else:
            record = self._writer.create_warc_record(
                exchange.url, "response", payload=BytesIO(exchange.body), length=len(exchange.body),
                http_headers=headers, warc_headers_dict={"WARC-Date": date})
        record.rec_headers.add_header("WARC-Concurrent-To", request.rec_headers.get_header("WARC-Record-ID"))
        offset, length = self._write(record)
        self._write(request)
        return Capture(record_id=record.rec_headers.get_header("WARC-Record-ID"), url=exchange.url,
                       fetched_at=date, status=exchange.status, content_type=exchange.content_type or None,
                       payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or digest,
                       warc_file=self._name, warc_offset=offset, warc_length=length)

    def _request_record(self, exchange: Exchange, date: str):
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", parts.netloc)] + [(k, v) for k, v in exchange.request_headers if k.lower() != "host"]
        http_headers = StatusAndHeaders(f"GET {target} {exchange.http_version}", headers, is_http_request=True)
        return self._writer.create_warc_record(exchange.url, "request", payload=BytesIO(b""), length=0,
                                               http_headers=http_headers, warc_headers_dict={"WARC-Date": date})


# -- reading ---------------------------------------------------------------------------------------------------

@dataclass
class Record:
    """One page record of a WARC file: where it lies and what it holds."""

    capture: Capture
    exchange: Exchange  # for a revisit record, the headers only (its body is an earlier record's)
    record_type: str = "response"  # response, resource, revisit
    end_offset: int = 0  # bytes of the file read so far, for progress
    unread: str | None = None  # why the payload was not read (over MAX_BODY_BYTES): no page, whatever its type

    @property
    def is_revisit(self) -> bool:
        return self.record_type == "revisit"


def read_warc(path: str | os.PathLike, start: int = 0, size: int | None = None) -> Iterator[Record]:
    """Yield each page record of the WARC (or ARC) at ``path``, or of the one in its ``size`` bytes from ``start``
    (a WARC inside a WACZ); raise ``WarcDamaged`` after the last good one. Offsets are the file's."""
    warc_file = os.path.abspath(path)
    with open(path, "rb") as fh:
        # arc2warc: an ARC record reads as the WARC response record it would be.
        records = BoundedRecords(FileSlice(fh, start, size) if start or size is not None else fh, arc2warc=True)
        good_end = start
        try:
            for raw in records:
                record = _page_record(raw, warc_file)
                offset, length = start + records.get_record_offset(), records.get_record_length()
                if offset < good_end or length < 0:  # a file gzipped whole (pipelines.filekind tells it first)
                    raise WarcDamaged(str(path), good_end, "its gzip members do not hold one record each")
                if record is None:
                    good_end = offset + length
                    continue
                if getattr(raw.raw_stream, "limit", 0) > 0:
                    raise WarcDamaged(str(path), offset, f"the {raw.rec_type} record for {record.capture.url} is "
                                                         f"truncated ({raw.raw_stream.limit} bytes missing)")
                record.capture.warc_offset, record.capture.warc_length = offset, length
                record.end_offset = good_end = offset + length
                yield record
        except WarcDamaged:
            raise
        # warcio reports a malformed record in many ways (a record without a target URI, say, as AttributeError).
        except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError, IndexError, AttributeError,
                TypeError) as exc:
            raise WarcDamaged(str(path), good_end, printable(str(exc)) or type(exc).__name__) from exc


def read_record(path: str | os.PathLike, offset: int) -> Record:
    """The page record at ``offset`` in ``path`` (or in ``path``.open, while its writer lives).

    Raises OSError when the file cannot be read and WarcDamaged when no page record starts there.
    """
    path = Path(path)
    if not path.exists() and Path(str(path) + OPEN_SUFFIX).exists():
        path = Path(str(path) + OPEN_SUFFIX)
    with open(path, "rb") as f:
        f.seek(offset)
        try:
            raw = next(iter(BoundedRecords(f, arc2warc=True)))
            record = _page_record(raw, os.path.abspath(path))
        except (StopIteration, ArchiveLoadFailed, zlib.error, EOFError, ValueError, IndexError, AttributeError,
                TypeError) as exc:
            raise WarcDamaged(str(path), offset, printable(str(exc)) or "no record there") from exc
    if record is None:
        raise WarcDamaged(str(path), offset, "the record there is not a page")
    record.capture.warc_offset = offset
    return record


def printable(text: str, limit: int = 160) -> str:
    """warcio quotes the damaged bytes in its messages: keep them readable on a terminal."""
    text = " ".join("".join(c if c.isprintable() else "?" for c in text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def _page_record(raw, warc_file: str) -> Record | None:
    if raw.rec_type not in PAGE_RECORDS:
        return None
    headers = raw.rec_headers
    url = (headers.get_header("WARC-Target-URI") or "").strip("<>")
    http = raw.http_headers
    code = http.get_statuscode() if http else None
    status = int(code) if code and code.isdigit() else None
    if raw.rec_type == "resource":
        response_headers = [("Content-Type", headers.get_header("Content-Type") or "")]
    else:
        response_headers = list(http.headers) if http else []
    body = b"" if raw.rec_type == "revisit" else _payload(raw, http)
    unread = None
    if body is None:
        body, unread = b"", f"a payload over the {MAX_BODY_BYTES:,}-byte cap, not read"
    fetched_at = utc_from_text(headers.get_header("WARC-Date"))
    exchange = Exchange(
        url=url, request_headers=[], status=status,
        reason=(http.statusline.partition(" ")[2] if http and status else ""),
        response_headers=response_headers, body=body,
        fetched_at=_moment(fetched_at), http_version=(http.protocol if http and http.protocol else "HTTP/1.1"))
    digest = headers.get_header("WARC-Payload-Digest") or (payload_digest(body) if raw.rec_type != "revisit" else None)
    capture = Capture(
        record_id=headers.get_header("WARC-Record-ID") or f"{warc_file}#{headers.get_header('WARC-Date')}#{url}",
        url=url, fetched_at=fetched_at, status=status, content_type=exchange.content_type or None,
        payload_digest=digest, warc_file=warc_file,
    )
    return Record(capture=capture, exchange=exchange, record_type=raw.rec_type, unread=unread)


def _payload(raw, http) -> bytes | None:
    """The payload as sent, content encoding kept, transfer (chunked) encoding undone; None past MAX_BODY_BYTES."""
    stream = limited = raw.raw_stream
    if http is not None and (http.get_header("Transfer-Encoding") or "").lower() == "chunked":
        # warcio reads a chunk whole, whatever size its line claims: it gets no more than the cap to read from.
        limited = LimitReader(raw.raw_stream, MAX_BODY_BYTES + 1)
        stream = ChunkedDataReader(limited, decomp_type=None)
    body = stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES or (limited is not raw.raw_stream and limited.limit == 0):
        return None  # too large as stored, chunk lines and all; warcio skips the rest a block at a time
    return body


def _moment(text: str | None) -> datetime:
    return parse_time(text) or datetime.fromtimestamp(0, UTC)


# -- repair ----------------------------------------------------------------------------------------------------

def whole_members_end(path: str | os.PathLike) -> int:
    """Offset just past the last complete gzip member (one WARC record each) in path.

    warcio reads a cut record without complaint, so completeness is judged at the gzip layer: a member is whole
    only when zlib reaches its end and its CRC checks.
    """
    good_end, member_start, consumed = 0, 0, 0
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            while chunk:
                try:
                    decompressor.decompress(chunk)
                except zlib.error:
                    return good_end
                if not decompressor.eof:
                    consumed += len(chunk)
                    break
                used = len(chunk) - len(decompressor.unused_data)
                good_end = member_start = consumed + used
                consumed = member_start
                chunk = decompressor.unused_data
                decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return good_end


def recover_open_files(directory: str | os.PathLike) -> list[tuple[str, int]]:
    """Cut every *.open file a killed writer left back to its last whole record and give it its final name; a
    file a living writer holds (another crawl writing to the same folder) is left alone.

    Returns (file name, bytes cut) for each file recovered. Records before the damage are kept whole.
    """
    recovered = []
    for open_path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        with open(open_path, "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being written
            good_end = whole_members_end(open_path)
            size = open_path.stat().st_size
            f.truncate(good_end)
            final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
            if final.exists():  # never overwrite a closed file; names are unique, so this means a copy
                final = final.with_name(final.name.replace(".warc.gz", f"-recovered-{os.urandom(3).hex()}.warc.gz"))
            os.replace(open_path, final)  # still held: no other recovery can reach it meanwhile
        recovered.append((final.name, size - good_end))
    return recovered
