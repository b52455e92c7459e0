"""Field finders shared by the templates: each takes a Page and returns a value and the rule that found it."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from pipelines.cjk import count_cjk

from .lines import BOILERPLATE, Line, densest_run
from .page import Page
from .text import (
    AUTHOR_LABELS,
    EDITOR_LABELS,
    SOURCE_LABELS,
    clean_text,
    date_in_year,
    epoch_date,
    find_dates,
    find_yearless_dates,
    is_outlet,
    labelled_values,
    most_precise,
    pick_label,
    split_names,
)

Found = tuple  # (value, rule)

_TITLE_SEPARATORS = re.compile(
    r"\s*(?:[_|｜]|--|—|–|\s-\s|(?<![A-Za-z0-9])-(?![A-Za-z0-9])(?=[^-]*(?:网|报|库|频道|首页|新闻)$))\s*")
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:>|＞|›|»|→|/|>>|－>)\s*")


# ---- title -------------------------------------------------------------------------------------------------

def title_segments(page: Page) -> list[str]:
    return [s for s in _TITLE_SEPARATORS.split(page.html_title) if s.strip()]


# A suffix after a plain hyphen or a space: a section or an office ("…-要闻", "… 潮州市人民政府").
_TITLE_SUFFIX = re.compile(r"(?:\s*-\s*|\s+)([^\s\d\-]{2,12})$")
_OFFICE = re.compile(r"(?:政府|委员会|办公室|办公厅|局|厅|门户|网站|官网|频道|栏目|专题|要闻)$")


def title_core(page: Page) -> str | None:
    """<title> without the site, section or office after the headline."""
    segments = title_segments(page)
    if not segments:
        return None
    core = max(segments[:2], key=len) if len(segments[0]) <= 6 else segments[0]  # "图说洛阳| …": a column first
    m = _TITLE_SUFFIX.search(core)
    if m and len(core) - len(m.group(0)) >= 6 and (_OFFICE.search(m.group(1)) or "-" in m.group(0)):
        core = core[:m.start()]
    return core


def _likeness(text: str, reference: str) -> float:
    """How much of the longer of the two is their longest common run: a subheading inside the headline, or a
    headline inside a long og:title, are not alike."""
    size = SequenceMatcher(None, text, reference, autojunk=False).find_longest_match(
        0, len(text), 0, len(reference)).size
    return size / max(len(text), len(reference))


def find_title(page: Page) -> Found:
    """The headline: a heading element that agrees with <title> (or with a title meta), else the title meta when it
    agrees with <title>, else <title> without its suffixes. A body subheading, a section name or a badge is only
    part of the headline: it does not agree with <title>."""
    meta = page.meta("ArticleTitle", "og:title", "twitter:title")
    core = title_core(page)
    references = [r for r in (core, meta) if r]
    full = page.html_title
    longest = max((len(segment) for segment in title_segments(page)), default=0)
    best, best_score = None, 0.0
    for el in page.select("//h1|//h2|//h3|//*[contains(@class,'title') or contains(@id,'title')]"):
        text = clean_text(el.text_content())
        if not 4 <= len(text) <= 120 or BOILERPLATE.search(text):
            continue
        score = max((_likeness(text, r) for r in references), default=0.5 if el.tag == "h1" else 0.3)
        if full and len(text) >= 0.6 * longest:
            # A heading printed whole inside <title>, as long as its longest piece or near: the headline, however
            # <title> is cut up around it (a subheading is a small part of it, and fails the length test).
            inside = SequenceMatcher(None, text, full, autojunk=False).find_longest_match(
                0, len(text), 0, len(full)).size / len(text)
            score = max(score, inside)
        score += {"h1": 0.15, "h2": 0.1, "h3": 0.05}.get(el.tag, 0)
        if score > best_score:
            best, best_score = text, score
    if best and best_score >= 0.6:
        return best, "generic:heading-matching-title"
    if meta and (not core or _likeness(meta, core) >= 0.5):
        return meta, "meta:title"
    if core:
        return core, "generic:html-title"
    if meta:
        return meta, "meta:title"
    if best:
        return best, "generic:heading"
    return None, None


def line_index_of_text(lines: list[Line], text: str | None, start: int = 0, end: int | None = None) -> int | None:
    if not text:
        return None
    for i in range(start, len(lines) if end is None else end):
        if lines[i].text == text or (len(text) >= 6 and lines[i].text.startswith(text)):
            return i
    return None


# ---- dates -------------------------------------------------------------------------------------------------

DATE_METAS = ("PubDate", "publishdate", "pubdate", "article:published_time", "og:release_date",
              "publish_date", "publication_date", "ptime", "datePublished", "dateCreated", "weibo:article:create_at",
              "dc.date.issued", "dc.date", "date")
# When the page was last changed: its publication time only when it says nothing else (a portal's article page
# holds dateUpdate alone, and it is the time the story went out), as GNE reads it.
UPDATE_METAS = ("dateUpdate", "dateModified", "article:modified_time", "og:updated_time")
_STRUCTURED_PUBLISHED = ("datePublished", "dateCreated")
_STRUCTURED_UPDATED = ("dateUpdate", "dateModified")
# A publication time in a script variable: pubtime, __$pubtime, publishTime, publish_time, pubDate, publish_date …,
# as text ("2020-10-13 11:13:14") or as a Unix time in seconds or milliseconds (publish_time: 1581418070000).
# The name is found by its literal middle, "ub", which the regex engine scans for fast (scripts run to megabytes);
# the "p" before it is checked after.
_SCRIPT_DATE_NAME = re.compile(r"""ub(?:lish)?_?(?:[tT]ime|[dD]ate)["']?\s*[:=]\s*""")
_SCRIPT_DATE_VALUE = re.compile(r"""["']?(\d{13}|\d{10})(?![\d.])|["']([^"']{8,30})""")
# WeChat's ``var ct = "1581418070"`` (also window.ct = …): a Unix time, only in a declaration or a property.
_SCRIPT_CT = re.compile(r"""ct\s*=\s*["']?(\d{13}|\d{10})(?![\d.])""")
_CT_OWNER = re.compile(r"""(?:\b(?:var|let|const)\s+|[\w$]\.)$""")
_ENP_DATE = re.compile(r"<date>([^<]{8,30})</date>")
_DATE_LABEL = re.compile(r"(?:发布时间|发表时间|发布日期|发表于|发布于|时间|日期|Date)\s*[:：]?", re.I)


