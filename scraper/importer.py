"""`scraper import`: WARC, ARC and WACZ files and saved pages into the archive, through the path the crawl takes.

Each record is read by ``scraper.ingest.read_response`` and stored by ``pipelines.run.Run.record``, exactly as a
crawl stores what it fetches: importing a crawl's own WARC files stores the same articles and no listing page.
A revisit record says a page was byte-identical to an earlier capture: the article it gave is seen again. What a
file is comes from its first bytes (``pipelines.filekind``), never its name; one the import cannot read is named
(a CDX index, a WARC gzipped whole, …) and counts as failed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from pipelines.errors import WarcDamaged
from pipelines.filekind import FileKind, file_kind, refusal, wacz_warcs
from pipelines.item import Capture, Kind, Outcome
from pipelines.run import Job, Run, RunResult, open_run
from pipelines.times import utc_text
from pipelines.warc import MAX_BODY_BYTES, Exchange, Record, payload_digest, read_warc, warc_directory

from . import PARSER_VERSION, __version__
from .ingest import PERMANENT, read_response
from .multipage import PageSource, file_pages, stored_pages
from .rules import SiteRules
from .sites import identity_url
from .urls import absolute_url

# Where saved pages keep their address: Chrome/IE "saved from url=(0064)…", SingleFile, canonical and og:url.
_SAVED_URL = (
    re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I),
    re.compile(rb"Page saved with SingleFile\s+url:\s*(\S+)", re.I),
    re.compile(rb"<link[^>]+rel=[\"']?canonical[\"']?[^>]+href=[\"']?([^\"'\s>]+)", re.I),
    re.compile(rb"<link[^>]+href=[\"']?([^\"'\s>]+)[\"']?[^>]+rel=[\"']?canonical", re.I),
    re.compile(rb"<meta[^>]+property=[\"']?og:url[\"']?[^>]+content=[\"']?([^\"'\s>]+)", re.I),
)


def import_files(db_path: str, paths: Iterable[str], url: str | None = None, *, drift_check: bool = True,
                 progress: Callable[[int], None] | None = None, init: bool = False,
                 rules: SiteRules | None = None) -> RunResult:
    """Import WARC files and saved HTML pages (``url`` is the address of the HTML ones) under the archive's lock.

    Raises ``StorageError`` if the database cannot be written: the response being stored is rolled back, the
    ones before it stay. ``NotAnArchive`` for another application's database, unless ``init``.
    """
    paths = list(paths)
    inputs = [os.path.abspath(p) for p in paths]  # as their captures name them
    with open_run(db_path, Job.IMPORT, inputs, software=__version__, parser_version=PARSER_VERSION,
                  init=init) as run:
        # A long article's later pages: from the archive's captures, else from any file of this import.
        pages = stored_pages(run.db, warc_directory(db_path), also=file_pages(lambda: every_record(paths)))
        redirects: dict[str, set[str]] = {}  # a redirect's target -> the URLs that led there, as the crawl had them
        for path in paths:
            import_file(run, path, url, progress, pages, redirects, rules)
        if drift_check:
            run.check_health()
        return run.finish()


def import_file(run: Run, path: str, url: str | None, progress: Callable[[int], None] | None = None,
                pages: PageSource | None = None, redirects: dict[str, set[str]] | None = None,
                rules: SiteRules | None = None) -> None:
    """Every page record of one file; a damaged WARC keeps its good records and is reported, a file that holds
    none is named."""
    kind = file_kind(path)

    def problem(message: str) -> None:
        run.counts.failed += 1
        run.note_error(message)

    if not kind.readable:
        problem(refusal(path, kind))
    done = 0
    for records in record_sources(path, kind, url, problem):
        try:
            for record in records:
                import_record(run, record, pages, redirects, rules)
                if progress:
                    progress(max(record.end_offset - done, 0))
                done = max(done, record.end_offset)
        except WarcDamaged as exc:
            run.note_error(str(exc))
    if progress:
        progress(max(os.path.getsize(path) - done, 0))


def record_sources(path: str, kind: FileKind, url: str | None,
                   problem: Callable[[str], None] = lambda message: None) -> list[Iterable[Record]]:
    """The records of a file, by its kind: one run of them, or one per WARC inside a WACZ (so that a damaged one
    costs only its own records); ``problem`` hears of a WARC in a WACZ that cannot be read."""
    if kind is FileKind.HTML:
        return [[read_saved_page(path, url)]]
    if kind is FileKind.ARC:
        return [arc_records(path)]
    if kind is not FileKind.WACZ:
        return [read_warc(path)] if kind is FileKind.WARC else []
    sources = []
    for warc in wacz_warcs(path):
        if warc.stored:
            sources.append(read_warc(path, warc.start, warc.size))
        else:  # its records would have no place in the .wacz to be read back from
            problem(f"{path}: {warc.name} is compressed inside the zip, which the WACZ specification does "
                           f"not allow; unzip it and import {warc.name}")
    return sources


def every_record(paths: list[str]) -> Iterator[Record]:
    """The records of every WARC, ARC and WACZ among ``paths`` (saved pages hold no later pages of an article)."""
    for path in paths:
        kind = file_kind(path)
        if kind.readable and kind is not FileKind.HTML:
            for records in record_sources(path, kind, None):
                yield from records


def arc_records(path: str) -> Iterator[Record]:
    """An ARC's records, which name no record id (warcio makes up a new one at each reading): each gets one from
    what it holds, so that importing the file again changes nothing, as for a WARC."""
    for record in read_warc(path):
        capture = record.capture
        capture.record_id = f"arc:{capture.payload_digest}:{capture.fetched_at}:{capture.url}"
        yield record


def import_record(run: Run, record: Record, pages: PageSource | None = None,
                  redirects: dict[str, set[str]] | None = None, rules: SiteRules | None = None) -> None:
    """One record through the crawl's path. ``redirects`` gathers the redirects read so far, so that an article
    reached through one (its record follows the redirect's in a crawl's WARC) has the same aliases as in the crawl."""
    capture = record.capture
    if record.is_revisit:
        run.record_revisit(capture)
        return
    if not capture.url:
        run.counts.failed += 1
        run.note_error(f"{capture.saved_file}: the page does not say its URL; give it with --url")
        return
    if record.unread:
        run.record(Outcome(Kind.NOT_HTML, record.unread, url=capture.url), [capture])
        return
    redirects = {} if redirects is None else redirects
    here = identity_url(capture.url)
    reading = read_response(record.exchange, via=moved_to(here, redirects), pages=pages, rules=rules)
    location = record.exchange.header("Location")
    if record.exchange.status in PERMANENT and location:
        target = identity_url(absolute_url(capture.url, location) or capture.url)
        if target != here:
            redirects.setdefault(target, set()).add(here)
    run.record(reading.outcome, [capture])
    if reading.kind is Kind.FAILED:
        run.note_error(f"{capture.url}: {reading.outcome.reason}")


def moved_to(url: str, redirects: dict[str, set[str]], hops: int = 5) -> list[str]:
    """The URLs that permanently redirect to ``url``, directly or through at most ``hops`` redirects (a loop of
    redirects, which a crawl's WARC keeps, is walked once)."""
    found: list[str] = []
    seen, frontier = {url}, [url]
    for _ in range(hops):
        frontier = [s for target in frontier for s in sorted(redirects.get(target, ())) if s not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


def read_saved_page(path: str, url: str | None) -> Record:
    """A saved page as a Record; its URL is ``url``, else the one the saving browser wrote into the page."""
    with open(path, "rb") as f:
        body = f.read(MAX_BODY_BYTES + 1)  # no further: a page is never this large
    unread = f"a saved file over the {MAX_BODY_BYTES:,}-byte cap, not read" if len(body) > MAX_BODY_BYTES else None
    url = url or url_from_saved_page(body) or ""
    digest = payload_digest(body)
    mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    capture = Capture(
        # Same bytes at the same URL is the same capture, wherever the file lies: re-importing changes nothing.
        record_id=f"file:{digest}:{url}", url=url, fetched_at=utc_text(mtime), status=None,
        content_type="text/html", payload_digest=None if unread else digest, saved_file=os.path.abspath(path),
    )
    exchange = Exchange(url=url, request_headers=[], status=None, reason="",
                        response_headers=[("Content-Type", "text/html")], body=b"" if unread else body,
                        fetched_at=mtime)
    return Record(capture=capture, exchange=exchange, record_type="file", end_offset=len(body), unread=unread)


def url_from_saved_page(body: bytes) -> str | None:
    head = body[:65536]
    for pattern in _SAVED_URL:
        match = pattern.search(head)
        if match and match.group(1).lower().startswith((b"http://", b"https://")):
            return match.group(1).decode("utf-8", "replace")
    return None

