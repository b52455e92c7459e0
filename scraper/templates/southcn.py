"""southcn.com news pages: the Founder CMS (content_<id>.htm) and the newer CMS (.shtml).

Their markup is known from real pages (../shared/reference/southcn-pages.md, sections 2 and 3), so these
templates use the CMS's own ids first and the shared text anchors second. Traps: <meta name="author"> is the
editor, and #pubtime_baidu has no seconds while __$pubtime and the enpproperty comment do. A third template
recognises the channel lists of both CMSs, whose prose summaries would otherwise pass for a body, and rejects
them as NotAnArticle.
"""

from __future__ import annotations

import re

from pipelines.item import Kind

from ..errors import NotAnArticle
from ..fields import find_body, find_published, split_breadcrumb
from ..hookspecs import hookimpl
from ..page import Page
from ..text import AUTHOR_LABELS, SOURCE_LABELS, author_credits, clean_text, find_dates, most_precise, split_names
from ..urls import url_target
from . import Fields, Template

# Articles: Founder content_<id>.htm (content_<id>_<page>.htm for the later pages of a long one), the newer CMS
# node_<hex>/<hex>.shtml. Channel lists: Founder node_<digits>[_<n>].htm, the newer CMS
# node_<hex>[?cms_node_post_list_page=<n>].
FOUNDER_URLS = re.compile(r"/content/\d{4}-\d{2}/\d{2}/content_\d+(?:_(?P<page>\d+))?\.htm(?=\?|$)")
SHTML_URLS = re.compile(r"/node_[0-9a-f]+/[0-9a-f]+\.shtml(?=\?|$)")
FOUNDER_LISTS = re.compile(r"^(?P<listing>.*/node_\d+)(?:_(?P<page>\d+))?\.htm(?=\?|$)")
SHTML_LISTS = re.compile(r"^(?P<listing>.*/node_[0-9a-f]{10})/?(?:\?(?:[^#]*&)?cms_node_post_list_page=(?P<page>\d+)"
                         r"[^#]*|\?[^#]*)?$")
_LIST_ITEM = "//div[contains(concat(' ', normalize-space(@class), ' '), ' itm ') and contains(@class, 'j-link')]"
# A news lead that opens with its credits: "南方网讯（记者/黄晓琳 通讯员/陈思远）近日，…".
_LEAD_CREDIT = re.compile(r"^[^，。（(]{0,12}?讯?\s*[（(]([^（()）]{3,60})[）)]")
_SCRIPT_EDITOR = re.compile(r"""__\$Editor\s*=\s*["']([^"']+)""")
_LABEL_PREFIX = re.compile(r"^(?:" + "|".join(SOURCE_LABELS + AUTHOR_LABELS + ("编辑", "责任编辑")) + r")\s*[:：]\s*")


def _text(page: Page, element_id: str) -> str:
    el = page.by_id(element_id)
    return clean_text(el.text_content()) if el is not None else ""


def _strip_label(text: str) -> str:
    return _LABEL_PREFIX.sub("", text).strip()


def _southcn(page: Page) -> bool:
    """On southcn.com, or a saved copy (file, stdin) that has no host to say otherwise."""
    return not page.host or page.host == "southcn.com" or page.host.endswith(".southcn.com")


def _cms_marks(page: Page) -> bool:
    """The ids and comments both southcn CMSs leave on an article, for copies whose URL says nothing."""
    return page.by_id("pubtime_baidu") is not None or page.by_id("source_baidu") is not None \
        or "enpproperty" in page.comments


def matches_founder(page: Page) -> bool:
    path = page.url.split("?")[0]
    by_markup = _southcn(page) and page.by_id("article_title") is not None and (page.host or _cms_marks(page))
    return bool(FOUNDER_URLS.search(path) or by_markup) and page.by_id("content") is not None


def matches_shtml(page: Page) -> bool:
    path = page.url.split("?")[0]
    return bool(SHTML_URLS.search(path) or (_southcn(page) and page.by_id("pubtime_baidu") is not None)) \
        and bool(page.select("//div[contains(concat(' ', normalize-space(@class), ' '), ' m-article ')]"))