def _first_date(value: object) -> tuple[str, int] | None:
    dates = find_dates(value) if isinstance(value, str) else []
    return dates[0] if dates else None


def _structured_dates(page: Page, names: tuple[str, ...]) -> list[tuple[tuple[str, int], str]]:
    """Readings of names in the page's microdata (itemprop outside <meta>) and its JSON-LD objects."""
    found = []
    for name in names:
        reading = _first_date(page.itemprops.get(name.lower()))
        if reading:
            found.append((reading, f"itemprop:{name}"))
    for name in names:
        for obj in page.linked_data:
            reading = _first_date(obj.get(name))
            if reading:
                found.append((reading, f"json-ld:{name}"))
                break
    return found


def hidden_dates(page: Page) -> list[tuple[tuple[str, int], str]]:
    """Dates the page holds outside its visible text: metas, microdata, JSON-LD, script variables, CMS comments."""
    if "hidden_dates" not in page.memo:  # templates ask twice (is there any? which is it?); the scripts are long
        page.memo["hidden_dates"] = _hidden_dates(page)
    return list(page.memo["hidden_dates"])


def _hidden_dates(page: Page) -> list[tuple[tuple[str, int], str]]:
    found = []
    for name in DATE_METAS:
        reading = _first_date(page.meta(name))
        if reading:
            found.append((reading, f"meta:{name}"))
    found += _structured_dates(page, _STRUCTURED_PUBLISHED)
    scripts = page.scripts
    for m in _SCRIPT_DATE_NAME.finditer(scripts):
        if m.start() == 0 or scripts[m.start() - 1] not in "pP":
            continue
        value = _SCRIPT_DATE_VALUE.match(scripts, m.end())
        if value:
            epoch = epoch_date(value.group(1)) if value.group(1) else None
            reading = epoch or _first_date(value.group(2))
            if reading:
                found.append((reading, "script:epoch" if epoch else "script:pubtime"))
    for m in _SCRIPT_CT.finditer(scripts):
        reading = epoch_date(m.group(1))
        if reading and _CT_OWNER.search(scripts, max(0, m.start() - 8), m.start()):
            found.append((reading, "script:epoch"))
    for m in _ENP_DATE.finditer(page.comments):
        reading = _first_date(m.group(1))
        if reading:
            found.append((reading, "comment:enpproperty"))
    return found


