"""Who may write an archive at once: locks beside the database, held by a crawl, an import or a reparse for the
whole run (``flock``: a lock goes with its process, so a killed run leaves none behind).

- ``archive.db.lock``: crawls and imports hold it shared, so a crawl and any number of imports write one archive
  at once; SQLite orders their transactions, each of which takes the write lock at its start and waits for it
  (``pipelines.store.write_transaction``). A reparse holds it alone: it rebuilds every article from what is
  stored, which must stand still meanwhile.
- ``archive.db.crawl.lock``: one crawl at a time. Two would walk one frontier and ask the site twice as often,
  and each would take the other's open WARC file for one a killed run left (``pipelines.warc.recover_open_files``).

A run that finds no other run holding the archive knows that every ``runs`` row still ``running`` was left by a
killed process, and closes it (``pipelines.run.Run.start``). That holds because runs start one at a time: the
lock is taken inside the write transaction that records the run, so no other run can start between the look and
the row.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

from .errors import ArchiveBusy, StorageError


@contextmanager
def archive_lock(db_path: str | os.PathLike, job: str, *, alone: bool = False,
                 one_at_a_time: bool = False) -> Iterator[bool]:
    """Hold the archive for a run of ``job``: shared with other crawls and imports, or with nothing (``alone``);
    ``one_at_a_time``: never beside another run of the same job. Yields whether no other run held the archive.

    Raises ArchiveBusy when a run it may not share the archive with holds it. Take it inside the write transaction
    that records the run (see above).
    """
    # Beside the file itself: the same archive reached through a symbolic link (/srv/current/archive.db) is
    # locked by the same lock files.
    real = os.path.realpath(db_path)
    with ExitStack() as stack:
        if one_at_a_time:
            jobs = stack.enter_context(_open(db_path, f"{real}.{job}.lock"))
            if not _try(jobs, fcntl.LOCK_EX):
                holder = _holder(jobs, f"another {job}")
                raise ArchiveBusy(f"{db_path} is being written by {holder}; wait for that {job} to finish (two "
                                  "would fetch the same pages)")
            stack.callback(_forget, jobs)
            _claim(jobs, job)
        handle = stack.enter_context(_open(db_path, f"{real}.lock"))
        first = _try(handle, fcntl.LOCK_EX)
        if not first and alone:
            raise ArchiveBusy(f"{db_path} is being written by {_holder(handle, 'a crawl or an import')}; wait "
                              f"for it to finish: a {job} needs the archive to itself")
        if alone:
            stack.callback(_forget, handle)
            _claim(handle, job)
        elif not _try(handle, fcntl.LOCK_SH):  # after LOCK_EX: lets other crawls and imports in
            raise ArchiveBusy(f"{db_path} is being written by {_holder(handle, 'a reparse')}; wait for it to "
                              "finish")
        yield first


@contextmanager
def _open(db_path: str | os.PathLike, lock_path: str) -> Iterator[IO[str]]:
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise StorageError(f"{db_path}: cannot create {lock_path}: {exc.strerror}: check that the folder exists "
                           "and is writable") from None
    with handle:
        yield handle


def _try(handle: IO[str], kind: int) -> bool:
    try:
        fcntl.flock(handle, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(handle: IO[str], otherwise: str) -> str:
    """Who holds the lock, as the holder wrote it; ``otherwise`` when nobody wrote, or the writer is gone (a killed
    run's name stays in the file, and the lock is now another's)."""
    handle.seek(0)
    named = handle.read().strip()
    pid = named.split()[1] if named.startswith("pid ") and len(named.split()) > 1 else ""
    return named if pid.isdigit() and _alive(int(pid)) else otherwise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: it exists
        return True
    return True


def _claim(handle: IO[str], job: str) -> None:
    """Name the holder in the file, for the message another run gets (only a lock held alone has one holder)."""
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} ({job})")
    handle.flush()


def _forget(handle: IO[str]) -> None:
    handle.seek(0)
    handle.truncate()
