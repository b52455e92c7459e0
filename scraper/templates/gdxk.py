"""gdxk.southcn.com, the 潮州库 and its sibling city collections.

Nobody here has seen this site's markup (../shared/reference/southcn-pages.md, section 1), so nothing below
names a class or an id. The template reads the page the way its text is laid out: a breadcrumb (首页 > 潮州库 >
…), the title, a date-and-source line, the body, an author line, and a footer that names 指导单位 / 建设单位.
Each of those is found by its text and its place relative to the others, so that a table layout, a div
layout, <br>-separated paragraphs or a sidebar before the article all read the same.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pipelines.item import Kind

from ..errors import NotAnArticle
from ..fields import find_body, find_breadcrumb, find_published, is_date_line, source_of
from ..hookspecs import hookimpl
from ..lines import BOILERPLATE, Line
from ..page import Page
from ..text import author_credits, find_dates, labelled_values, most_precise
from . import Fields, Template

# gdxk.southcn.com/<collection>/<column>/content/post_N.html (a long article's later pages post_N_2.html …), and
# the listings above them: /cz/ (the
# collection's home), /cz/llwzllzz/ (a column, or a column's section one level down) and its pages index.html,
# index_2.html … A collection's code is two letters, a column's letters and digits: on other sites this shape
# (/en/, /en/news/) is a section front too, while a path with a word in it (/news/12345/, /blog/my-post/) is not
# taken for one.
ARTICLE_URLS = re.compile(
    r"^/[a-z]{2,4}/[a-z0-9]+/content/(?:\d+/)*post_\d+(?:_(?P<page>\d+))?\.html?(?=\?|$)")
LISTING_URLS = re.compile(
    r"^(?P<listing>/[a-z]{2}/(?:[a-z0-9]+/){0,2})(?:index(?:_(?P<page>\d+))?\.html?)?(?=\?|$)")
_CODES = re.compile(r"^/(?P<collection>[a-z]{2,4})/(?:(?P<column>[a-z0-9]+)/)?")
COLLECTIONS = {"cz": "潮州库", "zh": "珠海库", "st": "汕头库"}
COLUMNS = {"llwzllzz": "理论文章、理论著作", "dsj": "大事记"}
_FOOTER = re.compile(r"指导单位|建设单位|主办单位|版权所有|Copyright", re.I)
_HOST = "gdxk.southcn.com"
_BREADCRUMB_START = ("首页", "当前位置", "您的位置", "你的位置", "位置")
_PAGER = re.compile(r"下一页|上一页|尾页|末页")
# A trail may end on a placeholder for the page itself; it names no column.
_CRUMB_PLACEHOLDER = {"正文", "详情", "内容", "文章", "正文内容", "文章内容", "详细内容"}
# How far above the body the date line may stand: title, date, source, a font-size toolbar, a share bar.
_HEAD_LINES = 8


def place(url: str) -> tuple[str | None, str | None]:
    """潮州库 / 理论文章、理论著作 from the codes in a gdxk URL (or a mirror's article URL with gdxk's paths)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, None
    if parts.hostname != _HOST and not ARTICLE_URLS.search(parts.path):
        return None, None
    m = _CODES.match(parts.path)
    if m is None:
        return None, None
    return COLLECTIONS.get(m.group("collection")), COLUMNS.get(m.group("column") or "")


def matches(page: Page) -> bool:
    if page.host == _HOST or ARTICLE_URLS.search(page.url.split("?")[0]):
        return True
    # A copy served from elsewhere (a mirror, a saved file): recognise the layout by its text anchors.
    lines = page.lines
    has_footer = any("指导单位" in line.text and "南方" in line.text for line in lines[-30:])
    crumbs, _ = find_breadcrumb(page, limit=40)
    return has_footer and len(crumbs) >= 2 and crumbs[1].endswith("库")


def _breadcrumb_index(page: Page, crumbs: list[str], limit: int) -> int | None:
    for i, line in enumerate(page.lines[:limit]):
        if line.text.startswith(_BREADCRUMB_START) and all(c in line.text for c in crumbs):
            return i
    return None


def _is_head_furniture(line: Line) -> bool:
    """Lines between the date line and the body: a split-off source line, a 字号 toolbar, a share bar."""
    # Only lines that could score as prose need skipping: the densest run never starts on a negative line.
    text = line.credits
    return not text or (len(text) <= 60 and bool(labelled_values(text) or BOILERPLATE.search(text)))


def _find_date_line(page: Page, start: int, end: int | None) -> int | None:
    """The date line just above the body: the last date line before the first long body paragraph."""
    lines = page.lines
    end = len(lines) if end is None else end
    body = find_body(page, start, end)
    if body is None:
        return next((i for i in range(start, end) if is_date_line(lines[i])), None)
    # The densest run may begin on the title or the date line itself (both can score a little), so look a few
    # lines into it too, but never past its first real paragraph.
    stop = body[0]
    while stop < min(body[1], body[0] + 4) and len(lines[stop].text) <= 60:
        stop += 1
    above = [i for i in range(max(start, body[0] - _HEAD_LINES), stop) if is_date_line(lines[i])]
    if above:
        return above[-1]
    # No date line right above the body: take the first one below the breadcrumb, as the page reads.
    return next((i for i in range(start, min(end, start + 20)) if is_date_line(lines[i])), None)


