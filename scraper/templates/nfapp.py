"""南方+ (nfapp) article pages, where many 潮州日报 stories are republished.

What is known (../shared/reference/southcn-pages.md, section 4, confidence M; and one public crawler of these
pages): articles are ``static.nfapp.southcn.com/content/YYYYMM/DD/c<digits>.html``; the headline is
``#articleTitle``; the time is the ``data-time`` attribute of ``div.pubtime`` (class ``nfhtime pubtime``), which a
script turns into visible text, so the served page may show none; ``<meta name="author">`` names the account
that published the story, which is an outlet (潮州日报) or the site itself far more often than a person; the
body is the ``.article`` block. Everything else (where a 来源 or 编辑 line stands) is read by the shared text
anchors, so an unseen variant still reads.

Traps: data-time may be an epoch in seconds or milliseconds, or a date text; an epoch is an instant, shown
here in China time (+08:00) like every other published_at.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipelines.times import CHINA

from ..bylines import looks_like_person, reporter_byline
from ..fields import credits_in, editor_of, find_body, find_published, line_index_of_text, source_of
from ..hookspecs import hookimpl
from ..lines import Line
from ..page import Page
from ..text import author_credits, clean_text, find_dates, most_precise
from . import Fields, Template

# /content/202010/13/c4135266.html: the month as six digits, the day, a c and the article id.
ARTICLE_URLS = re.compile(r"/content/\d{6}/\d{2}/c\d+\.html?(?=\?|$)")
_HOST = "static.nfapp.southcn.com"
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"
_PUBTIME = f"//*[{_CLASS.format('pubtime')}]"
_BODY = f"//*[{_CLASS.format('article')}]"
_EPOCH = re.compile(r"^\d{9,13}$")
# What an outlet's or account's name ends with: a paper, a station, a site, a government account (潮州发布).
_OUTLET = re.compile(r"^[^\s，。、：:；!！?？]{1,16}(?:报|刊|杂志|网|台|融媒体中心|新闻中心|客户端|发布|新闻)$")
# The site's own names: a meta author that says only where the page is, not who wrote or first published it.
_SITE_NAMES = {"南方+", "南方plus", "南方+客户端", "南方网", "南方号"}
# How far around the body credits are looked for: a 来源 above it, an author or 编辑 line below it.
_HEAD_LINES = 6
_TAIL_LINES = 6


def _host_is_nfapp(page: Page) -> bool:
    return page.host == "nfapp.southcn.com" or page.host.endswith(".nfapp.southcn.com")


def _has_markup(page: Page) -> bool:
    return page.by_id("articleTitle") is not None and bool(page.select(_PUBTIME + "[@data-time]"))


def matches(page: Page) -> bool:
    """On nfapp; or an article path of nfapp's shape with its headline; or a saved copy (no host, or a southcn
    host) that shows nfapp's own markup. Another site's page with an ``articleTitle`` id is not taken."""
    if _host_is_nfapp(page):
        return True
    if ARTICLE_URLS.search(page.url.split("?")[0]):
        return page.by_id("articleTitle") is not None
    southcn = not page.host or page.host == "southcn.com" or page.host.endswith(".southcn.com")
    return southcn and _has_markup(page)


def epoch_time(value: str) -> tuple[str, int] | None:
    """An epoch in seconds (10 digits, or 9 before 2001) or milliseconds (12-13 digits) as China time, to the
    second; None for a number that is no plausible publication time (0, a counter, a year in the future)."""
    if not _EPOCH.match(value):
        return None
    seconds = int(value) // 1000 if len(value) >= 12 else int(value)
    try:
        moment = datetime.fromtimestamp(seconds, CHINA)
    except (OverflowError, OSError, ValueError):
        return None
    if not 1990 <= moment.year <= datetime.now(CHINA).year + 1:
        return None
    return f"{moment:%Y-%m-%dT%H:%M:%S}+08:00", 2


def read_time(value: str | None) -> tuple[str, int] | None:
    """data-time as the page gives it: an epoch in seconds or milliseconds, or a date text."""
    value = clean_text(value)
    if not value:
        return None
    return epoch_time(value) or most_precise(find_dates(value))


def _published(page: Page, fields: Fields) -> None:
    found, rule = None, None
    for el in page.select(_PUBTIME):
        found = read_time(el.get("data-time"))
        rule = "template:.pubtime[data-time]"
        if found is None:  # no attribute, or one the script has not filled: the text a reader sees
            found, rule = most_precise(find_dates(clean_text(el.text_content()))), "template:.pubtime"
        if found:
            break
    published, prule = find_published(page, found, rule if found else None)
    fields.set("published", published, prule)


def _is_outlet(name: str | None) -> bool:
    return bool(name) and name not in _SITE_NAMES and bool(_OUTLET.match(name)) and not looks_like_person(name)


def _body(page: Page, title_index: int | None) -> tuple[tuple[int, int] | None, str]:
    """The .article block's lines below the headline and time; the densest run below the headline without it."""
    lines = page.lines
    below = title_index + 1 if title_index is not None else 0
    for el in page.select(_BODY):
        span = page.line_span(el)
        if span and span[1] > below:
            start = max(span[0], below)
            # The block may open with the time or the account line; they are no paragraphs.
            while start < span[1] and len(lines[start].text) <= 40 and not lines[start].images and (
                    find_dates(lines[start].text) or not lines[start].text):
                start += 1
            if start < span[1]:
                return (start, span[1]), "template:.article"
    return find_body(page, below), "template:densest-lines-below-#articleTitle"


