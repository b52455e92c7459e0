"""Normalise: one spelling for everything stored, so that equal articles compare (and hash) equal.

Also derives what the archive adds to an Article: the collection and column (from the URL, then the
breadcrumb) and the text's size.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from scraper.article import Article, Image
from scraper.text import CHINA

# gdxk.southcn.com/<city>/<column>/content/post_N.html: city and column codes as the site uses them.
COLLECTIONS = {"cz": "潮州库", "zh": "珠海库", "st": "汕头库"}
COLUMNS = {"llwzllzz": "理论文章、理论著作", "dsj": "大事记"}
GDXK_HOST = "gdxk.southcn.com"
_SPACES = re.compile(r"\s+")
_GDXK_POST = re.compile(r"^/[a-z]{2}/[a-z0-9]+/content/(?:\d+/)?post_\d+\.html?$")


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


def collection_and_column(url: str, breadcrumb: list[str]) -> tuple[str | None, str | None]:
    """潮州库 / 理论文章、理论著作 for a gdxk theory article: from the URL's codes first (stable), else the
    breadcrumb (``首页 > 潮州库 > 理论文章、理论著作``). A mirror of gdxk (same paths, another host) reads the same;
    other sites get no collection unless a crumb names one (…库), and their last crumb as the column."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    crumbs = [c for c in breadcrumb if c not in ("首页", "home", "Home")]
    collection = column = None
    if parts.hostname == GDXK_HOST or _GDXK_POST.search(parts.path):
        collection = COLLECTIONS.get(segments[0]) if segments else None
        column = COLUMNS.get(segments[1]) if len(segments) > 1 else None
    collection = collection or next((c for c in crumbs if c.endswith("库")), None)
    if column is None and crumbs and crumbs[-1] != collection and (collection or len(crumbs) > 1):
        column = crumbs[-1]
    return collection, column