def updated_dates(page: Page) -> list[tuple[tuple[str, int], str]]:
    """When the page says it was last changed (dateUpdate, dateModified): the last resort for its date."""
    found = []
    for name in UPDATE_METAS:
        reading = _first_date(page.meta(name))
        if reading:
            found.append((reading, f"meta:{name}"))
    return found + _structured_dates(page, _STRUCTURED_UPDATED)


def find_published(page: Page, first: tuple[str, int] | None, first_rule: str | None) -> Found:
    """Refine a date a template found with the most precise agreeing reading anywhere on the page.

    With no visible date, the page's published readings decide, else its last-changed ones; a visible date without
    a year on the same day (``10-08 12:00``) then gives the time of day the full reading lacks or misstates."""
    hidden = hidden_dates(page)
    updated = not first and not hidden
    readings = ([(first, first_rule)] if first else []) + (updated_dates(page) if updated else hidden)
    if not readings:
        return None, None
    best = most_precise([r[0] for r in readings])
    rule = next(rule for value, rule in readings if value == best)
    if first and best != first:
        rule = f"{first_rule}+{rule}"
    if not first and (best[1] == 0 or updated):
        timed = _yearless_time(page.lines, best)
        # An update time the visible one confirms to the minute stays, with its seconds.
        if timed and timed[0][:16] != best[0][:16]:
            return timed, f"{rule}+generic:date-without-year"
    return best, rule


def _yearless_time(lines: list[Line], full: tuple[str, int]) -> tuple[str, int] | None:
    """The time of a visible date without a year (a short line, not a link) on the same day as full, in its year."""
    year, month, day = int(full[0][:4]), int(full[0][5:7]), int(full[0][8:10])
    for line in lines:
        if len(line.text) > 60 or line.link_density > 0.5:
            continue
        for mo, d, h, mi, sec in find_yearless_dates(line.text):
            if (int(mo), int(d)) == (month, day):
                reading = date_in_year(year, mo, d, h, mi, sec)
                if reading:
                    return reading
    return None


def find_visible_date(lines: list[Line], title_index: int | None, body: tuple[int, int] | None) -> Found:
    """The publication date among the visible lines: labelled first, then nearest the title and body."""
    n = len(lines)
    top = title_index if title_index is not None else (body[0] - 8 if body else 0)
    start = max(0, top - 2)
    body_start = body[0] if body else min(n, start + 15)
    body_end = body[1] if body else body_start
    # The date line may stand inside the run's first lines (the run often starts at the headline or a
    # subtitle), but there only a short line is a date line; a long one is a paragraph that names a day.
    near_end = min(n, max(body_start, start) + 6)
    windows = [
        (range(start, near_end), "generic:date-near-title"),
        (range(body_end, min(n, body_end + 6)), "generic:date-after-body"),
        (range(max(0, start - 15), start), "generic:date-above-title"),
        (range(n), "generic:date-anywhere"),
    ]
    for window, rule in windows:
        labelled, plain = None, None
        for i in window:
            text = lines[i].text
            if len(text) > (60 if rule == "generic:date-near-title" and i > body_start else 200):
                continue
            dates = find_dates(text)
            if not dates:
                continue
            if _DATE_LABEL.search(text) and labelled is None:
                labelled = most_precise(dates)
            if plain is None:
                plain = most_precise(dates)
        if labelled or plain:
            return (labelled or plain), rule
    return None, None


