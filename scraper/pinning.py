"""What `scraper doctor` offers a user to pin: per field it found, a CSS selector that gives the value shown, and a
rules file (``scraper.rules``) that makes the page parse as shown, each checked on the page before it is offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import soupsieve
from bs4 import BeautifulSoup
from lxml import etree

from pipelines.item import Article

from .errors import NotAnArticle
from .page import Page
from .parse import extract_article
from .rules import RULE_FIELDS, Pin, SiteRule, SiteRules, element_path, read_pin, soup_of, toml_text
from .text import clean_text, find_dates

_IDENT = re.compile(r"^-?[A-Za-z_][A-Za-z0-9_-]*$")
_NTH = re.compile(r":nth-of-type\(\d+\)$")
_SKIP = {"script", "style", "noscript", "template", "head", "html"}
CANDIDATES = 6  # elements tried per field, the smallest first


@dataclass
class Suggestion:
    pins: dict[str, Pin] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # field -> why no selector is offered
    rule_name: str = ""
    where: tuple[str, str] = ("host", "")

    def rules_file(self) -> str:
        lines = [f"[{toml_text(self.rule_name)}]", f"{self.where[0]} = {toml_text(self.where[1])}"]
        for name, pin in self.pins.items():
            selector = toml_text(pin.selector)
            lines.append(f"{name} = {{ selector = {selector}, attribute = {toml_text(pin.attribute)} }}"
                         if pin.attribute else f"{name} = {selector}")
        return "\n".join(lines)


def suggest_pins(page: Page, article: Article) -> Suggestion:
    """A selector per field of article that reads the same value on page, and the rule that holds them, checked
    by parsing the page with it: a pin that would change what the page gives is not offered."""
    soup = soup_of(page)
    host = page.host
    suggestion = Suggestion(rule_name=host or "this page", where=("host", host) if host else ("url", page.url))
    for name in RULE_FIELDS:
        if not wanted(article, name):
            continue
        pin = first_pin(page, soup, article, name)
        if pin is None:
            suggestion.missing[name] = "no element on the page gives it alone"
        else:
            suggestion.pins[name] = pin
    for _ in range(len(RULE_FIELDS)):
        try:
            again = extract_article(page, as_rules(suggestion))
            differs = [name for name in suggestion.pins if not same_field(again, article, name)]
        except NotAnArticle:  # a body element that holds a page of links besides
            differs = ["body"] if "body" in suggestion.pins else list(suggestion.pins)
        if not differs:
            break
        for name in differs:
            del suggestion.pins[name]
            suggestion.missing[name] = "the element that holds it holds more (the parse would change)"
    return suggestion


def as_rules(suggestion: Suggestion) -> SiteRules:
    where = suggestion.where
    rule = SiteRule(suggestion.rule_name, (where[1].lower(),) if where[0] == "host" else (),
                    (where[1],) if where[0] == "url" else (), tuple(suggestion.pins.values()))
    return SiteRules("doctor", (rule,))


def wanted(article: Article, name: str) -> bool:
    return bool(article.paragraphs) if name == "body" else getattr(article, name) not in (None, "", [])


def same_field(a: Article, b: Article, name: str) -> bool:
    if name == "body":
        return (a.paragraphs, a.headings, a.images) == (b.paragraphs, b.headings, b.images)
    return getattr(a, name) == getattr(b, name)


def first_pin(page: Page, soup: BeautifulSoup, article: Article, name: str) -> Pin | None:
    for element, attribute in candidates(page, article, name)[:CANDIDATES]:
        selector = selector_for(page, soup, element)
        if selector is None:
            continue
        pin = Pin(name, selector, attribute, soupsieve.compile(selector))
        if name == "body" or reads_as(read_pin(page, soup, pin), article, name):
            return pin
    return None


def reads_as(value, article: Article, name: str) -> bool:
    if name == "published_at":
        return value is not None and value[0] == article.published_at
    return value == getattr(article, name)


def candidates(page: Page, article: Article, name: str) -> list[tuple[etree._Element, str | None]]:
    """(element, attribute to read or None for its text) that may hold the field, the smallest first."""
    if name == "body":
        return [(el, None) for el in body_elements(page, article.paragraphs)]
    value = getattr(article, name)
    needles = value if isinstance(value, list) else [value]

    def holds(text: str) -> bool:
        if name == "published_at":
            return any(iso == value for iso, _ in find_dates(text)[:1])
        return all(n in text for n in needles)

    body = page.root.find("body")
    visible = set(body.iter()) if body is not None else set()
    found = []
    for el in page.root.iter():
        if not isinstance(el.tag, str) or el.tag in _SKIP:
            continue
        depth = sum(1 for _ in el.iterancestors())
        text = clean_text(" ".join(el.itertext())) if el in visible else ""
        if text and holds(text):
            found.append((False, len(text), -depth, el, None))
        for attribute, attr_value in el.attrib.items():
            if attribute not in ("class", "id", "style", "href", "src") and holds(clean_text(attr_value)):
                found.append((True, len(attr_value), -depth, el, attribute))
    # What a reader sees before what only the markup holds; the smallest, then the innermost, first.
    found.sort(key=lambda item: item[:3])
    return [(el, attribute) for *_, el, attribute in found]


def body_elements(page: Page, paragraphs: list[str]) -> list[etree._Element]:
    """The element holding the lines of the first and the last paragraph, then its ancestors."""
    texts = [line.text for line in page.lines]
    if not paragraphs or paragraphs[0] not in texts:
        return []
    start = texts.index(paragraphs[0])
    end = max((i for i in range(start, len(texts)) if texts[i] == paragraphs[-1]), default=start)
    first, last = page.lines[start].element, page.lines[end].element
    if first is None or last is None:
        return []
    inside_last = set(last.iterancestors()) | {last}
    common = next((el for el in [first, *first.iterancestors()] if el in inside_last), None)
    chain = [common, *common.iterancestors()] if common is not None else []
    return [el for el in chain if el.tag not in ("html",)][:3]


def steps_of(element: etree._Element) -> list[str]:
    """A selector step per element from element up to <body> (an id ends it): tag, classes, and its place among
    siblings of its tag when it has any."""
    steps = []
    node = element
    while node is not None and node.tag != "html":
        if node.tag == "meta":
            key = next((k for k in ("name", "property", "itemprop") if node.get(k)), None)
            if key:
                value = node.get(key)
                steps.append(f"meta[{key}='{value}']" if "'" not in value and "\\" not in value
                             else f"meta[{key}={toml_text(value)}]")
                break
        node_id = node.get("id") or ""
        if _IDENT.match(node_id):
            steps.append(f"#{node_id}")
            break
        step = node.tag + "".join(f".{c}" for c in (node.get("class") or "").split() if _IDENT.match(c))
        parent = node.getparent()
        same = [s for s in parent if s.tag == node.tag] if parent is not None else [node]
        if len(same) > 1:
            step += f":nth-of-type({same.index(node) + 1})"
        steps.append(step)
        node = parent
    return steps


def lxml_path(element: etree._Element) -> list[int]:
    path = []
    while element.getparent() is not None:
        parent = element.getparent()
        path.append([c for c in parent if isinstance(c.tag, str)].index(element))
        element = parent
    return path[::-1]


def selector_for(page: Page, soup: BeautifulSoup, element: etree._Element) -> str | None:
    """The shortest chain of steps whose first match is element (without places among siblings when it needs
    none: a selector a user can read), or None."""
    steps, target = steps_of(element), lxml_path(element)
    for k in range(1, len(steps) + 1):
        chain = list(reversed(steps[:k]))
        for selector in dict.fromkeys((" > ".join(_NTH.sub("", step) for step in chain), " > ".join(chain))):
            try:
                found = soupsieve.select_one(selector, soup)
            except soupsieve.SelectorSyntaxError:
                return None
            if found is not None and element_path(found) == target:
                return selector
    return None
