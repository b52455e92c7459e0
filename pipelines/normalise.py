"""Normalise: one spelling for everything stored, so that equal articles compare (and hash) equal."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import datetime

from .item import Article, Image
from .times import CHINA

_SPACES = re.compile(r"\s+")


def normalise(article: Article) -> Article:
    """A cleaned copy: NFC text, collapsed whitespace in one-line fields, no empty or repeated list items,
    ``published_at`` in China time (so that the ISO text sorts)."""
    paragraphs = [p for p in (clean_text(p) for p in article.paragraphs) if p]
    kept = set(paragraphs)
    return replace(
        article,
        title=clean_line(article.title),
        subtitle=clean_line(article.subtitle),
        source=clean_line(article.source),
        editor=clean_line(article.editor),
        collection=clean_line(article.collection),
        column=clean_line(article.column),
        published_at=china_time(article.published_at),
        authors=unique(clean_line(a) for a in article.authors),
        breadcrumb=[b for b in (clean_line(b) for b in article.breadcrumb) if b],
        paragraphs=paragraphs,
        headings=[h for h in unique(clean_text(h) for h in article.headings) if h in kept],
        images=unique_images(article.images),
    )


def clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text).strip()
    return text or None


def clean_line(text: str | None) -> str | None:
    text = clean_text(text)
    return _SPACES.sub(" ", text) if text else None


def unique(items) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def unique_images(images: list[Image]) -> list[Image]:
    seen = set()
    out = []
    for image in images:
        if image.url and image.url not in seen:
            seen.add(image.url)
            out.append(Image(url=image.url.strip(), caption=clean_line(image.caption)))
    return out


def china_time(value: str | None) -> str | None:
    """Re-express a timestamp with another offset in +08:00; dates and China times pass through as given."""
    if not value or "T" not in value or value.endswith("+08:00"):
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(CHINA).isoformat()
