"""Site rules a user writes without code: a field pinned to a CSS selector, per site or URL pattern.

When the health line reports drift, a user who is no programmer can pin a field in a TOML file::

    ["news.example.com"]                      # the rule's name, as field_rules records it: rule:FILE:NAME
    host = "news.example.com"                 # or a list; "*.example.com" for its subdomains
    url = "https://news.example.com/a/*"      # optional: a pattern the page's URL must match (* any text)
    source = "span:-soup-contains('来源')"
    published_at = { selector = "div.pubtime", attribute = "data-time" }
    body = "#article-content"

A pinned field is tried before the built-in rules; the built-in ones fill in the rest. Selectors are read by
BeautifulSoup and soupsieve (the selectors users know), and only for a page a rule applies to: every other page
takes the lxml path alone, at its speed.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from fnmatch import fnmatchcase
from pathlib import Path

import lxml.html
import soupsieve
from bs4 import BeautifulSoup, Tag
from lxml import etree

from .errors import ScraperError
from .fields import authors_of, editor_of, source_of
from .page import Page
from .templates import Fields
from .text import clean_text, find_dates, labelled_values, split_names

# What a rule may pin, as the article names them; "published_at" is Fields.published.
RULE_FIELDS = ("title", "published_at", "source", "authors", "editor", "body")
_WHERE = ("host", "url")
DEFAULT_RULES_FILE = "rules.toml"  # beside the archive database, read when it is there


class RulesError(ScraperError):
    """A rules file that cannot be used: not TOML, an unknown field, a selector soupsieve rejects."""

    def __init__(self, path: str | Path, problem: str, rule: str | None = None):
        self.problem = problem
        where = f"{path}: rule {rule!r}: " if rule else f"{path}: "
        super().__init__(where + problem)


@dataclass(frozen=True)
class Pin:
    field: str
    selector: str
    attribute: str | None
    compiled: soupsieve.SoupSieve


@dataclass(frozen=True)
class SiteRule:
    name: str
    hosts: tuple[str, ...]
    urls: tuple[str, ...]
    pins: tuple[Pin, ...]

    def applies(self, page: Page) -> bool:
        host = page.host.lower()
        return ((not self.hosts or any(fnmatchcase(host, h) for h in self.hosts))
                and (not self.urls or any(fnmatchcase(page.url, u) for u in self.urls)))


@dataclass(frozen=True)
class SiteRules:
    file: str  # the file's name, as field_rules records it
    rules: tuple[SiteRule, ...]

    def pin(self, page: Page, found: Fields) -> Fields:
        """The fields the rules that apply to page pin, the found ones filling in the rest; found itself when no
        rule applies (no BeautifulSoup for that page)."""
        applying = [rule for rule in self.rules if rule.applies(page)]
        if not applying:
            return found
        soup = soup_of(page)
        pinned = Fields()
        for rule in applying:
            for pin in rule.pins:
                pinned.set(_attr(pin.field), read_pin(page, soup, pin), f"rule:{self.file}:{rule.name}")
        for item in dataclass_fields(Fields):
            if item.name != "rules":
                pinned.set(item.name, getattr(found, item.name), found.rules.get(item.name))
        return pinned


def _attr(name: str) -> str:
    return "published" if name == "published_at" else name


def soup_of(page: Page) -> BeautifulSoup:
    """The page's tree as BeautifulSoup, from lxml's own serialisation: the same libxml2 parser then sees the
    same elements, so an element found by a selector is found again in the lxml tree by its path."""
    return BeautifulSoup(lxml.html.tostring(page.root, encoding="unicode"), "lxml")


def element_path(tag: Tag) -> list[int]:
    """Where tag stands: its index among its parent's elements, from the top element down."""
    path = []
    while tag.parent is not None and not isinstance(tag.parent, BeautifulSoup):
        path.append([c for c in tag.parent.children if isinstance(c, Tag)].index(tag))
        tag = tag.parent
    return path[::-1]


