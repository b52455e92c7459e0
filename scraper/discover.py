"""Listing pages: which links are articles, which are other listings, which is the next page.

Parsing only: this module is given a parsed page and never fetches anything. What is an article and what is a
listing (and which page of it) is what the templates declare (``scraper.sites``); a pager's "下一页" is read
from its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipelines.item import Kind

from .decode import decode_html
from .errors import NotAnArticle
from .page import Page, parse_page
from .sites import article_page, identity_url, listing_page, page_kind
from .text import clean_text
from .urls import absolute_url

# Links read on one page. A column's page links a few dozen articles and the home page its columns; a page of
# hundreds of thousands of links (9.5 MB holds 200,000) is a trap that would hold the crawl for hours.
MAX_LINKS = 5_000
_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|next|›|»|>)$", re.I)


@dataclass
class Listing:
    url: str
    articles: list[tuple[str, str | None]] = field(default_factory=list)  # (canonical URL, full title)
    listings: list[str] = field(default_factory=list)  # columns and other listing pages linked from here
    next_pages: list[str] = field(default_factory=list)  # this listing's pagination, nearest first
    cut: bool = False  # the page held more than MAX_LINKS links: only the first were read


def find_links(data: bytes, url: str, content_type: str | None = None, in_scope=lambda u: True) -> Listing:
    """Read a listing (or home) page's bytes for article links, listing links and its next pages."""
    try:
        page = parse_page(decode_html(data, content_type), url)
    except NotAnArticle:
        return Listing(url=url)
    return links_of(page, in_scope)


def links_of(page: Page, in_scope=lambda u: True) -> Listing:
    """Article links, listing links and next pages of a parsed listing (or home) page."""
    url = page.url
    here_canonical = identity_url(url)
    listing = Listing(url=url)
    seen: set[str] = set()
    here = listing_page(url)
    this_page = here.number if here else 1
    numbered: dict[int, str] = {}
    for count, a in enumerate(page.root.iter("a")):
        if count == MAX_LINKS:
            listing.cut = True
            break
        href = absolute_url(page.base_url, a.get("href"))
        if not href or urlsplit(href).scheme not in ("http", "https"):
            continue
        link = identity_url(href)
        if not in_scope(link) or link == here_canonical:
            continue
        text = clean_text(a.text_content())
        if page_kind(link) is Kind.ARTICLE:
            link = article_page(link).first  # a long article's later page stands for the article
            if link not in seen:
                seen.add(link)
                title = clean_text(a.get("title")) or text or None
                listing.articles.append((link, title))
            continue
        there = listing_page(link)
        if there is not None and here is not None and there.listing == here.listing:
            if there.number > this_page:
                numbered.setdefault(there.number, link)
            continue
        if _NEXT_TEXT.match(text):
            numbered.setdefault(this_page + 1, link)
            continue
        if there is not None and there.number == 1 and link not in listing.listings:
            listing.listings.append(link)
    listing.next_pages = [numbered[n] for n in sorted(numbered)]
    return listing
