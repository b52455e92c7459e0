"""What a file to import is, from its first bytes (never its name): a WARC, an ARC, a WACZ, a saved HTML page, or
something else, named, so that the import can say what it is rather than fail every record.

A gzipped WARC or ARC must hold one record per gzip member, as the WARC standard's annex and every crawler
(Heritrix, wget, Browsertrix, warcio) write it: that is what lets a capture be read back from its offset. A file
gzipped whole (``gzip file.warc``) is told apart here, before any record is stored with an offset that does not
exist; ``warcio recompress`` turns it into a readable one.

A WACZ is a zip whose ``archive/`` folder holds WARC files, stored uncompressed inside the zip (the WACZ
specification asks for that), so each one is a byte range of the .wacz file and its records are read, and read
back, at their offsets in it (``wacz_warcs``).
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum

HEAD = 64 * 1024  # bytes looked at (decompressed, for a gzip file)
# Bytes a writer may leave after a record within its gzip member (blank lines) and still be one record a member.
_SLACK = 64
_CDX_LINE = re.compile(rb"^(?: ?CDX [A-Za-z ]+\r?\n|\S+ \d{14} )")  # a CDX header, or SURT + timestamp (CDXJ too)
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.I)
_HTML_START = (b"<", b"\xff\xfe<", b"\xfe\xff\x00<")  # markup, in an ASCII-compatible encoding or UTF-16
# An element only HTML has (or a comment, as a browser's "saved from" line), somewhere in the first bytes: markup
# without one (an RSS feed, whose <title> and <link> are its own; an SVG; a mail quoting <someone@example.com>)
# is no page.
_HTML_ELEMENT = re.compile(rb"<(?:!doctype\s+html|!--|html|head|body|meta|script|style|div|p|a|span|"
                           rb"table|article|section|main|header|nav|ul|ol|h[1-6]|img|br|form|iframe)[\s/>]", re.I)


class FileKind(StrEnum):
    WARC = "a WARC file"
    ARC = "an ARC file"
    WACZ = "a WACZ file"
    HTML = "an HTML page"
    TEXT = "a text file, not an HTML page"
    WHOLE_GZIP = "a WARC gzipped as a whole"
    CDX = "a CDX index"
    ZIP = "a zip file with no WARC in its archive/ folder"
    GZIP = "a gzip file that holds no WARC"
    EMPTY = "an empty file"
    OTHER = "neither a WARC, ARC or WACZ file nor an HTML page"

    @property
    def readable(self) -> bool:
        return self in (FileKind.WARC, FileKind.ARC, FileKind.WACZ, FileKind.HTML)


# What to do about each kind the import cannot read.
_ADVICE = {
    FileKind.WHOLE_GZIP: "its records are not gzipped one by one, so none can be read back from its place; run "
                         "`warcio recompress FILE NEW.warc.gz` and import NEW.warc.gz",
    FileKind.CDX: "an index of captures, not the captures; import the WARC files it indexes",
    FileKind.ZIP: "unzip it and import the WARC files or pages inside",
    FileKind.GZIP: "gunzip it and import what is inside",
    FileKind.EMPTY: "nothing to import",
    FileKind.TEXT: "import WARC (.warc, .warc.gz), ARC or WACZ files, or HTML pages saved from a browser",
    FileKind.OTHER: "import WARC (.warc, .warc.gz), ARC or WACZ files, or HTML pages saved from a browser",
}


def refusal(path: str | os.PathLike, kind: FileKind) -> str:
    """One line saying what the file is and what to do instead."""
    return f"{path}: {kind.value}, not read: {_ADVICE[kind]}"


def file_kind(path: str | os.PathLike) -> FileKind:
    """What the file at ``path`` is, from its first bytes (for a gzip file, its first member's)."""
    with open(path, "rb") as f:
        head = f.read(HEAD)
    if not head:
        return FileKind.EMPTY
    if head.startswith(b"\x1f\x8b"):
        return _gzip_kind(path)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # a zip's first member, or an empty zip's end
        return FileKind.WACZ if wacz_warcs(path) else FileKind.ZIP
    return _text_kind(head)


def _text_kind(head: bytes) -> FileKind:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"WARC/"):
        return FileKind.WARC
    if text.startswith(b"filedesc://"):
        return FileKind.ARC
    if _CDX_LINE.match(text):
        return FileKind.CDX
    if text.startswith(_HTML_START[1:]) or (text.startswith(b"<") and _HTML_ELEMENT.search(text)):
        return FileKind.HTML
    # Text (no NUL byte, as file(1) and git judge it) that is no page: named as text, so that the user is not
    # asked for the URL of a page it never was.
    return FileKind.OTHER if b"\x00" in text else FileKind.TEXT