def lxml_element(page: Page, tag: Tag) -> etree._Element | None:
    """The lxml element at tag's place, or None when the two trees part (they should not)."""
    node = page.root
    for index in element_path(tag):
        children = [c for c in node if isinstance(c.tag, str)]
        if index >= len(children):
            return None
        node = children[index]
    return node if node.tag == tag.name else None


def _text(tag: Tag, attribute: str | None) -> str:
    # A space between elements: two credits in adjacent spans are two, even where a browser prints no space.
    return clean_text(tag.get(attribute, "") if attribute else tag.get_text(" "))


def read_pin(page: Page, soup: BeautifulSoup, pin: Pin):
    """The value pin gives on page: what the field holds (a (ISO, precision) pair for published_at, a line span
    for body), or None when its selector matches nothing usable."""
    matches = pin.compiled.select(soup)
    if pin.field == "body":
        element = lxml_element(page, matches[0]) if matches else None
        return page.line_span(element) if element is not None else None
    texts = [text for text in (_text(tag, pin.attribute) for tag in matches) if text]
    if pin.field == "authors":
        names: list[str] = []
        for text in texts:
            names += [n for n in (authors_of(labelled_values(text)) or split_names(text)) if n not in names]
        return names
    if not texts:
        return None
    text = texts[0]
    if pin.field == "published_at":
        return next((found for text in texts for found in find_dates(text)[:1]), None)
    if pin.field == "source":
        values = labelled_values(text)
        return source_of(values) if values else text
    if pin.field == "editor":
        values = labelled_values(text)
        return editor_of(values) if values else text
    return text


def load_rules(path: str | Path) -> SiteRules:
    """Read a rules file; RulesError says in one line what is wrong and where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(path, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise RulesError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise RulesError(path, f"cannot be read: {exc.strerror or exc}") from None
    rules = []
    for name, table in data.items():
        if not isinstance(table, dict):
            raise RulesError(path, f"{name} = … stands outside a rule: write each rule as a table, "
                                   f'["{name}"] on its own line, then host = "…" and the fields it pins')
        rules.append(read_rule(path, name, table))
    return SiteRules(path.name, tuple(rules))


def read_rule(path: Path, name: str, table: dict) -> SiteRule:
    where: dict[str, tuple[str, ...]] = {}
    pins = []
    for key, value in table.items():
        if key in _WHERE:
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                raise RulesError(path, f"{key} must be a text or a list of texts", name)
            where[key] = tuple(v.lower() if key == "host" else v for v in values)
        elif key in RULE_FIELDS:
            pins.append(read_pin_spec(path, name, key, value))
        else:
            raise RulesError(path, f"{key!r} is not a field a rule can pin (fields: {', '.join(RULE_FIELDS)}; "
                                   f"and host, url to say where the rule applies)", name)
    if not where:
        raise RulesError(path, 'says neither host = "…" nor url = "…": it would apply to every page', name)
    return SiteRule(name, where.get("host", ()), where.get("url", ()), tuple(pins))


def read_pin_spec(path: Path, name: str, field: str, value) -> Pin:
    attribute = None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"selector", "attribute"})
        if unknown:
            raise RulesError(path, f"{field}: {unknown[0]!r} is not known (a field's table has selector and "
                                   "attribute)", name)
        value, attribute = value.get("selector"), value.get("attribute")
        if attribute is not None and (not isinstance(attribute, str) or field == "body"):
            raise RulesError(path, f"{field}: attribute must be a text, and body takes none", name)
    if not isinstance(value, str) or not value.strip():
        raise RulesError(path, f"{field}: the selector must be a text, e.g. {field} = \"div.info span\"", name)
    try:
        compiled = soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RulesError(path, f"{field}: the selector {value!r} is not valid CSS: {first}", name) from None
    return Pin(field, value, attribute, compiled)


def find_rules(path: str | None, db_path: str | Path | None = None) -> SiteRules | None:
    """The rules file given, else rules.toml beside the archive database when there is one there."""
    if path is None and db_path is not None:
        default = Path(db_path).parent / DEFAULT_RULES_FILE
        path = str(default) if default.is_file() else None
    return load_rules(path) if path is not None else None


def toml_text(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)
