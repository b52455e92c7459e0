"""From the bytes of one page to one Article: decode, parse, pick a template, extract, clean the body."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pipelines.item import Article, Image, Kind

from . import PARSER_VERSION
from .decode import decode_html
from .errors import NotAnArticle
from .fields import is_date_line
from .lines import BOILERPLATE, Line
from .page import Page, only_addresses, parse_page
from .plugins import all_templates
from .rules import SiteRules
from .sites import article_page, identity_url, page_kind, place
from .templates import Fields, Template
from .templates.generic import extract_fields as generic_fields
from .text import author_credits, count_punct, editor_credit, find_dates, labelled_values, looks_like_heading
from .urls import absolute_url

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x00\x00\x01\x00",
                 b"RIFF", b"ID3", b"OggS", b"\x7fELF")
# Status codes count only as whole numbers: an article titled "…第100404号…" is no error page.
_ERROR_TITLE = re.compile(
    r"(?<!\d)(?:404|403|500)(?!\d)|not found|页面不存在|页面未找到|找不到|出错了|错误提示|访问受限|禁止访问", re.I)
_REPORTER_PREFIX = re.compile(r"^【(?:本报)?(?:记者|通讯员|作者|文)】")

# Fields a reader expects on every article; a missing one is reported in warnings.
EXPECTED_FIELDS = ("title", "published_at", "source", "authors")


def parse_article(data: bytes, url: str, content_type: str | None = None) -> Article:
    """Parse the response bytes of one page. Raises NotAnArticle for anything that is not one article."""
    return extract_article(read_page(data, url, content_type))


def read_page(data: bytes, url: str, content_type: str | None = None) -> Page:
    """The bytes of one page, decoded and parsed; NotAnArticle for an empty, binary or non-HTML body."""
    reject_non_html(data, url)
    return parse_page(decode_html(data, content_type), url)


def reject_non_html(data: bytes, url: str | None = None) -> None:
    if not data or not data.strip():
        raise NotAnArticle("the body is empty", url)
    head = data[:2048]
    if head.startswith(_BINARY_MAGIC) or (b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise NotAnArticle("the body is binary, not HTML", url, Kind.NOT_HTML)


def select_template(page: Page) -> Template:
    for template in all_templates():
        if template.matches(page):
            return template
    raise LookupError("no template matched; the fallback (generic) template matches every page")


def extract_article(page: Page, rules: SiteRules | None = None) -> Article:
    """The article on page; ``rules``: a user's site rules (``scraper.rules``), tried before the built-in ones."""
    template = select_template(page)
    fields = template.extract(page)
    if rules is not None:
        fields = rules.pin(page, fields)
    if not template.fallback:
        generic_fields(page, fields)
    if fields.body is None:
        raise NotAnArticle("no body text was found on the page", page.url)
    body_lines = page.lines[fields.body[0]:fields.body[1]]
    reject_non_article(page, fields, body_lines)
    collection, column = place(page.url, fields.breadcrumb)
    article = Article(
        url=article_url(page),
        site=template.site or page.host or None,
        extractor=template.name,
        parser_version=PARSER_VERSION,
        encoding=page.decoded.encoding,
        encoding_source=page.decoded.encoding_source,
        title=fields.title,
        subtitle=fields.subtitle,
        published_at=fields.published[0] if fields.published else None,
        source=fields.source,
        authors=list(fields.authors),
        editor=fields.editor,
        collection=collection,
        column=column,
        breadcrumb=list(fields.breadcrumb),
        field_rules={("published_at" if k == "published" else k): v for k, v in fields.rules.items()},
    )
    clean_body(article, body_lines, page.base_url)
    expected = EXPECTED_FIELDS + (("breadcrumb",) if template.has_breadcrumb and not template.fallback else ())
    article.warnings = [f"{name}: not found" for name in expected if getattr(article, name) in (None, [])]
    if page.decoded.replaced:
        article.warnings.append(f"encoding: {page.decoded.replaced} undecodable bytes shown as \ufffd")
    if len(article.paragraphs) == 0:
        raise NotAnArticle("the body holds no paragraphs", page.url)
    return article


def article_url(page: Page) -> str:
    """The article's identity: the URL it was read at, as ``scraper.sites.identity_url`` spells it, or its
    ``<link rel=canonical>`` when that names the same page in another spelling (another query, a host in capitals,
    the same article by a template's pattern). A canonical naming another page is not believed: a template that
    copies one canonical into every page (the home page, a column, another article) would merge distinct articles
    into one, and a canonical to a dead or disallowed URL would lose the article's own."""
    canonical = page.canonical_url
    if canonical and page_kind(canonical) is not Kind.LISTING and same_page(canonical, page.url):
        return identity_url(canonical)
    return identity_url(page.url)


def same_page(a: str, b: str) -> bool:
    """Two spellings of one page: the same article by the templates' patterns, else the same path."""
    first_a, first_b = article_page(a), article_page(b)
    if first_a is not None and first_b is not None:
        return first_a == first_b
    return urlsplit(a).path == urlsplit(b).path


# A line of prose: a sentence or more of text that is not a link.
PROSE_CHARS, PROSE_PUNCT = 10, 2


_SENTENCE_END = re.compile(r"[。！？!?；;：:，,、…]$")


def is_prose(line: Line) -> bool:
    return len(line.text) - line.link_chars >= PROSE_CHARS and count_punct(line.text) >= PROSE_PUNCT


