"""The crawl: from start URLs to stored articles and WARC files, politely, resumably, incrementally.

One URL at a time: take the next due URL from the frontier, ask robots.txt, wait the delay, fetch, write every
hop to the WARC, read the response (``scraper.ingest``, as import and reparse do), then in one database
transaction store what it gave (``pipelines.run.Run.record``) and update the URL in the frontier. A kill at any
moment loses at most the fetch in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pipelines.item import Capture, Kind
from pipelines.run import Job, Run, RunResult, Status, open_run
from pipelines.store import current_capture, write_transaction
from pipelines.times import CHINA
from pipelines.warc import Exchange, WarcArchive, payload_digest, recover_open_files

from . import PARSER_VERSION, __version__, frontier
from .crawl_config import DEFAULT_START, REFUSAL_LIMIT, CrawlOptions  # noqa: F401 (DEFAULT_START: the CLI's)
from .discover import Listing, links_of
from .fetch import FetchError, FetchResult, OutOfScope, fetch, make_session
from .frontier import State
from .ingest import Reading, read_response
from .netguard import resolves_private
from .polite import Robots, RobotsState, Scope, Throttle, fetch_robots, retry_after_seconds
from .sites import page_kind
from .urls import canonicalize_url

# Kinds of response that mean "try this URL again later" (and, for a refusal, slow down).
_RETRY = (Kind.BLOCK_PAGE, Kind.FAILED, Kind.HTTP_ERROR, Kind.REDIRECT)
# What a page the crawl took for a listing may turn out to be and still be walked: a listing, or a page of links
# with no article on it (a home page whose URL no template declares).
_WALKED = (Kind.LISTING, Kind.NO_ARTICLE)


def start_scopes(urls: list[str]) -> dict[str, Scope]:
    """One scope per host: the collection path of the start URLs on it."""
    scopes: dict[str, Scope] = {}
    for url in urls:
        scope = Scope.around(url)
        key = scope.netloc
        scopes[key] = scopes[key].widened(scope) if key in scopes else scope
    return scopes


class Crawl:
    """The state of one run. Kept small: the work is in the named steps below."""

    def __init__(self, options: CrawlOptions, db, run: Run, progress: Callable[[str], None] | None = None):
        self.options = options
        self.db = db
        self.run = run
        self.counts = run.counts
        self.progress = progress or (lambda message: None)
        self.scopes = start_scopes([canonicalize_url(u) for u in options.start_urls])
        # A private or loopback address is fetched only from a start host that is one (a local mirror); the
        # others must stay on public addresses whatever their DNS says later (netguard).
        private = [s.netloc.rsplit(":", 1)[0] for s in self.scopes.values()
                   if resolves_private(urlsplit(f"//{s.netloc}").hostname)]
        self.session = make_session(options.policy, options.user_agent, allow_private=tuple(private))
        self.robots: dict[str, Robots] = {}
        self.throttles: dict[str, Throttle] = {}
        self.refusals = 0
        self.postponed: set[str] = set()
        self.archive = WarcArchive(options.warc_directory, {
            "software": f"chaozhou-archive/{__version__}",
            "http-header-user-agent": options.user_agent,
            "robots": "obey",
            "description": "chaozhou-archive crawl of " + ", ".join(options.start_urls),
        })

    # -- the run -------------------------------------------------------------------------------------------
    def walk(self) -> Status | None:
        """Visit due URLs until none is left; returns why the walk stopped early (None: it did not)."""
        self.seed()
        stopped = None
        while (item := frontier.next_due(self.db)) is not None:
            if self.options.max_articles is not None and self.counts.articles >= self.options.max_articles:
                stopped = Status.MAX_ARTICLES
                break
            self.visit(item)
            if self.refusals >= REFUSAL_LIMIT:
                stopped = Status.REFUSING
                break
        states = [frontier.state_of(self.db, url) for url in self.postponed]
        waiting, given_up = states.count(State.PENDING), states.count(State.FAILED)
        if waiting or given_up:
            self.run.note_error(
                f"{waiting + given_up} URL(s) could not be read in this run: {waiting} wait in the frontier for a "
                f"later try, {given_up} were given up after {frontier.MAX_ATTEMPTS} tries (the frontier's "
                "last_error column says why)")
        return stopped

    def seed(self) -> None:
        with write_transaction(self.db):
            for url in self.options.start_urls:
                url = canonicalize_url(url)
                kind = Kind.ARTICLE if page_kind(url) is Kind.ARTICLE else Kind.LISTING
                frontier.queue_again(self.db, url, kind, self.run.id)
            # Publication dates are China time: so is the day the recheck window starts. An article is asked for
            # at the URL it is stored under (a redirect's target, which the frontier may never have held).
            since = (datetime.now(CHINA) - timedelta(days=self.options.recheck_days)).date().isoformat()
            for (url,) in self.db.execute(
                    "select a.url from articles a left join frontier f on f.url = a.url "
                    "where a.published_at >= ? and (f.state is null or f.state = 'done')", [since]).fetchall():
                if any(scope.allows(url) for scope in self.scopes.values()):
                    frontier.queue_again(self.db, url, Kind.ARTICLE, self.run.id, conditional=True)

    def scope_for(self, url: str) -> Scope | None:
        return next((s for s in self.scopes.values() if s.allows(url)), None)

    # -- one URL -------------------------------------------------------------------------------------------
    def visit(self, item: frontier.Item) -> None:
        scope = self.scope_for(item.url)
        if scope is None:
            with write_transaction(self.db):
                frontier.mark(self.db, item.url, State.OUT_OF_SCOPE, "outside the crawl's host and path")
            return
        robots = self.robots_for(scope)
        if not robots.allows(item.url, self.options.user_agent):
            if robots.state is RobotsState.UNAVAILABLE:
                # Nothing on this host may be asked for until robots.txt answers: stop (exit 3) and leave the URL
                # as it is, so that an outage of robots.txt never uses up the pages' retries.
                self.refusals = REFUSAL_LIMIT
                return
            with write_transaction(self.db):
                frontier.mark(self.db, item.url, State.ROBOTS, "disallowed by robots.txt")
            self.counts.robots += 1
            return
        self.throttle_for(scope, robots).wait()
        self.progress(f"{item.kind.value} {item.url}")

        # Every redirect hop must be in scope and allowed by robots.txt, not only the URL first asked for.
        def allowed(url: str) -> bool:
            return scope.allows(url) and robots.allows(url, self.options.user_agent)

        try:
            result = fetch(self.session, item.url, allowed, self.options.policy, self.conditional_headers(item))
        except OutOfScope as exc:
            self.stopped_by_scope(item, exc, scope, robots)
            return
        except FetchError as exc:
            self.counts.requests += max(1, len(exc.hops))
            captures = self.keep(exc.hops)
            with write_transaction(self.db):
                self.run.record_failure(captures)
                self.postpone(item, exc.reason)
            return
        self.counts.requests += len(result.hops)
        self.counts.retried += result.retries
        if item.kind is Kind.ARTICLE and self.unchanged(item, result, scope):
            return
        captures = self.keep(result.hops)
        reading = read_response(result.final, max_bytes=self.options.policy.max_bytes)
        with write_transaction(self.db):
            self.run.record(reading.outcome, captures)
            self.follow(item, reading, result.final, scope)
        if reading.kind.is_refusal:
            self.note_refusal(scope, result.final)
        elif reading.kind not in _RETRY:
            self.note_success(scope)

    def conditional_headers(self, item: frontier.Item) -> dict[str, str]:
        headers = {}
        if item.conditional and item.etag:
            headers["If-None-Match"] = item.etag
        if item.conditional and item.last_modified:
            headers["If-Modified-Since"] = item.last_modified
        return headers

    def stopped_by_scope(self, item: frontier.Item, exc: OutOfScope, scope: Scope, robots: Robots) -> None:
        """A redirect (or a private address) the crawl may not follow: the hops so far are kept."""
        captures = self.keep(exc.hops)
        disallowed = scope.allows(exc.url) and not robots.allows(exc.url, self.options.user_agent)
        with write_transaction(self.db):
            self.run.save_captures(captures)
            if disallowed:
                frontier.mark(self.db, item.url, State.ROBOTS, f"redirected to {exc.url}, disallowed by robots.txt")
            else:
                frontier.mark(self.db, item.url, State.OUT_OF_SCOPE, exc.reason)
        if disallowed:
            self.counts.robots += 1

    def unchanged(self, item: frontier.Item, result: FetchResult, scope: Scope) -> bool:
        """A 304, or the very bytes the stored article was read from: kept as a revisit record, nothing parsed."""
        final = result.final
        last = current_capture(self.db, canonicalize_url(final.url))
        same = final.status == 200 and last is not None and last.payload_digest == payload_digest(final.body)
        if not (same or final.status == 304):
            return False
        captures = self.keep(result.hops, revisit_of=last)
        with write_transaction(self.db):
            self.run.save_captures(captures[:-1])
            self.run.record_revisit(captures[-1])
            frontier.mark(self.db, item.url, State.DONE)
        self.note_success(scope)
        return True

    def keep(self, hops: list[Exchange], revisit_of: Capture | None = None) -> list[Capture]:
        """Write every hop to the WARC (the final one as a revisit of ``revisit_of`` when given)."""
        return [self.archive.write_exchange(hop, revisit_of=revisit_of if i == len(hops) - 1 else None)
                for i, hop in enumerate(hops)]

    def follow(self, item: frontier.Item, reading: Reading, final: Exchange, scope: Scope) -> None:
        """The URL's next state in the frontier, and for a listing the links it leads to."""
        kind, reason = reading.kind, reading.outcome.reason
        if kind is Kind.ARTICLE:
            frontier.mark(self.db, item.url, State.DONE, etag=final.header("ETag"),
                          last_modified=final.header("Last-Modified"))
        elif kind in _WALKED and item.kind is Kind.LISTING:
            self.queue_links(item, links_of(reading.page, scope.allows))
            frontier.mark(self.db, item.url, State.DONE, etag=final.header("ETag"),
                          last_modified=final.header("Last-Modified"))
        elif kind is Kind.GONE:
            frontier.mark(self.db, item.url, State.GONE, reason)
        elif kind in _RETRY:
            self.postpone(item, reason)
        else:
            frontier.mark(self.db, item.url, State.NOT_ARTICLE, reason)

    def queue_links(self, item: frontier.Item, listing: Listing) -> None:
        new = 0
        for url, title in listing.articles:
            state = frontier.known_before(self.db, url, self.run.id)
            if state is None:  # unknown, or first seen earlier in this run (on the home page, say)
                frontier.add(self.db, url, Kind.ARTICLE, item.url, title, self.run.id)
                new += 1
            elif state in (State.GONE, State.NOT_ARTICLE, State.FAILED):
                # Still listed, so perhaps back (a 404 during maintenance, an error page while the CMS was
                # publishing): asked for again, once a run, while the site lists it.
                frontier.queue_once(self.db, url, Kind.ARTICLE, self.run.id, found_on=item.url)
        # Other listings' first pages (the columns, from the home page) are looked at once every run.
        for url in listing.listings:
            frontier.queue_once(self.db, url, Kind.LISTING, self.run.id, found_on=item.url)
        # Listings run newest first: walk on while every link on this page was new. A page never seen before (a
        # first crawl, or one resumed after a kill) is always walked past.
        first_visit = item.state_before != State.DONE
        all_new = bool(listing.articles) and new == len(listing.articles)
        if listing.next_pages and (first_visit or all_new):
            frontier.queue_once(self.db, listing.next_pages[0], Kind.LISTING, self.run.id, found_on=item.url)

    def postpone(self, item: frontier.Item, error: str) -> None:
        """Try the URL again later (or give up on it after frontier.MAX_ATTEMPTS); it counts against this run."""
        frontier.postpone(self.db, item.url, error, item.attempts)
        self.postponed.add(item.url)

    # -- politeness ----------------------------------------------------------------------------------------
    def note_refusal(self, scope: Scope | None, exchange: Exchange) -> None:
        """REFUSAL_LIMIT refusals in a row stop the run; each one lengthens the pause (at least Retry-After)."""
        self.refusals += 1
        throttle = self.throttles.get(scope.netloc) if scope else None
        if throttle is not None:
            throttle.refused(retry_after_seconds(exchange.header("Retry-After")))

    def note_success(self, scope: Scope | None) -> None:
        self.refusals = 0
        if scope and scope.netloc in self.throttles:
            self.throttles[scope.netloc].recovered()

    def robots_for(self, scope: Scope) -> Robots:
        robots = self.robots.get(scope.netloc)
        if robots is None or (robots.state is RobotsState.UNAVAILABLE and time.monotonic() >= robots.retry_after):
            result, robots = fetch_robots(self.session, scope, self.options.policy)
            self.counts.requests += len(result.hops) if result else 1
            if result and result.hops:
                captures = self.keep(result.hops)
                with write_transaction(self.db):  # as an import of the WARC reads it: robots.txt is no page
                    self.run.record(read_response(result.final).outcome, captures)
            self.robots[scope.netloc] = robots
        return robots

    def throttle_for(self, scope: Scope, robots: Robots) -> Throttle:
        throttle = self.throttles.get(scope.netloc)
        if throttle is None:
            floor = robots.crawl_delay(self.options.user_agent) or 0.0
            throttle = self.throttles[scope.netloc] = Throttle(self.options.delay, floor,
                                                               backoff_start=self.options.backoff_start)
        return throttle


def run_crawl(options: CrawlOptions, progress: Callable[[str], None] | None = None) -> RunResult:
    """Run one crawl under the archive's lock, after recovering WARC files a killed run left open."""
    with open_run(options.db_path, Job.CRAWL, options.start_urls, software=__version__,
                  parser_version=PARSER_VERSION) as run:
        if options.warc_directory.exists():
            recover_open_files(options.warc_directory)
        crawl = Crawl(options, run.db, run, progress)
        try:
            stopped = crawl.walk()
            if options.drift_check:
                run.check_health()
        except BaseException:
            with suppress(Exception):  # after a full disk, closing may fail too: the first error is the one to tell
                crawl.archive.close()
            raise
        crawl.archive.close()
        return run.finish(stopped)
