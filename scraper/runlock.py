"""One crawl per archive: an exclusive lock beside the database, held for the whole run."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ScraperError


class CrawlLocked(ScraperError):
    """Another crawl holds the database: two runs never write one archive at once."""


@contextmanager
def crawl_lock(db_path: str) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the whole run; refuse if another run holds it."""
    lock_path = str(db_path) + ".lock"
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        from pipelines.errors import StorageError

        raise StorageError(f"{db_path}: cannot create {lock_path}: {exc.strerror}: check that the folder exists "
                           "and is writable") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise CrawlLocked(f"{db_path} is being crawled by {holder}; wait for that run to finish "
                              f"(or remove {lock_path} if no crawl is running)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
