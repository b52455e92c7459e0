"""From response bytes to text, choosing the encoding the way a browser would and saying why."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# Chinese pages that declare gb2312 or gbk routinely use characters outside those sets; gb18030 is a superset
# of both, so decoding with it never loses a character the page meant.
_WIDEN = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
          "euc-cn": "gb18030", "hz-gb-2312": "gb18030", "csgb2312": "gb18030", "cp936": "gb18030",
          "ascii": "utf-8", "us-ascii": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252"}

# CleanEval-style dumps wrap a page as <text id=… encoding=…>.
_WRAPPER_ENCODING = re.compile(rb"""<text\b[^>]*\bencoding\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


# A declared charset is kept, with U+FFFD for the bytes it cannot read, when at most this share of the text is
# unreadable: real GB2312 pages carry a few stray bytes, and browsers show them the same way. More than that
# and the declaration is taken to be wrong (a header that lies about the body).
MAX_REPLACED_SHARE = 0.002


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str
    encoding_source: str  # "bom", "http-header", "meta", "utf-8", "detector", "fallback"
    replaced: int = 0  # bytes that could not be decoded and were replaced by U+FFFD


def normalise_encoding(name: str | None) -> str | None:
    """Python codec name for a declared charset, widened where the declared set is too narrow."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return _WIDEN.get(name) or _WIDEN.get(canonical) or canonical


def _try(data: bytes, encoding: str | None, lenient: bool) -> tuple[str, int] | None:
    """Decode strictly; if lenient, accept a few undecodable bytes (replaced). None when it does not fit."""
    if not encoding:
        return None
    try:
        return data.decode(encoding), 0
    except LookupError:
        return None
    except UnicodeDecodeError:
        if not lenient:
            return None
    text = data.decode(encoding, errors="replace")
    replaced = text.count("\ufffd")
    if replaced <= max(1, MAX_REPLACED_SHARE * len(text)):
        return text, replaced
    return None


def declared_encoding(data: bytes) -> str | None:
    """The charset the document itself declares (meta, XML declaration or a CleanEval wrapper)."""
    head = data[:4096]
    found = html_body_declared_encoding(head)
    if not found:
        m = _WRAPPER_ENCODING.search(head)
        found = m.group(1).decode("ascii", "replace") if m else None
    return found


def decode_html(data: bytes, content_type: str | None = None) -> DecodedPage:
    """Decode a page: BOM, then the HTTP charset, then <meta>, then strict UTF-8, then a detector.

    A declared charset that cannot decode the bytes is passed over rather than trusted, so a header that
    lies about the body does not produce mojibake.
    """
    bom_encoding, bom = read_bom(data)
    if bom_encoding:
        encoding = normalise_encoding(bom_encoding) or "utf-8"
        text = data[len(bom):].decode(encoding, errors="replace")
        return DecodedPage(text, encoding, "bom")

    candidates = [
        (normalise_encoding(http_content_type_encoding(content_type or "")), "http-header"),
        (normalise_encoding(declared_encoding(data)), "meta"),
        ("utf-8", "utf-8"),
    ]
    # First pass strict, so that a header that lies is passed over for a <meta> that fits exactly; second
    # pass lenient, so that a declared charset with a few stray bytes still wins over a detector's guess.
    for lenient in (False, True):
        for encoding, source in candidates:
            decoded = _try(data, encoding, lenient)
            if decoded is not None:
                return DecodedPage(decoded[0], encoding, source, decoded[1])

    best = from_bytes(data[:200_000]).best()
    if best is not None:
        encoding = normalise_encoding(best.encoding) or best.encoding
        return DecodedPage(data.decode(encoding, errors="replace"), encoding, "detector")
    return DecodedPage(data.decode("utf-8", errors="replace"), "utf-8", "fallback")
