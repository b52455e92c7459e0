"""Page templates: how one family of pages gives up its fields.

A template is plain data: a name, a predicate that recognises its pages, and an extract function that
returns Fields. Templates anchor on text and structure first and on class names only where the markup is
known, so that an unseen variant of a page still reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..page import Page


@dataclass
class Fields:
    title: str | None = None
    subtitle: str | None = None
    published: tuple[str, int] | None = None  # (ISO text, precision: 0 day, 1 minute, 2 second)
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    breadcrumb: list[str] = field(default_factory=list)
    body: tuple[int, int] | None = None  # [start, end) over page.lines
    rules: dict[str, str] = field(default_factory=dict)

    def set(self, name: str, value, rule: str | None) -> None:
        """Set a field that is still empty, recording the rule that found it."""
        if value in (None, "", []) or getattr(self, name) not in (None, "", []):
            return
        setattr(self, name, value)
        if rule:
            self.rules[name] = rule


@dataclass(frozen=True)
class Template:
    name: str
    site: str
    matches: Callable[[Page], bool]
    extract: Callable[[Page], Fields]
    priority: int = 100
    needs: str = ""  # what a page must show to match, in words: what `scraper doctor` says when it does not