# What may stand on a date line besides the date and labelled credits: time labels, a hit counter, a 字号
# toolbar, and the glue between them.
_DATE_LINE_NOISE = re.compile(
    r"发布时间|发表时间|发布日期|更新时间|时间|日期|浏览|阅读|点击|次数|字号|字体|打印|分享|收藏|关闭|评论|举报|人"
    r"|[大中小\d\s:：\-/.年月日时分秒T【】\[\]|｜()（）]")


def is_date_line(line: Line) -> bool:
    """A line that is a date plus at most credits and counters ("2020-10-13 11:13:14 来源：潮州日报 阅读 123").

    A list item such as "以党建引领基层治理现代化 2020-10-12" also holds a date; what sets the date line apart
    is that nothing else of substance stands on it once the date and the labelled values are taken away.
    """
    text = line.credits
    if len(text) > 100 or line.link_density >= 0.5 or not find_dates(text):
        return False
    rest = text
    for label, value in labelled_values(text).items():
        rest = rest.replace(value, " ").replace(label, " ")
    # An outlet standing with no label ("2020-10-13 11:13 潮州日报 1234人阅读") is a credit too.
    rest = " ".join(word for word in rest.split() if not is_outlet(word))
    return count_cjk(_DATE_LINE_NOISE.sub("", rest)) <= 2




# ---- credits: 来源, 作者, 编辑 -------------------------------------------------------------------------------

def credits_in(lines: list[Line]) -> dict[str, str]:
    """Labelled values on short credit lines (source, author, editor) among lines."""
    values: dict[str, str] = {}
    for line in lines:
        if len(line.text) > 120 or line.link_density > 0.5:  # a linked "口述：…" is another story's teaser
            continue
        for label, value in labelled_values(line.credits).items():
            values.setdefault(label, value)
    return values


def source_of(values: dict[str, str]) -> str | None:
    value = pick_label(values, SOURCE_LABELS)
    return value.split()[0] if value and value.split() else None


def authors_of(values: dict[str, str]) -> list[str]:
    names: list[str] = []
    # In the order the page gives them: "本报实习生 …" above "本报记者 …" reads in that order.
    for label, value in values.items():
        if label in AUTHOR_LABELS:
            names += [n for n in split_names(value) if n not in names]
    return names


def editor_of(values: dict[str, str]) -> str | None:
    value = pick_label(values, EDITOR_LABELS)
    return value.split()[0] if value and value.split() else None


# ---- breadcrumb --------------------------------------------------------------------------------------------

def split_breadcrumb(text: str) -> list[str]:
    items = [clean_text(p) for p in _BREADCRUMB_SPLIT.split(text)]
    items = [re.sub(r"^(?:当前位置|您的位置|你的位置|位置)\s*[:：]\s*", "", p) for p in items]
    return [p for p in items if p]


def find_breadcrumb(page: Page, limit: int | None = None) -> Found:
    """The smallest line that starts with 首页 (or 当前位置) and holds a trail separator."""
    for line in page.lines[:limit]:
        text = line.text
        if len(text) > 120:
            continue
        if re.match(r"^(?:当前位置|您的位置|你的位置|位置)?\s*[:：]?\s*(?:首页|主页|网站首页)", text) and \
                _BREADCRUMB_SPLIT.search(text):
            return split_breadcrumb(text), "anchor:breadcrumb-text"
    return [], None


# ---- body --------------------------------------------------------------------------------------------------

def find_body(page: Page, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    return densest_run(page.lines, start, end)
