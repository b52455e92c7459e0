"""The generic template: any article page, read by text density and text anchors alone."""

from __future__ import annotations

import re

from ..bylines import find_byline, looks_like_person
from ..fields import (
    authors_of,
    credits_in,
    editor_of,
    find_body,
    find_breadcrumb,
    find_published,
    find_title,
    find_visible_date,
    hidden_dates,
    line_index_of_text,
    source_of,
)
from ..hookspecs import hookimpl
from ..lines import BOILERPLATE, Line, extend_over_insert, line_score, trim_run
from ..page import Page
from ..text import author_credits, find_dates, is_outlet, labelled_values, split_names
from . import Fields, Template


def _run_score(page: Page, run: tuple[int, int] | None) -> float:
    return sum(line_score(line) for line in page.lines[run[0]:run[1]]) if run else 0.0


def _credit_inside(lines: list[Line], body: tuple[int, int]) -> bool:
    """A labelled credit line inside the body, which the parser takes out as the author when it cleans the body."""
    return any(author_credits(line.credits) for line in lines[body[0]:body[1]] if len(line.text) <= 60)


_DIGIT = re.compile(r"\d")
# A person's name in Latin letters: two to four capitalised words ("Jane Smith"), never a team or a product.
_LATIN_PERSON = re.compile(r"^(?!.*\b(?:Team|CMS|Inc|Ltd|Admin|admin|Webmaster|webmaster|Group|Studio)\b)"
                           r"[A-Z][a-z]+(?:[ .-][A-Z][a-z]+){1,3}$")


def unlabelled_source(lines: list[Line]) -> str | None:
    """An outlet's name standing with no label beside the date under the headline, in an element (often a link)
    or a word of its own: "2020-10-13 11:13 潮州日报"."""
    for line in lines:
        if len(line.text) > 80 or not find_dates(line.text) or labelled_values(line.credits):
            continue
        for piece in (*line.pieces, *line.text.split()):
            if (2 <= len(piece) <= 15 and not find_dates(piece) and is_outlet(piece) and not _DIGIT.search(piece)
                    and not BOILERPLATE.search(piece)):
                return piece
    return None


def meta_authors(page: Page, source: str | None) -> list[str]:
    """The author a page's metadata names, when that is a person: NetEase puts its own name there, Sina the
    outlet it took the story from, a forum its software's credits ("Discuz! Team"); neither the site, the source,
    an outlet nor a team is an author. A Latin name counts only from article:author or byline, and only whole."""
    outlets = {source, page.meta("og:site_name", "application-name", "ContentSource", "source", "generator")}
    named = page.meta("article:author", "byline")
    if named and named.isascii():
        return [named] if _LATIN_PERSON.match(named) and named not in outlets else []
    named = named or page.meta("author")
    if not named:
        return []
    return [n for n in split_names(named) if n not in outlets and not is_outlet(n) and looks_like_person(n)]


def extract_fields(page: Page, fields: Fields | None = None, rule_prefix: str = "generic") -> Fields:
    """Fill whatever is still empty in fields by the generic rules."""
    fields = fields or Fields()
    lines = page.lines
    title, rule = find_title(page)
    fields.set("title", title, rule)
    title_index = line_index_of_text(lines, fields.title)

    if fields.body is None:
        body = find_body(page)
        if title_index is not None:
            after = find_body(page, title_index + 1)
            # Prefer the body below the headline, unless that run is a scrap compared to the page's best.
            if after and _run_score(page, after) >= 0.5 * _run_score(page, body):
                body = after
        if body and title_index is not None and title_index < body[0]:
            body = extend_over_insert(lines, body, title_index + 1)
        fields.set("body", trim_run(lines, body) if body else None, f"{rule_prefix}:densest-lines")

    body = fields.body
    head_start = title_index if title_index is not None else max(0, (body[0] if body else 0) - 6)
    head = lines[head_start:(body[0] + 2) if body else head_start + 10]
    # Bylines may stand a few lines into the run (subtitle, 本报实习生…, 本报记者…), but only as short lines.
    head += [line for line in lines[body[0] + 2:body[0] + 6] if len(line.text) <= 40] if body else []
    tail = lines[max(0, body[1] - 3):body[1] + 4] if body else []
    values = credits_in(head) or {}
    tail_values = credits_in(tail)
    for key, value in tail_values.items():
        values.setdefault(key, value)
    fields.set("source", source_of(values), f"{rule_prefix}:label-near-body")
    # Authors come from one place: a byline under the headline, else a credit under the text (on a blog that
    # reposts a news story, the first names the reporters and the second the blogger).
    fields.set("authors", authors_of(credits_in(head)) or authors_of(tail_values), f"{rule_prefix}:label-near-body")
    fields.set("editor", editor_of(values), f"{rule_prefix}:label-near-body")
    if body and not fields.authors and not _credit_inside(lines, body):
        names, brule = find_byline(lines, title_index, body)
        fields.set("authors", names, f"{rule_prefix}:{brule}")
    fields.set("source", unlabelled_source(lines[head_start:body[0] + 1] if body else head), "anchor:outlet-by-date")
    fields.set("source", page.meta("ContentSource", "source", "og:site_name"), "meta:source")
    fields.set("authors", meta_authors(page, fields.source), "meta:author")

    if fields.published is None:
        visible, vrule = find_visible_date(lines, title_index, body)
        if vrule and not vrule.endswith("near-title") and hidden_dates(page):
            # Far from the headline a visible date may be a related story's; the page's own metadata is surer.
            visible, vrule = None, None
        published, prule = find_published(page, visible, vrule)
        fields.set("published", published, prule)

    crumbs, crule = find_breadcrumb(page, limit=(title_index or (body[0] if body else None)))
    fields.set("breadcrumb", crumbs, crule)
    return fields


TEMPLATE = Template(name="generic", site="", matches=lambda page: True, extract=extract_fields,
                    priority=1000, fallback=True)


@hookimpl
def scraper_templates():
    return [TEMPLATE]