def _credits(page: Page, title_index: int | None, body: tuple[int, int] | None) -> tuple[list[Line], list[Line]]:
    """The lines between the headline and the body, and the body's last lines with those just after it."""
    lines = page.lines
    if body is None:
        return [], []
    top = title_index + 1 if title_index is not None else max(0, body[0] - _HEAD_LINES)
    head = lines[top:body[0]]
    tail = lines[max(body[0], body[1] - 3):min(len(lines), body[1] + _TAIL_LINES)]
    return head, [line for line in tail if len(line.text) <= 60]


def _authors(head: list[Line], tail: list[Line]) -> list[str]:
    for line in head:
        names = author_credits(line.text) or reporter_byline(line.text)
        if names:
            return names
    for line in tail:
        names = author_credits(line.text)
        if names:
            return names
    return []


def extract(page: Page) -> Fields:
    fields = Fields()
    title_el = page.by_id("articleTitle")
    if title_el is not None:
        fields.set("title", clean_text(title_el.text_content()), "template:#articleTitle")
    title_index = line_index_of_text(page.lines, fields.title)
    _published(page, fields)

    body, body_rule = _body(page, title_index)
    fields.set("body", body, body_rule)
    head, tail = _credits(page, title_index, body)

    labelled = credits_in(head)
    for key, value in credits_in(tail).items():
        labelled.setdefault(key, value)
    fields.set("source", source_of(labelled), "template:来源-label")
    fields.set("source", page.meta("source", "ContentSource"), "meta:source")
    # <meta name="author"> names the account that published the story: an outlet (潮州日报) is its source, a
    # person its author, and the site's own name neither.
    meta_author = page.meta("author")
    fields.set("authors", _authors(head, tail), "template:credit-line")
    fields.set("authors", [meta_author] if meta_author and looks_like_person(meta_author) else [],
               "meta:author(person)")
    # A byline there ("南方+记者 黄晓琳"): only the names in it that look like people's, as the meta is unsure.
    fields.set("authors", [n for n in reporter_byline(meta_author or "") if looks_like_person(n)],
               "meta:author(byline)")
    fields.set("source", meta_author if _is_outlet(meta_author) else None, "meta:author(outlet)")
    # An outlet's name standing alone above the body (the account's name beside its logo).
    fields.set("source", next((line.text for line in head if _is_outlet(line.text)), None),
               "template:outlet-line")
    fields.set("editor", editor_of(labelled), "template:编辑-label")
    return fields


TEMPLATE = Template(name="nfapp", site=_HOST, matches=matches, extract=extract, priority=15,
                    needs="host *.nfapp.southcn.com, or a /content/YYYYMM/DD/cN.html path with #articleTitle, "
                          "or a saved copy with #articleTitle and a .pubtime[data-time]",
                    article_urls=ARTICLE_URLS, has_breadcrumb=False)  # the app's pages print none


@hookimpl
def scraper_templates():
    return [TEMPLATE]
