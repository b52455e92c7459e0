"""gdxk.southcn.com, the 潮州库 and its sibling city collections.

Nobody here has seen this site's markup (../shared/reference/southcn-pages.md, section 1), so nothing below
names a class. The template reads the page the way its text is laid out: breadcrumb (首页 > 潮州库 > …),
title, a date-and-source line, the body, an author line, and a footer that names 指导单位 / 建设单位.
"""

from __future__ import annotations

import re

from ..fields import find_body, find_breadcrumb, find_published, source_of
from ..hookspecs import hookimpl
from ..lines import BOILERPLATE
from ..page import Page
from ..text import author_credits, find_dates, labelled_values, most_precise
from . import Fields, Template

_POST_URL = re.compile(r"/[a-z]{2,4}/[a-z0-9]+/content/(?:\d+/)?post_\d+\.html?$")
_FOOTER = re.compile(r"指导单位|建设单位|主办单位|版权所有|Copyright", re.I)
_HOST = "gdxk.southcn.com"


def matches(page: Page) -> bool:
    if page.host == _HOST or _POST_URL.search(page.url.split("?")[0]):
        return True
    # A copy served from elsewhere (a mirror, a saved file): recognise the layout by its text anchors.
    lines = page.lines
    has_footer = any("指导单位" in line.text and "南方" in line.text for line in lines[-30:])
    crumbs, _ = find_breadcrumb(page, limit=40)
    return has_footer and len(crumbs) >= 2 and crumbs[1].endswith("库")


def _line_index(page: Page, text_list: list[str], limit: int) -> int | None:
    for i, line in enumerate(page.lines[:limit]):
        if line.text.startswith(("首页", "当前位置", "您的位置")) and all(t in line.text for t in text_list):
            return i
    return None


def extract(page: Page) -> Fields:
    fields = Fields()
    lines = page.lines
    crumbs, rule = find_breadcrumb(page, limit=60)
    fields.set("breadcrumb", crumbs, rule)
    start = (_line_index(page, crumbs, 60) + 1) if crumbs else 0

    # The date-and-source line: the first short line below the breadcrumb that holds a date.
    date_index = None
    for i in range(start, min(len(lines), start + 20)):
        if len(lines[i].text) <= 100 and find_dates(lines[i].text):
            date_index = i
            break

    if date_index is not None:
        for i in range(date_index - 1, start - 1, -1):
            line = lines[i]
            if len(line.text) >= 2 and line.link_density < 0.5 and not BOILERPLATE.search(line.text) \
                    and not labelled_values(line.text):
                fields.set("title", line.text, "anchor:line-above-date")
                break
        head = lines[max(start, date_index - 1):date_index + 3]
        head = [line for line in head if len(line.text) <= 100]
        values: dict[str, str] = {}
        for line in head:
            for label, value in labelled_values(line.text).items():
                values.setdefault(label, value)
        fields.set("source", source_of(values), "anchor:source-label")
        fields.set("authors", [n for line in head for n in (author_credits(line.text) or [])],
                   "anchor:author-label")
        published, prule = find_published(page, most_precise(find_dates(lines[date_index].text)),
                                          "anchor:date-line")
        fields.set("published", published, prule)
        body_start = date_index + 1
        while body_start < len(lines) and body_start <= date_index + 3 and \
                lines[body_start].text and len(lines[body_start].text) <= 60 and \
                labelled_values(lines[body_start].text):
            body_start += 1
    else:
        body_start = start
    fields.set("title", page.meta("ArticleTitle"), "meta:ArticleTitle")
    fields.set("source", page.meta("ContentSource"), "meta:ContentSource")

    footer = next((i for i in range(len(lines) - 1, body_start - 1, -1) if _FOOTER.search(lines[i].text)), None)
    # The footer is the first of the trailing furniture lines, not the last one.
    while footer is not None and footer - 1 > body_start and _FOOTER.search(lines[footer - 1].text):
        footer -= 1
    body = find_body(page, body_start, footer)
    fields.set("body", body, "anchor:densest-lines-between-date-and-footer")

    # The author line may stand after the body, outside the densest run (右对齐 credits, a separate block).
    if body and not fields.authors:
        for line in lines[body[1]:(footer if footer is not None else body[1] + 5)]:
            names = author_credits(line.text)
            if names:
                fields.set("authors", names, "anchor:author-line-after-body")
                break
    return fields


TEMPLATE = Template(name="gdxk", site=_HOST, matches=matches, extract=extract, priority=10)


@hookimpl
def scraper_templates():
    return [TEMPLATE]
