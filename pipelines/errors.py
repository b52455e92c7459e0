"""Named exceptions of the archive's side, each with a message a user can act on."""

from __future__ import annotations

import os


class ArchiveError(Exception):
    """Base class for every error the pipelines raise on purpose."""


class StorageError(ArchiveError):
    """The archive database cannot be written (locked, read-only, disk full, not a database)."""


class ArchiveBusy(StorageError):
    """A run this one may not share the archive with is writing it: another crawl, or a reparse (pipelines.lock)."""


class NotAnArchive(StorageError):
    """The database is not an archive (another application's, or empty where an archive must be): left untouched."""


class SchemaTooNew(StorageError):
    """The archive was made by a newer release: its schema has migrations this release does not know."""

    def __init__(self, path: str, unknown: list[str]):
        self.path = path
        self.unknown = unknown
        super().__init__(
            f"{path} was made by a newer release of chaozhou-archive (schema steps {', '.join(unknown)} are "
            "unknown here); upgrade with `pip install -U chaozhou-archive`, or use another --db file"
        )


class Dropped(ArchiveError):
    """An article failed validation; ``reason`` says why, and is recorded in the ``dropped`` table."""

    def __init__(self, reason: str, url: str | None = None):
        self.reason = reason
        self.url = url
        super().__init__(f"{url}: dropped: {reason}" if url else f"dropped: {reason}")


class WarcDamaged(ArchiveError):
    """A WARC file is truncated or corrupt; records before ``offset`` were read."""

    def __init__(self, path: str, offset: int, cause: str):
        self.path = path
        self.offset = offset
        self.cause = cause
        super().__init__(f"{path}: damaged at byte offset {offset}: {cause}; records before it were imported")


class WarcWriteError(StorageError):
    """A WARC file could not be written (a full disk, a read-only folder): the run must stop."""

    def __init__(self, path: str | os.PathLike, exc: OSError):
        self.path = str(path)
        super().__init__(f"{path}: cannot write WARC files there: {exc.strerror or exc}: free some space or make "
                         "the folder writable, then run again (records already written are whole)")


class UnreadableBody(ArchiveError):
    """A response body that is not what its Content-Encoding says, or is cut short: what a browser shows as a
    content-decoding error."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class BodyTooLarge(UnreadableBody):
    """A body that decompresses past the size cap (a gzip bomb): read no further."""
