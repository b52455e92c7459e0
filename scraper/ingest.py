"""From one response to what it is: the one path from bytes to an Outcome, for every job.

The crawl hands it what the network gave, ``scraper import`` what a WARC record or a saved page holds, reparse a
stored capture; each then gives the Outcome to ``pipelines.run.Run.record``. So the same bytes give the same
outcome, and the same stored rows, whichever job read them. In order:

1. robots.txt, rules for crawlers and never a page (RFC 9309), whatever it was served as;
2. the status: a refusal (429, 403, 503), gone (404, 410), a redirect, another error status;
3. the body, its Content-Encoding undone with a size cap; a type that is not HTML (sniffed when the type is
   missing or generic);
4. a listing, by the URL patterns the templates declare (``scraper.sites``);
5. the article, or the parser's reason why there is none (``NotAnArticle`` and its kind);
6. a block or captcha page served with status 200 in place of the page, which reads like a short article or
   an empty listing: a refusal, never stored.

Nothing but the response decides: no job tells it more than a WARC record holds, so that every job reads the
same bytes the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipelines.errors import UnreadableBody
from pipelines.item import Kind, Outcome
from pipelines.times import utc_text
from pipelines.warc import MAX_BODY_BYTES, Exchange

from .discover import links_of
from .errors import NotAnArticle
from .multipage import Joined, PageSource, join_pages
from .page import Page, looks_blocked, short_and_blocked
from .parse import extract_article, read_page
from .rules import SiteRules
from .sites import article_page, identity_url, page_kind

REFUSAL_STATUSES = (429, 403, 503)
GONE_STATUSES = (404, 410)
_BLOCKED = "block page (a captcha or a rate-limit notice) served in place of "
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_GENERIC_TYPES = ("", "application/octet-stream", "text/plain", "unk", "unknown", "binary/octet-stream")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)", re.I | re.S)


@dataclass
class Reading:
    """The Outcome of one response, and the parsed page it came from (for the crawl, which follows its links)."""

    outcome: Outcome
    page: Page | None = None
    pages: Joined = field(default_factory=Joined)  # an article's pages, and whether all of them were read

    @property
    def kind(self) -> Kind:
        return self.outcome.kind


def read_response(exchange: Exchange, *, via: Sequence[str] = (), pages: PageSource | None = None,
                  max_bytes: int = MAX_BODY_BYTES, rules: SiteRules | None = None) -> Reading:
    """What one response is: the templates' URL patterns, then the page itself, decide. ``via``: the URLs of the
    permanent redirects that led to it (``moved_from``), which become aliases of the article it holds; ``pages``:
    where the later pages of a long article are had (``scraper.multipage``); ``rules``: the user's site rules."""
    reading = _read(exchange, max_bytes, rules)
    outcome = reading.outcome
    outcome.url = outcome.article.url if outcome.article else identity_url(exchange.url)
    if outcome.article:
        visit = utc_text(exchange.fetched_at) if exchange.fetched_at else None
        reading.pages = join_pages(outcome.article, reading.page, pages, max_bytes, visit, rules)
        outcome.partial = not reading.pages.complete
        for url in (identity_url(u) for u in (*via, exchange.url)):
            if url != outcome.url and url not in outcome.aliases:
                outcome.aliases.append(url)
    return reading


PERMANENT = (301, 308)


def moved_from(hops: Sequence[Exchange]) -> list[str]:
    """The URLs of the redirects before the last response that moved there for good: a 301 or 308, and only
    permanent ones after it (a 302 says the page still lives at its own URL, perhaps showing a notice)."""
    sources: list[str] = []
    for hop in reversed(hops[:-1]):
        if hop.status not in PERMANENT:
            break
        sources.append(hop.url)
    return sources


def _read(exchange: Exchange, max_bytes: int, rules: SiteRules | None = None) -> Reading:
    if urlsplit(exchange.url).path == "/robots.txt":  # whatever it was served as, and with whatever status
        return _reading(Kind.NOT_HTML, "robots.txt: rules for crawlers, not a page")
    status = exchange.status
    if status in REFUSAL_STATUSES:
        return _reading(Kind.BLOCK_PAGE, f"HTTP {status}")
    if status in GONE_STATUSES:
        return _reading(Kind.GONE, f"HTTP {status}")
    if status is not None and 300 <= status < 400:
        return _reading(Kind.REDIRECT, f"HTTP {status}")
    if status is not None and not 200 <= status < 300:
        return _reading(Kind.HTTP_ERROR, f"HTTP {status}")
    try:
        body = exchange.decoded_body(max_bytes)
    except UnreadableBody as exc:
        return _reading(Kind.FAILED, exc.reason)
    if not is_html(exchange.content_type, body):
        return _reading(Kind.NOT_HTML, f"not HTML ({exchange.content_type or 'no type'})")
    try:
        return _read_page(exchange.url, body, exchange.content_type, rules)
    except NotAnArticle as exc:
        return _reading(exc.kind, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a parser bug must cost one page, never the whole run
        return _reading(Kind.FAILED, f"parsing failed: {type(exc).__name__}: {exc}")


def _read_page(url: str, body: bytes, content_type: str, rules: SiteRules | None = None) -> Reading:
    page = read_page(body, url, content_type)
    later = article_page(url)
    if later is not None and later.number > 1:  # read with its first page, never alone
        return _reading(Kind.ARTICLE_PART, f"page {later.number} of the article at {later.first}", page)
    if page_kind(url) is Kind.LISTING:
        listing = links_of(page)
        if not (listing.articles or listing.listings) and looks_blocked(page, body):
            return _reading(Kind.BLOCK_PAGE, _BLOCKED + "the listing", page)
        return Reading(Outcome(Kind.LISTING, "a listing page (its URL is one)"), page)
    try:
        article = extract_article(page, rules)
    except NotAnArticle as exc:
        if looks_blocked(page, body):
            return _reading(Kind.BLOCK_PAGE, _BLOCKED + "the article", page)
        return _reading(exc.kind, exc.reason, page)
    if short_and_blocked(page, body, article.paragraphs):
        return _reading(Kind.BLOCK_PAGE, _BLOCKED + "the article", page)
    return Reading(Outcome(Kind.ARTICLE, article=article), page)


def _reading(kind: Kind, reason: str, page: Page | None = None) -> Reading:
    return Reading(Outcome(kind, reason), page)


def is_html(content_type: str | None, body: bytes) -> bool:
    """HTML by its Content-Type, or, when the type is missing or generic, by how the body starts. An empty body
    of an HTML type is HTML (the parser says it is empty)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in _HTML_TYPES:
        return True
    if kind in _GENERIC_TYPES:
        return bool(_HTML_START.match(body[:4096]))
    return False