def _common(page: Page, fields: Fields) -> None:
    fields.set("title", _text(page, "article_title"), "template:#article_title")
    fields.set("subtitle", _text(page, "article_subtitle"), "template:#article_subtitle")
    pubtime = most_precise(find_dates(_text(page, "pubtime_baidu")))
    published, rule = find_published(page, pubtime, "template:#pubtime_baidu" if pubtime else None)
    fields.set("published", published, rule)
    fields.set("source", _strip_label(_text(page, "source_baidu")), "template:#source_baidu")
    fields.set("source", page.meta("source"), "meta:source")
    fields.set("authors", split_names(_strip_label(_text(page, "author_baidu"))), "template:#author_baidu")
    editor_el = page.select("//*[contains(concat(' ', normalize-space(@class), ' '), ' m-editor ')]")
    if editor_el:
        fields.set("editor", _strip_label(clean_text(editor_el[0].text_content())) or None,
                   "template:.m-editor")
    m = _SCRIPT_EDITOR.search(page.scripts)
    fields.set("editor", clean_text(m.group(1)) if m else None, "script:__$Editor")
    # <meta name="author"> on these pages names the editor, never the author.
    fields.set("editor", page.meta("author"), "meta:author(editor)")


def _credit_lines(page: Page, span: tuple[int, int] | None, fields: Fields) -> None:
    """Reporter credits the CMS puts in the body's first or last paragraphs (【记者】… 【通讯员】…)."""
    if not span:
        return
    first, last = span
    for line in page.lines[first:min(last, first + 3)] + page.lines[max(first, last - 2):last]:
        names = author_credits(line.credits)
        if names:
            fields.set("authors", names, "template:#content-credit-line")
            return
    m = _LEAD_CREDIT.match(page.lines[first].text)
    names = author_credits(m.group(1)) if m else None
    if names:
        fields.set("authors", names, "template:#content-lead-credit")


def _breadcrumb(page: Page, xpath: str, rule: str, fields: Fields) -> None:
    found = page.select(xpath)
    if found:
        fields.set("breadcrumb", split_breadcrumb(clean_text(found[0].text_content())), rule)


def extract_founder(page: Page) -> Fields:
    fields = Fields()
    _common(page, fields)
    _breadcrumb(page, "//div[contains(concat(' ', normalize-space(@class), ' '), ' m-crm ')]",
                "template:.m-crm", fields)
    content = page.by_id("content")
    if content is not None:
        fields.set("body", page.line_span(content), "template:#content")
    _credit_lines(page, fields.body, fields)
    return fields


def extract_shtml(page: Page) -> Fields:
    fields = Fields()
    _common(page, fields)
    links = page.select("//a[contains(concat(' ', normalize-space(@class), ' '), ' crm-link ')]")
    crumbs = [clean_text(a.text_content()) for a in links if clean_text(a.text_content())]
    fields.set("breadcrumb", crumbs, "template:a.crm-link")
    article = page.select("//div[contains(concat(' ', normalize-space(@class), ' '), ' m-article ')]")
    span = page.line_span(article[0]) if article else None
    if span:
        content = page.by_id("content")
        inner = page.line_span(content) if content is not None else None
        body = inner or find_body(page, *span)
        fields.set("body", body, "template:#content" if inner else "template:.m-article+densest-lines")
    _credit_lines(page, fields.body, fields)
    return fields


def matches_list(page: Page) -> bool:
    """A channel list of either CMS: its URL, or several list items and no article headline."""
    if not _southcn(page) or page.by_id("article_title") is not None:
        return False
    target = url_target(page.url)
    by_url = page.host and (FOUNDER_LISTS.search(target) or SHTML_LISTS.search(target))
    return bool(by_url or len(page.select(_LIST_ITEM)) >= 3)


def extract_list(page: Page) -> Fields:
    # A list's summaries are prose and would pass for a body; say what the page is instead of guessing.
    items = len(page.select(_LIST_ITEM))
    raise NotAnArticle(f"the page is a channel list{f' of {items} articles' if items else ''}", page.url,
                       Kind.LISTING)


FOUNDER = Template(name="southcn-founder", site="southcn.com", matches=matches_founder,
                   extract=extract_founder, priority=20,
                   needs="a content/YYYY-MM/DD/content_N.htm URL, or a southcn page with #article_title; "
                         "and a #content element",
                   article_urls=FOUNDER_URLS, listing_urls=FOUNDER_LISTS)
SHTML = Template(name="southcn-shtml", site="southcn.com", matches=matches_shtml, extract=extract_shtml,
                 priority=21, needs="a node_<hex>/<hex>.shtml URL or a southcn page with #pubtime_baidu; "
                                    "and a div.m-article",
                 article_urls=SHTML_URLS, listing_urls=SHTML_LISTS)
LIST = Template(name="southcn-list", site="southcn.com", matches=matches_list, extract=extract_list, priority=22,
                needs="a southcn channel list: a node_N.htm or list URL, or 3+ div.itm items and no #article_title")


@hookimpl
def scraper_templates():
    return [FOUNDER, SHTML, LIST]
