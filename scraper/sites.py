"""What the templates declare about their sites' URLs, asked in one place.

Which URLs are articles and which are listings (and which page of which listing), for discovery
(``scraper.discover``) and for reading a response (``scraper.ingest``); which collection and column an article
belongs to, for the parser. Each answer comes from the patterns the templates declare
(``scraper.templates.Template``), so a site's URLs are described once, in its template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.item import Kind

from .plugins import all_templates
from .urls import canonicalize_url, url_target

_HOME_CRUMBS = ("首页", "home", "Home")


def first_match(target: str, patterns: str) -> re.Match | None:
    """The first match of the templates' ``article_urls`` or ``listing_urls`` (``patterns``) in a URL's target."""
    for template in all_templates():
        pattern = getattr(template, patterns)
        m = pattern.search(target) if pattern is not None else None
        if m is not None:
            return m
    return None


def page_kind(url: str) -> Kind | None:
    """ARTICLE or LISTING when a template's URL patterns say so (article patterns first), else None."""
    target = url_target(url)
    if first_match(target, "article_urls"):
        return Kind.ARTICLE
    if first_match(target, "listing_urls"):
        return Kind.LISTING
    return None


def identity_url(url: str) -> str:
    """The URL an article is stored under: canonical (no fragment, no tracking parameters), and with no query at
    all when a template declares the URL's path an article (its query cannot name another page: gdxk's
    ``post_N.html?t=1`` is ``post_N.html``)."""
    url = canonicalize_url(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[…": no URL to take apart, and identity never raises
        return url
    if parts.query and page_kind(parts._replace(query="").geturl()) is Kind.ARTICLE:
        return parts._replace(query="").geturl()
    return url


@dataclass(frozen=True)
class ArticlePage:
    first: str  # the identity URL of the article's first page
    number: int  # 1 for the first page


def article_page(url: str) -> ArticlePage | None:
    """Which page of a long article a URL is, by the templates' article patterns (their "page" group)."""
    target = url_target(url)
    m = first_match(target, "article_urls")
    if m is None:
        return None
    if "page" not in m.re.groupindex or m.group("page") is None:
        return ArticlePage(identity_url(url), 1)
    parts = urlsplit(url)  # url_target has read it: it parses
    first = target[:m.start("page") - 1] + target[m.end("page"):]  # "post_7_2.html" -> "post_7.html"
    return ArticlePage(identity_url(f"{parts.scheme}://{parts.netloc}{first}"), int(m.group("page")))


@dataclass(frozen=True)
class ListingPage:
    listing: str  # what every page of the listing shares: its host and the pattern's "listing" group
    number: int  # 1 for the listing's first page


def listing_page(url: str) -> ListingPage | None:
    """Which listing a URL is a page of, and which page, by the templates' listing patterns."""
    target = url_target(url)
    m = first_match(target, "listing_urls")
    if m is None:
        return None
    groups = m.groupdict()
    number = int(groups["page"]) if groups.get("page") else 1
    return ListingPage(urlsplit(url).netloc.lower() + (groups.get("listing") or target), number)


def place(url: str, breadcrumb: list[str]) -> tuple[str | None, str | None]:
    """Collection and column: from the URL's codes where a template knows them (stable), else from the
    breadcrumb (``首页 > 潮州库 > 理论文章、理论著作``): a crumb ending in 库 is a collection, the last crumb the
    column (of a page that has a collection, or a trail of two crumbs or more)."""
    collection = column = None
    for template in all_templates():
        if template.place is not None:
            collection, column = template.place(url)
            if collection or column:
                break
    crumbs = [c for c in breadcrumb if c not in _HOME_CRUMBS]
    collection = collection or next((c for c in crumbs if c.endswith("库")), None)
    if column is None and crumbs and crumbs[-1] != collection and (collection or len(crumbs) > 1):
        column = crumbs[-1]
    return collection, column
