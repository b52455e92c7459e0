"""Every exchange kept as gzipped WARC 1.1, written from the bytes we hold (not captured from the socket).

Files are written as NAME.warc.gz.open and renamed on close, so a file a killed run left behind is known by its
suffix; `recover_open_files` cuts it back to its last whole record before anything reads it. Each record is made
in memory and written whole; a write that fails (a full disk) is cut back off, so a file never ends in half a
record while its writer lives.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__
from .errors import ScraperError
from .fetch import Exchange

OPEN_SUFFIX = ".open"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
# Hop-by-hop framing that does not describe the stored payload: it is stored de-chunked.
_FRAMING_HEADERS = {"transfer-encoding"}


def warc_directory(db_path: str | os.PathLike, warc_dir: str | os.PathLike | None = None) -> Path:
    """Where a database's WARC files are: --warc-dir (or the plugin's ``warc_dir``), else archive/ beside it."""
    return Path(warc_dir) if warc_dir else Path(db_path).resolve().parent / "archive"


def capture_path(warc_dir: Path, warc_file: str) -> Path:
    """A capture's file: imports store absolute paths, the crawl a name inside its WARC directory."""
    path = Path(warc_file)
    return path if path.is_absolute() else warc_dir / warc_file


class WarcWriteError(ScraperError):
    """A WARC file could not be written (a full disk, a read-only folder): the run must stop."""

    def __init__(self, path: str | os.PathLike, exc: OSError):
        self.path = str(path)
        super().__init__(f"{path}: cannot write WARC files there: {exc.strerror or exc}: free some space or make "
                         "the folder writable, then run again (records already written are whole)")


@dataclass(frozen=True)
class Capture:
    """Where one response record lies: what the captures table stores."""

    url: str
    warc_file: str  # the file's final name (without .open), relative to the WARC directory
    offset: int
    length: int
    record_id: str
    payload_digest: str
    fetched_at: str
    status: int
    revisit_of: str | None = None


def payload_digest(body: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcArchive:
    """An append-only set of WARC files in one directory, rotated at max_bytes."""

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

    # -- files ---------------------------------------------------------------------------------------------
    def _open(self) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        self._serial += 1
        self._name = f"{self.prefix}-{stamp}-{os.getpid()}-{os.urandom(3).hex()}-{self._serial:05d}.warc.gz"
        path = self.directory / (self._name + OPEN_SUFFIX)
        try:
            # Unbuffered: each record reaches the kernel in _write, before the database row that points at it.
            self._file = open(path, "xb", buffering=0)  # noqa: SIM115 - lives until close()
        except OSError as exc:
            raise WarcWriteError(self.directory, exc) from exc
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        # No host name or user in warcinfo: nothing about the machine or its user goes into the archive.
        info = {"software": f"chaozhou-archive/{__version__}", "format": "WARC File Format 1.1", **self.info}
        try:
            self._write(self._writer.create_warcinfo_record(self._name, info))
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

    # -- records -------------------------------------------------------------------------------------------
    def write_exchange(self, exchange: Exchange, revisit_of: Capture | None = None) -> Capture:
        """Write the request and its response (or a revisit record that points at revisit_of)."""
        self._ensure_open()
        date = warc_date(exchange.fetched_at)
        request = self._request_record(exchange, date)
        headers = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(),
            [(k, v) for k, v in exchange.response_headers if k.lower() not in _FRAMING_HEADERS],
            protocol=exchange.http_version,
        )
        digest = payload_digest(exchange.body)
        if revisit_of is not None or exchange.status == 304:
            profile = REVISIT_NOT_MODIFIED if exchange.status == 304 else REVISIT_IDENTICAL
            refers_uri = revisit_of.url if revisit_of else exchange.url
            refers_date = revisit_of.fetched_at if revisit_of else date
            record = self._writer.create_revisit_record(
                exchange.url, revisit_of.payload_digest if revisit_of else digest, refers_uri, refers_date,
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
        return Capture(url=exchange.url, warc_file=self._name, offset=offset, length=length,
                       record_id=record.rec_headers.get_header("WARC-Record-ID"),
                       payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or digest,
                       fetched_at=date, status=exchange.status,
                       revisit_of=revisit_of.record_id if revisit_of else None)

    def _request_record(self, exchange: Exchange, date: str):
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [("Host", parts.netloc)] + [(k, v) for k, v in exchange.request_headers if k.lower() != "host"]
        http_headers = StatusAndHeaders(f"GET {target} {exchange.http_version}", headers, is_http_request=True)
        return self._writer.create_warc_record(exchange.url, "request", payload=BytesIO(b""), length=0,
                                               http_headers=http_headers, warc_headers_dict={"WARC-Date": date})


def read_response(path: str | os.PathLike, offset: int) -> tuple[str, StatusAndHeaders, bytes]:
    """(target URI, HTTP headers, payload) of the response record at offset in path (or path.open)."""
    path = Path(path)
    if not path.exists() and Path(str(path) + OPEN_SUFFIX).exists():
        path = Path(str(path) + OPEN_SUFFIX)
    with open(path, "rb") as f:
        f.seek(offset)
        record = next(iter(ArchiveIterator(f)))
        return (record.rec_headers.get_header("WARC-Target-URI"), record.http_headers,
                record.content_stream().read())


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
    """Cut every *.open file back to its last whole record and give it its final name.

    Returns (file name, bytes cut) for each file recovered. Records before the damage are kept whole.
    """
    recovered = []
    for open_path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        good_end = whole_members_end(open_path)
        size = open_path.stat().st_size
        with open(open_path, "r+b") as f:
            f.truncate(good_end)
        final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
        if final.exists():  # never overwrite a closed file; names are unique, so this means a copy
            final = final.with_name(final.name.replace(".warc.gz", f"-recovered-{os.urandom(3).hex()}.warc.gz"))
        os.replace(open_path, final)
        recovered.append((final.name, size - good_end))
    return recovered