def has_prose(lines: list[Line]) -> bool:
    """A sentence or more: a line with two marks of punctuation, a long line that ends as a sentence does (a news
    flash of one sentence), or two lines that end in a mark (a poem, a notice)."""
    ended = [line for line in lines if line.link_density < 0.5 and _SENTENCE_END.search(line.text)]
    return (any(is_prose(line) for line in lines) or any(len(line.text) >= 15 for line in ended)
            or len(ended) >= 2)


def reject_non_article(page: Page, fields: Fields, body_lines: list[Line]) -> None:
    """An article has a body of prose; a page whose "body" is a list of short items, linked or not (a column
    index, a forum's thread list of names and counts), is a listing whatever its URL says."""
    text_chars = sum(len(line.text) for line in body_lines)
    link_chars = sum(line.link_chars for line in body_lines)
    link_lines = sum(1 for line in body_lines if line.link_density > 0.6 and len(line.text) >= 6)
    if link_lines >= 5 and link_chars > 0.4 * text_chars:
        raise NotAnArticle(f"the page is a list of {link_lines} links (a listing page?)", page.url,
                           Kind.LISTING)
    plain = text_chars - link_chars
    if plain < 15:
        raise NotAnArticle("the page has no body text", page.url)
    written = [line for line in body_lines if line.text]
    short_linked = sum(1 for line in written if len(line.text) <= 40 and line.link_chars > 0)
    if short_linked >= 5 and short_linked >= 0.4 * len(written):
        raise NotAnArticle(f"{short_linked} of its {len(written)} body lines are short linked items (a listing "
                           "page?)", page.url, Kind.LISTING)
    if only_addresses([line.text for line in written]):
        raise NotAnArticle("the body holds nothing but a web address (a broken page?)", page.url)
    if not has_prose(written):
        longest = max(len(line.text) for line in written)
        raise NotAnArticle(f"no prose in the body: {len(written)} line(s), the longest {longest} characters, "
                           f"none a sentence (a listing or an index page?)", page.url, Kind.NO_ARTICLE)
    title = fields.title or page.html_title
    if title and _ERROR_TITLE.search(title) and plain < 300:
        raise NotAnArticle(f"the page is an error page ({title!r})", page.url, Kind.ERROR_PAGE)


def is_info_line(line: Line) -> bool:
    """The date-and-source line under a headline: a date plus a 来源/作者/编辑 label, or a bare date."""
    text = line.credits
    if len(text) > 100:
        return False
    values = labelled_values(text)
    return bool(find_dates(text)) and (bool(values) or len(text) <= 25 or is_date_line(line))


_NOT_WORDS = re.compile(r"[\W\d_]+")


# The private-use code points icon fonts draw their glyphs with (a thumb, a share arrow): no text a reader reads.
_ICON = re.compile(r"[\ue000-\uf8ff]")


def is_counter(text: str) -> bool:
    return len(text) <= 4 and not _NOT_WORDS.sub("", text)


def is_icons(text: str) -> bool:
    """A paragraph of icon-font glyphs and counters, with no word: "\ue600 12"."""
    return bool(_ICON.search(text)) and not _NOT_WORDS.sub("", _ICON.sub("", text))


def same_words(a: str, b: str | None) -> bool:
    """The same text but for spaces, punctuation and digits: the headline printed again atop the body."""
    return bool(b) and _NOT_WORDS.sub("", a) == _NOT_WORDS.sub("", b)


def clean_body(article: Article, lines: list[Line], base_url: str) -> None:
    """Turn body lines into paragraphs, headings and images, taking credit lines out into fields."""
    seen_image = set()
    for line in lines:
        text = line.text
        for src, alt in line.images:
            url = absolute_url(base_url, src)
            if url and url not in seen_image:
                seen_image.add(url)
                article.images.append(Image(url=url, caption=alt.strip() if alt and alt.strip() else None))
        if not text:
            continue
        if same_words(text, article.title) or text == article.subtitle or (BOILERPLATE.search(text) and len(text) < 80):
            continue
        if (line.link_density > 0.9 and len(text) < 40) or is_icons(text):
            continue
        if is_info_line(line):
            continue
        names = author_credits(line.credits)
        if names is not None:
            if not article.authors or _REPORTER_PREFIX.match(text):
                article.authors += [n for n in names if n not in article.authors]
                article.field_rules.setdefault("authors", "anchor:credit-line")
            continue
        editor = editor_credit(line.credits)
        if editor is not None:
            if not article.editor:
                article.editor = editor
                article.field_rules.setdefault("editor", "anchor:credit-line")
            continue
        article.paragraphs.append(text)
        if looks_like_heading(text, line.emphasised):
            article.headings.append(text)
    # At the body's edges, a short paragraph with no word in it is a counter or an arrow ("1", "0", "»"), not text;
    # inside, it may be a list's number on a line of its own.
    while article.paragraphs and is_counter(article.paragraphs[-1]):
        article.paragraphs.pop()
    while article.paragraphs and is_counter(article.paragraphs[0]):
        article.paragraphs.pop(0)
    if article.headings:
        article.field_rules.setdefault("headings", "anchor:numbered-or-bold-paragraph")
    if article.images:
        article.field_rules.setdefault("images", "body:img")
    if article.paragraphs:
        article.field_rules.setdefault("paragraphs", article.field_rules.pop("body", "generic:densest-lines"))
    article.field_rules.pop("body", None)
