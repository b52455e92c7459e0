"""Validate: the first step. A page with no URL, title or body text is dropped, with the reason recorded; a page
with a body is never dropped for an odd field: the field is cut or emptied, and the article says so in
``warnings``."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

from .errors import Dropped
from .item import Article

# The parser gives ISO 8601 in China time, as precise as the page: a date, or a date and time with offset.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$")
MAX_TITLE = 300  # a longer title is a paragraph the template took for one: a parser problem worth a warning
MAX_LINE = 300  # subtitle, source, editor, an author: one line each


def validate(article: Article) -> Article:
    """The article, with any odd field cut and a warning for it; ``Dropped`` when there is nothing to store."""
    reason = missing(article)
    if reason:
        raise Dropped(reason, article.url)
    return tidy(article)


def missing(article: Article) -> str | None:
    """Why the page holds no article the archive can key and show: no URL, no title, or no body text."""
    parts = urlsplit(article.url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the URL {article.url!r} is not an absolute http(s) URL"
    if not (article.title or "").strip():
        return "the article has no title"
    if not any(p.strip() for p in article.paragraphs):
        return "the article has no body text"
    return None


def tidy(article: Article) -> Article:
    """A copy with odd fields cut (the same object when nothing is odd), each cut named in ``warnings``."""
    changes: dict = {}
    warnings: list[str] = []
    title = article.title.strip()
    if len(title) > MAX_TITLE:
        changes["title"] = title[:MAX_TITLE - 1] + "…"
        warnings.append(f"title cut from {len(title)} to {MAX_TITLE} characters (probably a paragraph)")
    if article.published_at and not _ISO.match(article.published_at):
        changes["published_at"] = None
        warnings.append(f"published_at {article.published_at[:80]!r} is not an ISO 8601 date; left empty")
    for name in ("subtitle", "source", "editor"):
        value = getattr(article, name)
        if value and len(value) > MAX_LINE:
            changes[name] = value[:MAX_LINE - 1] + "…"
            warnings.append(f"{name} cut from {len(value)} to {MAX_LINE} characters")
    if any(len(a) > MAX_LINE for a in article.authors):
        changes["authors"] = [a for a in article.authors if len(a) <= MAX_LINE]
        warnings.append(f"author names over {MAX_LINE} characters left out")
    if not changes:
        return article
    return replace(article, **changes, warnings=[*article.warnings, *warnings])
