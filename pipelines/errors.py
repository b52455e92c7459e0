"""Named exceptions of the storage side, each with a message a user can act on."""

from __future__ import annotations

from scraper.errors import ScraperError


class StorageError(ScraperError):
    """The archive database cannot be written (locked, read-only, disk full, not a database)."""


class SchemaTooNew(StorageError):
    """The archive was made by a newer release: its schema has migrations this release does not know."""

    def __init__(self, path: str, unknown: list[str]):
        self.path = path
        self.unknown = unknown
        super().__init__(
            f"{path} was made by a newer release of chaozhou-archive (schema steps {', '.join(unknown)} are "
            "unknown here); upgrade with `pip install -U chaozhou-archive`, or use another --db file"
        )


class Dropped(ScraperError):
    """An article failed validation; ``reason`` says why, and is recorded in the ``dropped`` table."""

    def __init__(self, reason: str, url: str | None = None):
        self.reason = reason
        self.url = url
        super().__init__(f"{url}: dropped: {reason}" if url else f"dropped: {reason}")


class WarcDamaged(ScraperError):
    """A WARC file is truncated or corrupt; records before ``offset`` were read."""

    def __init__(self, path: str, offset: int, cause: str):
        self.path = path
        self.offset = offset
        self.cause = cause
        super().__init__(f"{path}: damaged at byte offset {offset}: {cause}; records before it were imported")
