"""`scraper doctor`: show how one page is read, field by field, so a user can see what a template missed.

What a user runs first when the health line reports drift: which template matched (and which did not), each
field with the rule that found it and the line it came from, and the candidate blocks for the body with their
scores; then, per field it found, a CSS selector a user could pin and a rules file (``scraper.rules``) that makes
the page parse as shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipelines.item import Article

from . import USER_AGENT
from .errors import NotAnArticle, ScraperError
from .fetch import fetch, make_session
from .lines import line_score
from .page import Page
from .parse import extract_article, read_page
from .pinning import Suggestion, suggest_pins
from .plugins import all_templates
from .polite import Scope, fetch_robots
from .rules import SiteRules
from .text import find_dates

FIELDS = ("title", "subtitle", "published_at", "source", "authors", "editor", "breadcrumb", "headings",
          "paragraphs", "images")


@dataclass
class Candidate:
    start: int
    end: int
    score: float
    preview: str


@dataclass
class Diagnosis:
    url: str
    encoding: str
    encoding_source: str
    templates: list[tuple[str, bool, str]]  # (name, matches, what it needs) in the order they are tried
    fallback: str  # the name of the template that reads any page when no site template matches
    article: Article | None
    rejected: str | None  # why the page is not an article
    candidates: list[Candidate] = field(default_factory=list)
    contexts: dict[str, str] = field(default_factory=dict)  # field -> "line N: text"
    pins: Suggestion | None = None


def body_candidates(page: Page, limit: int = 5) -> list[Candidate]:
    """The best disjoint runs of lines by body score: the densest first, then the next in what is left."""
    lines = page.lines
    scores = [line_score(line) for line in lines]
    segments, found = [(0, len(lines))], []
    while segments and len(found) < limit:
        best = None
        for seg_start, seg_end in segments:
            run_sum, run_start, top = 0.0, seg_start, None
            for i in range(seg_start, seg_end):
                run_sum, run_start = (scores[i], i) if run_sum <= 0 else (run_sum + scores[i], run_start)
                if run_sum > 0 and (top is None or run_sum > top[0]):
                    top = (run_sum, run_start, i + 1)
            if top and (best is None or top[0] > best[0][0]):
                best = (top, (seg_start, seg_end))
        if best is None:
            break
        (score, start, end), segment = best
        segments.remove(segment)
        segments += [s for s in ((segment[0], start), (end, segment[1])) if s[1] > s[0]]
        preview = next((line.text for line in lines[start:end] if line.text), "")
        found.append(Candidate(start, end, score, preview[:60]))
    return found


def _context(page: Page, article: Article, name: str) -> str | None:
    value = getattr(article, name)
    if name == "published_at" and value:
        for i, line in enumerate(page.lines):
            if any(iso.startswith(value[:10]) for iso, _ in find_dates(line.text)):
                return f"line {i}: {line.text[:80]}"
        return "not in the visible text (from metadata or a script)"
    needle = value[0] if isinstance(value, list) and value and isinstance(value[0], str) else value
    if not isinstance(needle, str) or not needle:
        return None
    for i, line in enumerate(page.lines):
        if needle in line.text:
            return f"line {i}: {line.text[:80]}"
    return "not in the visible text (from metadata)"


def diagnose(data: bytes, url: str, content_type: str | None = None, rules: SiteRules | None = None) -> Diagnosis:
    page = read_page(data, url, content_type)
    decoded = page.decoded
    templates = [(t.name, bool(t.matches(page)), t.needs) for t in all_templates()]
    fallback = next(t.name for t in all_templates() if t.fallback)
    diagnosis = Diagnosis(url, decoded.encoding, decoded.encoding_source, templates, fallback, None, None,
                          body_candidates(page))
    try:
        diagnosis.article = extract_article(page, rules)
    except NotAnArticle as exc:
        diagnosis.rejected = exc.reason
        return diagnosis
    for name in FIELDS:
        context = _context(page, diagnosis.article, name)
        if context:
            diagnosis.contexts[name] = context
    diagnosis.pins = suggest_pins(page, diagnosis.article)
    return diagnosis


def format_diagnosis(d: Diagnosis) -> str:
    out = [f"page: {d.url}", f"encoding: {d.encoding} (from {d.encoding_source})", "", "templates, in order tried:"]
    used = d.article.extractor if d.article else None
    for name, matched, needs in d.templates:
        mark = "matches" if matched else "does not match"
        out.append(f"  {name:<18} {mark}{'  <- used' if name == used else ''}")
        if not matched and needs:
            out.append(f"  {'':<18} (needs {needs})")
    if used == d.fallback:
        out.append("  no site template matched: the page is read by text density and text anchors alone")
    if d.rejected:
        out += ["", f"not an article: {d.rejected}"]
    if d.article:
        a = d.article
        out += ["", "fields (value, rule that found it, where it stands):"]
        for name in FIELDS:
            value = getattr(a, name)
            if name == "paragraphs":
                shown = f"{len(value)} paragraphs, {sum(len(p) for p in value)} characters"
            elif name == "images":
                shown = f"{len(value)} images"
            elif isinstance(value, list):
                shown = " / ".join(value) if value else "-"
            else:
                shown = value if value else "-"
            rule = a.field_rules.get(name, "-" if value in (None, []) else "(derived)")
            out.append(f"  {name:<13} {str(shown)[:70]}")
            out.append(f"  {'':<13} rule: {rule}")
            if name in d.contexts:
                out.append(f"  {'':<13} {d.contexts[name]}")
        if a.warnings:
            out += ["", "warnings: " + "; ".join(a.warnings)]
    out += ["", "body candidates (densest runs of lines, best first):"]
    for i, c in enumerate(d.candidates, 1):
        out.append(f"  {i}. lines {c.start}-{c.end - 1}  score {c.score:,.0f}  {c.preview}")
    if d.pins is not None:
        out += format_pins(d.pins)
    return "\n".join(out)


def format_pins(pins: Suggestion) -> list[str]:
    """The selectors to pin, then the rules file last, so that it can be copied as it stands."""
    out = ["", "selectors a user could pin (each gives the value shown above on this page):"]
    for name, pin in pins.pins.items():
        out.append(f"  {name:<13} {pin.selector}" + (f"  (its {pin.attribute} attribute)" if pin.attribute else ""))
    for name, why in pins.missing.items():
        out.append(f"  {name:<13} - ({why})")
    out += ["", "rules file that makes this page parse as shown (save it as rules.toml beside the archive, or give "
                "it with --rules):", "", pins.rules_file()]
    return out


class NotAllowed(ScraperError):
    """robots.txt does not allow the page `doctor` was asked to fetch."""


def fetch_politely(url: str) -> tuple[bytes, str | None, str]:
    """One polite fetch for `doctor`: robots.txt asked first, our User-Agent, no WARC. Raises NotAllowed, or a
    ScraperError when the page cannot be had."""
    scope = Scope.around(url)
    # The user named this host: it may be an intranet mirror on a private address.
    session = make_session(allow_private=(urlsplit(url).hostname,))
    _, robots = fetch_robots(session, scope)
    if not robots.allows(url, USER_AGENT):
        raise NotAllowed(f"robots.txt does not allow {url} ({robots.state.value}: {robots.detail})")
    final = fetch(session, url, Scope(scope.scheme, scope.netloc, "/").allows).final
    if final.status != 200:
        raise ScraperError(f"{final.url} answered HTTP {final.status}")
    return final.decoded_body(), final.content_type, final.url
