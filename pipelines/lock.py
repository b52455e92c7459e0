"""One writer per archive: an exclusive lock beside the database, held by a crawl, an import or a reparse for the
whole run.

Holding it is also what lets a run close the ``runs`` rows a killed process left ``running``: whoever held the
lock before has let go of it, so nothing is still writing them (``pipelines.run.Run.start``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ArchiveBusy, StorageError


@contextmanager
def archive_lock(db_path: str | os.PathLike, job: str) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the whole run; ArchiveBusy if another run holds it."""
    lock_path = f"{db_path}.lock"
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise StorageError(f"{db_path}: cannot create {lock_path}: {exc.strerror}: check that the folder exists "
                           "and is writable") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ArchiveBusy(f"{db_path} is being written by {holder}; wait for that run to finish "
                              f"(or remove {lock_path} if no crawl or import is running)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({job})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
