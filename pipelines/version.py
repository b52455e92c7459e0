"""Version: decide what an incoming capture of a known URL means, by a hash of its extracted text.

The hash covers title, subtitle and body: the raw HTML changes with every ad or counter on the page, the
text only when the article was edited.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from .item import Article


class Decision(Enum):
    NEW = "new"                # no article at this URL yet
    SAME_TEXT = "same-text"    # the text we hold; metadata may still be refreshed
    NEWER_TEXT = "newer-text"  # changed text from a capture at least as recent: it becomes current
    OLDER_TEXT = "older-text"  # changed text from an older capture (a WARC imported late): history only
    KNOWN_TEXT = "known-text"  # an older text we already keep as a version



def content_hash(article: Article) -> str:
    text = "\x1f".join((article.title or "", article.subtitle or "", article.body))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def compare(current_hash: str | None, current_fetched_at: str | None, incoming_hash: str,
            incoming_fetched_at: str | None, version_hashes: set[str]) -> Decision:
    """What an incoming text is to the stored one. Times are UTC text (pipelines.times); None is oldest."""
    if current_hash is None:
        return Decision.NEW
    if incoming_hash == current_hash:
        return Decision.SAME_TEXT
    if (incoming_fetched_at or "") >= (current_fetched_at or ""):
        return Decision.NEWER_TEXT
    return Decision.KNOWN_TEXT if incoming_hash in version_hashes else Decision.OLDER_TEXT
