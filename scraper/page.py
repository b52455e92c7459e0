"""A decoded page, parsed once, with the views every template reads: the tree, its lines, metas, scripts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from pipelines.item import Kind

from .decode import DecodedPage
from .errors import NotAnArticle
from .lines import Line, page_lines
from .text import clean_text
from .urls import absolute_url, collection_path, host_of

# A block or captcha page is short: longer bodies are never taken for one, however they are worded.
BLOCK_PAGE_BYTES = 50_000
SHORT_ARTICLE = 300  # characters of body text: a captcha page (a heading and a sentence) reads like an article
# What block and captcha pages say (served with status 200 in place of the page asked for).
_BLOCK_PAGE = re.compile(
    r"访问过于频繁|请求过于频繁|访问受限|安全验证|人机验证|验证码|captcha|access denied|too many requests", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# A closing </body> or </html> before the end of the page: libxml2 drops all that follows (or leaves it outside
# <body>), where a browser, by HTML's rules, goes on putting it in the body. Gov sites print one after the header.
_CLOSE_BODY = re.compile(r"</(?:body|html)\s*>", re.I)
# A paragraph that is nothing but a web address: what a broken page leaves where its text should be.
_BARE_ADDRESS = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_LD_TYPE = re.compile(r"ld\+json", re.I)
_JSON_PAIR = re.compile(r'"([@\w]+)"\s*:\s*"([^"]{0,200})"')
# libxml2 caps the tree at 255 levels whatever the page nests, which keeps the recursive line walk safe.


@dataclass
class Page:
    url: str
    decoded: DecodedPage
    root: etree._Element = field(repr=False)
    # What field finders compute once per page and ask for more than once (hidden_dates), by their own key.
    memo: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def host(self) -> str:
        return host_of(self.url)

    @cached_property
    def base_url(self) -> str:
        """What the page's relative links resolve against: its first ``<base href>`` (HTML's rule), else its URL."""
        for base in self.root.iter("base"):
            href = base.get("href")
            if href is not None:
                resolved = absolute_url(self.url, href)
                if resolved and urlsplit(resolved).scheme in ("http", "https"):
                    return resolved
                break
        return self.url

    @cached_property
    def canonical_url(self) -> str | None:
        """The page's ``<link rel=canonical>``, resolved, when it names a page of the same site and collection
        (host and first path segment): a page cannot claim another site's or another collection's identity."""
        for link in self.root.iter("link"):
            if "canonical" not in (link.get("rel") or "").lower().split():
                continue
            href = absolute_url(self.base_url, link.get("href"))
            if not href:
                return None
            there, here = urlsplit(href), urlsplit(self.url)
            same_site = (there.scheme, there.netloc.lower()) == (here.scheme, here.netloc.lower())
            return href if same_site and collection_path(there.path) == collection_path(here.path) else None
        return None

    @cached_property
    def lines(self) -> list[Line]:
        body = self.root.find(".//body")
        return page_lines(body if body is not None else self.root)

    @cached_property
    def metas(self) -> dict[str, str]:
        """<meta name|property|itemprop=… content=…>, keys lower-cased; the first of each name wins."""
        found: dict[str, str] = {}
        for meta in self.root.iter("meta"):
            key = meta.get("name") or meta.get("property") or meta.get("itemprop") or meta.get("http-equiv")
            content = meta.get("content")
            if key and content and key.lower() not in found:
                found[key.lower()] = clean_text(content)
        return found

    def meta(self, *names: str) -> str | None:
        for name in names:
            value = self.metas.get(name.lower())
            if value:
                return value
        return None

    @cached_property
    def itemprops(self) -> dict[str, str]:
        """Microdata outside <meta>: ``<time itemprop=datePublished datetime=…>``, ``<span itemprop=…>text``; the
        first of each name wins, its content or datetime attribute before its text."""
        found: dict[str, str] = {}
        if "itemprop" not in self.decoded.text:  # most pages hold none: a substring test saves a walk of the tree
            return found
        for el in self.root.xpath("//*[@itemprop and not(self::meta)]"):
            key = el.get("itemprop", "").lower()
            if key and key not in found:
                value = clean_text(el.get("content") or el.get("datetime") or el.text_content())
                if value and len(value) <= 200:  # a name for a whole block (articleBody) is not a value
                    found[key] = value
        return found

    @cached_property
    def linked_data(self) -> list[dict]:
        """The JSON-LD objects of the page: each ``<script type=application/ld+json>``, its lists and ``@graph``
        unfolded; a script that is not valid JSON gives its string pairs as one object, the first of each key."""
        found: list[dict] = []

        def add(value: object, depth: int) -> None:
            if isinstance(value, list) and depth < 4:
                for item in value:
                    add(item, depth + 1)
            elif isinstance(value, dict):
                found.append(value)
                if depth < 4:
                    add(value.get("@graph"), depth + 1)

        for script in self.root.iter("script"):
            if script.text and _LD_TYPE.search(script.get("type") or ""):
                try:
                    add(json.loads(script.text, strict=False), 0)
                except (ValueError, RecursionError):  # RecursionError: a hostile page's "[[[[…"
                    # Hand-written JSON-LD is often invalid (a trailing comma, a stray quote): its "key": "value"
                    # pairs are still read, as htmldate reads them.
                    found.append({key: value for key, value in reversed(_JSON_PAIR.findall(script.text))})
        return found

    @cached_property
    def html_title(self) -> str:
        el = self.root.find(".//title")
        return clean_text(el.text_content()) if el is not None else ""

    @cached_property
    def scripts(self) -> str:
        return "\n".join(s.text or "" for s in self.root.iter("script"))

    @cached_property
    def comments(self) -> str:
        return "\n".join(c.text or "" for c in self.root.iter(etree.Comment))

    def by_id(self, element_id: str) -> etree._Element | None:
        found = self.root.xpath("//*[@id=$id]", id=element_id)
        return found[0] if found else None

    def select(self, xpath: str) -> list[etree._Element]:
        return self.root.xpath(xpath)

    def line_span(self, element: etree._Element) -> tuple[int, int] | None:
        """The lines [start, end) that lie inside element."""
        inside = set(element.iter())
        idx = [i for i, line in enumerate(self.lines) if line.element is not None and line.element in inside]
        return (idx[0], idx[-1] + 1) if idx else None


def parse_page(decoded: DecodedPage, url: str) -> Page:
    """Parse decoded text into a Page; raises NotAnArticle when there is no HTML document to read."""
    text = _CONTROL.sub("", _XML_DECL.sub("", decoded.text, count=1))
    first_close = _CLOSE_BODY.search(text)
    if first_close and _CLOSE_BODY.sub("", text[first_close.end():]).strip():
        text = _CLOSE_BODY.sub("", text)  # the parser closes both at the end of the text, as a browser does
    if not text.strip():
        raise NotAnArticle("the body is empty", url)
    if "<" not in text[:5000]:
        raise NotAnArticle("the body is not HTML", url, Kind.NOT_HTML)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise NotAnArticle(f"the HTML could not be parsed ({exc})", url) from None
    return Page(url=url, decoded=decoded, root=root)


def looks_blocked(page: Page, body: bytes) -> bool:
    """A block or captcha page, judged by the text a reader sees: a script or an attribute that merely names a
    captcha library (a login widget in the footer) does not make an article a block page."""
    if len(body) >= BLOCK_PAGE_BYTES:
        return False
    visible = " ".join([page.html_title] + [line.text for line in page.lines])
    return bool(_BLOCK_PAGE.search(visible))


def short_and_blocked(page: Page, body: bytes, paragraphs: list[str]) -> bool:
    """An "article" of a few sentences that reads as a block page: a captcha served in place of a page."""
    return sum(map(len, paragraphs)) < SHORT_ARTICLE and looks_blocked(page, body)


def only_addresses(paragraphs: list[str]) -> bool:
    """A body that is nothing but web addresses: a broken page's leftovers (a URL in its footer), not an article."""
    return bool(paragraphs) and all(_BARE_ADDRESS.match(p) for p in paragraphs)