def _title_above(lines: list[Line], date_index: int, start: int) -> int | None:
    for i in range(date_index - 1, max(start, date_index - _HEAD_LINES) - 1, -1):
        line = lines[i]
        if len(line.text) >= 2 and line.link_density < 0.5 and not BOILERPLATE.search(line.text) \
                and not labelled_values(line.credits) and not is_date_line(line):
            return i
    return None


def _footer_index(lines: list[Line], start: int) -> int | None:
    footer = next((i for i in range(len(lines) - 1, start - 1, -1) if _FOOTER.search(lines[i].text)), None)
    # The footer is the first of the trailing furniture lines, not the last one.
    while footer is not None and footer - 1 > start and _FOOTER.search(lines[footer - 1].text):
        footer -= 1
    return footer


def _reject_listing(page: Page, start: int, end: int | None, date_index: int | None,
                    body: tuple[int, int] | None) -> None:
    """A column index (dated article links and a pager) is not an article, whatever prose it also holds.

    An article may carry a related-reading block of dated links too; it is told apart by its date line and by
    a body that outweighs the links.
    """
    lines = page.lines[start:end]
    items = [line for line in lines
             if line.link_chars >= 4 and line.link_density >= 0.4 and find_dates(line.text) and len(line.text) < 80]
    if len(items) < 5:
        return
    body_lines = page.lines[body[0]:body[1]] if body else []
    prose = sum(len(line.text) - line.link_chars for line in body_lines)
    links = sum(line.link_chars for line in items)
    if date_index is None or prose < links:
        pager = any(_PAGER.search(line.text) for line in lines)
        raise NotAnArticle(f"the page is a list of {len(items)} dated links"
                           f"{' with a pager' if pager else ''} (a column index?)", page.url, Kind.LISTING)


def extract(page: Page) -> Fields:
    fields = Fields()
    lines = page.lines
    crumbs, rule = find_breadcrumb(page, limit=60)
    crumb_index = _breadcrumb_index(page, crumbs, 60) if crumbs else None
    while crumbs and crumbs[-1] in _CRUMB_PLACEHOLDER:
        crumbs = crumbs[:-1]
    fields.set("breadcrumb", crumbs, rule)
    start = crumb_index + 1 if crumb_index is not None else 0
    footer = _footer_index(lines, start)

    date_index = _find_date_line(page, start, footer)
    body_start = start
    if date_index is not None:
        title_index = _title_above(lines, date_index, start)
        if title_index is not None:
            fields.set("title", lines[title_index].text, "anchor:line-above-date")
        # Date, source and author may share one line or stand on neighbouring ones (title, date, 来源 …).
        head = [line for line in lines[max(start, date_index - 1):date_index + 3] if len(line.text) <= 100]
        values: dict[str, str] = {}
        for line in head:
            for label, value in labelled_values(line.credits).items():
                values.setdefault(label, value)
        fields.set("source", source_of(values), "anchor:source-label")
        fields.set("authors", [n for line in head for n in (author_credits(line.credits) or [])],
                   "anchor:author-label")
        published, prule = find_published(page, most_precise(find_dates(lines[date_index].text)),
                                          "anchor:date-line")
        fields.set("published", published, prule)
        body_start = date_index + 1
        while body_start < (len(lines) if footer is None else footer) and body_start <= date_index + 4 and \
                _is_head_furniture(lines[body_start]):
            body_start += 1
    # Gov-CMS metas, where the page has them, stand in for what the text did not give.
    fields.set("title", page.meta("ArticleTitle"), "meta:ArticleTitle")
    if fields.title and fields.breadcrumb and fields.breadcrumb[-1] == fields.title:
        fields.breadcrumb = fields.breadcrumb[:-1]  # a trail that ends on the headline itself
    fields.set("source", page.meta("ContentSource"), "meta:ContentSource")
    if fields.published is None:
        published, prule = find_published(page, None, None)
        fields.set("published", published, prule)

    body = find_body(page, body_start, footer)
    _reject_listing(page, start, footer, date_index, body)
    fields.set("body", body, "anchor:densest-lines-between-date-and-footer")

    # The author line may stand after the body, outside the densest run (a right-aligned credit, the last
    # <br> line of the last paragraph); look only at the few lines before any link list or the footer.
    if body and not fields.authors:
        for line in lines[body[1]:min(len(lines) if footer is None else footer, body[1] + 4)]:
            names = author_credits(line.credits)
            if names:
                fields.set("authors", names, "anchor:author-line-after-body")
                break
            if line.link_density > 0.5:
                break
    return fields


TEMPLATE = Template(name="gdxk", site=_HOST, matches=matches, extract=extract, priority=10,
                    needs="host gdxk.southcn.com, or a /<city>/<column>/content/post_N.html path, or a footer "
                          "naming 指导单位 and 南方… under a 首页 > …库 breadcrumb",
                    article_urls=ARTICLE_URLS, listing_urls=LISTING_URLS, place=place)


@hookimpl
def scraper_templates():
    return [TEMPLATE]
