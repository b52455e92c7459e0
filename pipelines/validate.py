"""Validate: the first step. An Article that fails is dropped, and the reason is recorded, never silently lost."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import Dropped
from .item import Article

# The parser gives ISO 8601 in China time, as precise as the page: a date, or a date and time with offset.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$")
MAX_TITLE = 300


def validate(article: Article) -> Article:
    """Return the article unchanged, or raise ``Dropped`` with the first reason it cannot be stored."""
    reason = first_problem(article)
    if reason:
        raise Dropped(reason, article.url)
    return article


def first_problem(article: Article) -> str | None:
    parts = urlsplit(article.url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the URL {article.url!r} is not an absolute http(s) URL"
    title = (article.title or "").strip()
    if not title:
        return "the article has no title"
    if len(title) > MAX_TITLE:
        # A title this long is a paragraph the template took for one: storing it would hide a parser bug.
        return f"the title is {len(title)} characters long (over {MAX_TITLE}): probably a paragraph"
    if not any(p.strip() for p in article.paragraphs):
        return "the article has no body text"
    if article.published_at and not _ISO.match(article.published_at):
        return f"published_at {article.published_at!r} is not an ISO 8601 date"
    return None