def _gzip_kind(path: str | os.PathLike) -> FileKind:
    """What the first gzip member holds; a WARC or ARC whose first member runs on past its first record was
    gzipped whole. Decompresses no further than it takes to tell."""
    chunks = _first_member(path)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= HEAD:
            break
    kind = _text_kind(head)
    if kind not in (FileKind.WARC, FileKind.ARC):
        return FileKind.CDX if kind is FileKind.CDX else FileKind.GZIP
    text = head.lstrip()
    first = _first_record_size(text, kind)
    if first is None:
        return kind
    limit, size = len(head) - len(text) + first + _SLACK, len(head)
    for chunk in chunks:
        if size > limit:
            break
        size += len(chunk)
    chunks.close()
    return FileKind.WHOLE_GZIP if size > limit else kind


def _first_member(path: str | os.PathLike) -> Generator[bytes]:
    """The first gzip member of the file, decompressed, a chunk at a time; it ends early at damage."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as f:
        while not decompressor.eof:
            data = decompressor.unconsumed_tail or f.read(HEAD)
            if not data:
                return
            try:
                yield decompressor.decompress(data, HEAD)
            except zlib.error:
                return


def _first_record_size(text: bytes, kind: FileKind) -> int | None:
    """Bytes of the first record (headers, block, the blank lines after it), from its own header; None if the
    header is not in ``text`` (the reader reports it)."""
    if kind is FileKind.WARC:
        end = text.find(b"\r\n\r\n")
        match = _CONTENT_LENGTH.search(text, 0, end + 2) if end >= 0 else None
        return end + 4 + int(match.group(1)) + 4 if match else None
    line_end = text.find(b"\n")  # ARC: "filedesc://NAME IP DATE TYPE LENGTH", the length of what follows
    length = text[:line_end].rsplit(b" ", 1)[-1] if line_end >= 0 else b""
    return line_end + 1 + int(length) + 1 if length.isdigit() else None


@dataclass
class WarcInZip:
    """A WARC file inside a WACZ: its name, and where its bytes lie in the .wacz file (if stored uncompressed)."""

    name: str
    start: int
    size: int
    stored: bool  # uncompressed in the zip, as the WACZ specification asks: a byte range of the .wacz file


def wacz_warcs(path: str | os.PathLike) -> list[WarcInZip]:
    """The WARC files in a WACZ's archive/ folder, in name order; [] for a zip with none (or a broken zip)."""
    try:
        with zipfile.ZipFile(path) as wacz, open(path, "rb") as f:
            found = []
            for info in sorted(wacz.infolist(), key=lambda i: i.filename):
                name = info.filename
                if not (name.startswith("archive/") and name.lower().endswith((".warc", ".warc.gz"))):
                    continue
                # The data starts after the member's local header, whose extra field may differ from the central
                # directory's: read it.
                f.seek(info.header_offset)
                local = f.read(30)
                name_length, extra_length = struct.unpack("<HH", local[26:30])
                found.append(WarcInZip(name, info.header_offset + 30 + name_length + extra_length,
                                       info.compress_size, info.compress_type == zipfile.ZIP_STORED))
            return found
    except (zipfile.BadZipFile, OSError, struct.error):
        return []
