"""URL identity: the canonical form under which an article is stored once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from requests.models import PreparedRequest
from urllib3.util import parse_url
from w3lib.url import canonicalize_url as _w3lib_canonicalize

# Parameters that say how a reader arrived, never which page it is.
TRACKING_PREFIXES = ("utm_", "mc_", "_hs")
TRACKING_KEYS = {"spm", "from", "share", "share_token", "isappinstalled", "wxfrom", "scene", "fbclid",
                 "gclid", "nsukey", "sharer_shareid", "sharer_sharetime"}


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_KEYS or key.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Drop the fragment and tracking parameters, normalise case and escaping. Idempotent, never raises."""
    # One pass is enough for any http(s) URL; odd input (no scheme, runs of slashes) can take a few passes
    # to settle, and an identity must be a fixed point.
    for _ in range(4):
        canonical = _canonicalize_once(url)
        if canonical == url:
            break
        url = canonical
    return url


def _canonicalize_once(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                           if not _is_tracking(k)])
        cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
        return _w3lib_canonicalize(cleaned, keep_fragments=False)
    except (ValueError, UnicodeError):
        return url.strip()


def absolute_url(base: str, link: str | None) -> str | None:
    """Resolve a link found on a page against the page URL; None for links that lead nowhere useful."""
    if not link:
        return None
    link = link.strip()
    if not link or link.lower().startswith(("javascript:", "data:", "mailto:", "#")):
        return None
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def collection_path(path: str) -> str:
    """The collection a path lies in, as a crawl's scope takes it: its first segment (``/cz/``), or ``/`` for a
    file at the root (``/index.html``)."""
    segments = [s for s in path.split("/") if s]
    return f"/{segments[0]}/" if segments and (len(segments) > 1 or "." not in segments[0]) else "/"


def url_target(url: str) -> str:
    """What a template's URL patterns are searched in: the path, with "?query" when there is one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def request_url(url: str) -> str:
    """The URL exactly as it goes on the wire: requests' quoting, dot segments resolved, no fragment.

    requests decodes `%2e` to `.` when it prepares a URL, so `/cz/%2e%2e/zh/` would go out as `/cz/../zh/`, which
    the server resolves to `/zh/`. Scope and robots.txt are judged on this form, and this form is what is sent.
    Raises ValueError for a URL that cannot be sent.
    """
    for _ in range(4):
        request = PreparedRequest()
        try:
            request.prepare_url(url, None)
            sent = parse_url(request.url)._replace(fragment=None).url
        except Exception as exc:  # requests raises its own InvalidURL/MissingSchema, urllib3 LocationParseError
            raise ValueError(f"not a URL that can be requested: {url[:200]!r}") from exc
        if sent == url:
            break
        url = sent
    return url


# How other servers may read a path the crawl would send as it is: nginx decodes an escaped slash before it
# resolves dot segments and merges "//" (merge_slashes), IIS takes a backslash for a slash, Tomcat drops ";…"
# path parameters (so "..;/" is "../"), and a front end that decodes once before the server decodes again reads
# "%252e" as ".". Each reading is judged: `/cz/..%2Fzh/` is read as `/zh/`, `/cz//private/` as `/cz/private/`.
_SEPARATORS = re.compile(r"%2f|%5c", re.IGNORECASE)  # a raw backslash is sent as %5C
_PARAMS = re.compile(r";[^/]*")
_SLASHES = re.compile(r"/{2,}")


def url_readings(url: str) -> list[str]:
    """Every path a server may take a URL for: as sent, and as the most lenient server would resolve it.

    A URL is in scope, or allowed by robots.txt, only when all of its readings are.
    """
    sent = request_url(url)
    parts = urlsplit(sent)
    path = _SLASHES.sub("/", _PARAMS.sub("", _SEPARATORS.sub("/", parts.path.replace("%25", "%"))))
    if path == parts.path:
        return [sent]
    return [sent, request_url(urlunsplit(parts._replace(path=path)))]
