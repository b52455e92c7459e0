"""southcn.com news pages: the Founder CMS (content_<id>.htm) and the newer CMS (.shtml).

Their markup is known from real pages (../shared/reference/southcn-pages.md, sections 2 and 3), so these
templates use the CMS's own ids first and the shared text anchors second. Traps: <meta name="author"> is the
editor, and #pubtime_baidu has no seconds while __$pubtime and the enpproperty comment do.
"""

from __future__ import annotations

import re

from ..fields import find_body, find_published, split_breadcrumb
from ..hookspecs import hookimpl
from ..page import Page
from ..text import AUTHOR_LABELS, SOURCE_LABELS, clean_text, find_dates, most_precise, split_names
from . import Fields, Template

_FOUNDER_URL = re.compile(r"/content/\d{4}-\d{2}/\d{2}/content_\d+(?:_\d+)?\.htm$")
_SHTML_URL = re.compile(r"/node_[0-9a-f]+/[0-9a-f]+\.shtml$")
_SCRIPT_EDITOR = re.compile(r"""__\$Editor\s*=\s*["']([^"']+)""")
_LABEL_PREFIX = re.compile(r"^(?:" + "|".join(SOURCE_LABELS + AUTHOR_LABELS + ("编辑", "责任编辑")) + r")\s*[:：]\s*")


def _text(page: Page, element_id: str) -> str:
    el = page.by_id(element_id)
    return clean_text(el.text_content()) if el is not None else ""


def _strip_label(text: str) -> str:
    return _LABEL_PREFIX.sub("", text).strip()


def _southcn(page: Page) -> bool:
    return page.host == "southcn.com" or page.host.endswith(".southcn.com")


def matches_founder(page: Page) -> bool:
    path = page.url.split("?")[0]
    return bool(_FOUNDER_URL.search(path) or (page.by_id("article_title") is not None and _southcn(page))) \
        and page.by_id("content") is not None


def matches_shtml(page: Page) -> bool:
    path = page.url.split("?")[0]
    return bool(_SHTML_URL.search(path) or (_southcn(page) and page.by_id("pubtime_baidu") is not None)) \
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
    return fields


FOUNDER = Template(name="southcn-founder", site="southcn.com", matches=matches_founder,
                   extract=extract_founder, priority=20)
SHTML = Template(name="southcn-shtml", site="southcn.com", matches=matches_shtml, extract=extract_shtml,
                 priority=21)


@hookimpl
def scraper_templates():
    return [FOUNDER, SHTML]
