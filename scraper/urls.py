"""URL identity: the canonical form under which an article is stored once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

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


def url_target(url: str) -> str:
    """What a template's URL patterns are searched in: the path, with "?query" when there is one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
