"""Listing pages: which links are articles, which are other listings, which is the next page.

Parsing only: this module is given a page's bytes and never fetches anything.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from .decode import decode_html
from .errors import NotAnArticle
from .page import parse_page
from .text import clean_text
from .urls import absolute_url, canonicalize_url

ARTICLE_URL = re.compile(
    r"/content/(?:\d+/)*post_\d+\.html?$"  # gdxk (gov CMS)
    r"|/content/\d{4}-\d{2}/\d{2}/content_\d+\.htm$"  # southcn Founder
    r"|/node_[0-9a-f]+/[0-9a-f]+\.shtml$"  # southcn newer CMS
)
_INDEX_PAGE = re.compile(r"^(?:index|node_\d+)(?:_(\d+))?\.s?html?$")
_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|next|›|»|>)$", re.I)


@dataclass
class Listing:
    url: str
    articles: list[tuple[str, str | None]] = field(default_factory=list)  # (canonical URL, full title)
    listings: list[str] = field(default_factory=list)  # columns and other listing pages linked from here
    next_pages: list[str] = field(default_factory=list)  # this listing's pagination, nearest first


def _page_number(url: str) -> int | None:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "cms_node_post_list_page" in query:
        value = query["cms_node_post_list_page"][0]
        return int(value) if value.isdigit() else None
    m = _INDEX_PAGE.match(posixpath.basename(parts.path))
    if m:
        return int(m.group(1)) if m.group(1) else 1
    if parts.path.endswith("/"):
        return 1
    return None


def _same_listing(a: str, b: str) -> bool:
    """Two URLs are pages of one listing: same directory (gov CMS), same node (Founder, newer CMS)."""
    pa, pb = urlsplit(a), urlsplit(b)
    if pa.netloc != pb.netloc:
        return False
    if "cms_node_post_list_page" in pa.query + pb.query or pa.path == pb.path:
        return pa.path == pb.path
    node_a = re.match(r"(node_\d+)", posixpath.basename(pa.path))
    node_b = re.match(r"(node_\d+)", posixpath.basename(pb.path))
    if node_a and node_b:
        return node_a.group(1) == node_b.group(1) and posixpath.dirname(pa.path) == posixpath.dirname(pb.path)
    dir_a = pa.path if pa.path.endswith("/") else posixpath.dirname(pa.path) + "/"
    dir_b = pb.path if pb.path.endswith("/") else posixpath.dirname(pb.path) + "/"
    return dir_a == dir_b


def find_links(data: bytes, url: str, content_type: str | None = None, in_scope=lambda u: True) -> Listing:
    """Read a listing (or home) page for article links, listing links and its next pages."""
    try:
        page = parse_page(decode_html(data, content_type), url)
    except NotAnArticle:
        return Listing(url=url)
    listing = Listing(url=url)
    seen: set[str] = set()
    this_page = _page_number(url) or 1
    numbered: dict[int, str] = {}
    for a in page.root.iter("a"):
        href = absolute_url(url, a.get("href"))
        if not href or urlsplit(href).scheme not in ("http", "https"):
            continue
        link = canonicalize_url(href)
        if not in_scope(link) or link == canonicalize_url(url):
            continue
        text = clean_text(a.text_content())
        path = urlsplit(link).path
        if ARTICLE_URL.search(path):
            if link not in seen:
                seen.add(link)
                title = clean_text(a.get("title")) or text or None
                listing.articles.append((link, title))
            continue
        number = _page_number(link)
        if number is not None and _same_listing(link, url):
            if number > this_page:
                numbered.setdefault(number, link)
            continue
        if _NEXT_TEXT.match(text):
            numbered.setdefault(this_page + 1, link)
            continue
        if number == 1 and link not in listing.listings:
            listing.listings.append(link)
    listing.next_pages = [numbered[n] for n in sorted(numbered)]
    return listing
