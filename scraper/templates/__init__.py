"""Page templates: how one family of pages gives up its fields, and what its site's URLs look like.

A template is plain data: a name, a predicate that recognises its pages, and an extract function that
returns Fields. Templates anchor on text and structure first and on class names only where the markup is
known, so that an unseen variant of a page still reads.

A template also declares its site's URL patterns: which paths are articles, which are listings (and which page
of a listing), and, for the 潮州库, which collection and column a path's codes name. ``scraper.sites`` asks the
templates for these, for discovery, import and the article's collection alike: nothing else knows them.
"""

from __future__ import annotations

import re
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
    site: str  # the host its pages are on; empty for the fallback, whose articles take their page's host
    matches: Callable[[Page], bool]
    extract: Callable[[Page], Fields]
    priority: int = 100
    needs: str = ""  # what a page must show to match, in words: what `scraper doctor` says when it does not
    # The fallback reads any page after the others failed to match; site templates fill in only what it leaves.
    fallback: bool = False
    # Whether the site's article pages print a breadcrumb, so that a page without one is worth a warning.
    has_breadcrumb: bool = True
    # Searched in a URL's path (with "?query" when it has one). A listing pattern may name the groups "listing"
    # (what its pages share) and "page" (the page number; page 1 when absent); an article pattern may name "page"
    # for the later pages of a long article (post_N_2.html), with the "_" before it: dropping both gives page 1.
    # A URL an article pattern matches is stored without its query (scraper.sites.identity_url): a pattern must
    # match only paths that name one article by themselves (never /show.asp, whose query names the article).
    article_urls: re.Pattern | None = None
    listing_urls: re.Pattern | None = None
    # Collection and column named by an article URL's codes (the 潮州库's /cz/llwzllzz/…), or (None, None).
    place: Callable[[str], tuple[str | None, str | None]] | None = None
