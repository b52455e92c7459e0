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
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pipelines.item import Capture, Kind
from pipelines.run import Job, Run, RunResult, Status, open_run
from pipelines.store import current_capture, write_transaction
from pipelines.times import CHINA
from pipelines.warc import Exchange, WarcArchive, payload_digest, recover_open_files

from . import PARSER_VERSION, __version__, frontier
from .bounds import bound_notes, bound_reached
from .crawl_config import DEFAULT_START, NO_ANSWER_LIMIT, REFUSAL_LIMIT, CrawlOptions  # noqa: F401 (DEFAULT_START: the CLI's)
from .discover import MAX_LINKS, Listing, links_of
from .fetch import FetchError, FetchResult, NoAnswer, OutOfScope, fetch, make_session, reporting_retries
from .frontier import State
from .ingest import Reading, moved_from, read_response
from .multipage import PageSource, continues
from .netguard import resolves_private
from .polite import Robots, RobotsState, Scope, Throttle, fetch_robots, retry_after_seconds, start_scopes
from .sites import article_page, identity_url, page_kind
from .urls import canonicalize_url

# Kinds of response that mean "try this URL again later" (and, for a refusal, slow down).
_RETRY = (Kind.BLOCK_PAGE, Kind.FAILED, Kind.HTTP_ERROR, Kind.REDIRECT)
# What a page the crawl took for a listing may turn out to be and still be walked: a listing, or a page of links
# with no article on it (a home page whose URL no template declares).
_WALKED = (Kind.LISTING, Kind.NO_ARTICLE)


def unreachable(url: str, why: NoAnswer) -> str:
    """The line that says the site could not be reached, and why (stored in the run's row, shown once)."""
    return f"could not reach {urlsplit(url).hostname}: {why} (asking for {url})"


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
        self.session = make_session(options.policy, options.user_agent, allow_private=tuple(private),
                                    proxy=options.proxy)
        self.robots: dict[str, Robots] = {}
        self.throttles: dict[str, Throttle] = {}
        self.refusals = 0
        self.unanswered = 0  # requests in a row that got no response at all
        self.halt: tuple[Status, str] | None = None  # why the run must stop now, and that in words
        self.postponed: set[str] = set()
        self.listings_fetched = 0  # listing pages asked for in this run (--max-listing-pages)
        self.pager_depth: dict[str, int] = {}  # a listing page's place in the pager chain walked in this run
        self.deferred: set[str] = set()  # listing pages past --max-pages-per-listing: left for the next run
        self.archive = WarcArchive(options.warc_directory, {
            "software": f"chaozhou-archive/{__version__}",
            "http-header-user-agent": options.user_agent,
            "robots": "obey",
            "description": "chaozhou-archive crawl of " + ", ".join(options.start_urls),
            **({"proxy": options.proxy_shown} if options.proxy else {}),
        })

    # -- the run -------------------------------------------------------------------------------------------
    def walk(self) -> Status | None:
        """Visit due URLs until none is left or a bound is reached; returns why the walk stopped early (None: it
        did not). Articles go before listings (frontier.next_due), and listings are walked only so far in one run
        (--max-pages-per-listing, --max-listing-pages): what lies beyond waits in the frontier for the next run."""
        self.seed()
        stopped = None
        while (stopped := self.bound_reached()) is None:
            kinds = frontier.KINDS if self.listings_fetched < self.options.max_listing_pages else (Kind.ARTICLE,)
            item = frontier.next_due(self.db, kinds, skip=self.deferred)
            if item is None:
                break
            if item.kind is Kind.LISTING and self.pager_depth.get(item.url, 1) > self.options.max_pages_per_listing:
                self.deferred.add(item.url)  # left pending: the next run walks on from this page
                continue
            self.visit(item)
            if self.refusals >= REFUSAL_LIMIT and self.halt is None:
                self.halt = (Status.REFUSING, f"the site refused {REFUSAL_LIMIT} requests in a row (rate limit or "
                                              "block page)")
            if self.halt is not None:
                stopped = self.halt[0]
                break
        self.report_bounds(stopped)
        states = [frontier.state_of(self.db, url) for url in self.postponed]
        waiting, given_up = states.count(State.PENDING), states.count(State.FAILED)
        if waiting or given_up:
            self.run.note_error(
                f"{waiting + given_up} URL(s) could not be read in this run: {waiting} wait in the frontier for a "
                f"later try, {given_up} were given up after {frontier.MAX_ATTEMPTS} tries (the frontier's "
                "last_error column says why)")
        return stopped

    def bound_reached(self) -> Status | None:
        return bound_reached(self.options, self.counts)

    def report_bounds(self, stopped: Status | None) -> None:
        """One line for each bound the run reached, and the listing pages it left, counted as deferred."""
        for line in bound_notes(self.db, self.options, self.counts, self.deferred, self.listings_fetched, stopped):
            self.run.note(line)

    def seed(self) -> None:
        # A listing page an earlier run's bound left pending starts a walk of its own: found again this run, deep
        # in the chain that led to it, it would be left behind again, run after run.
        for (url,) in self.db.execute("select url from frontier where state = 'pending' and kind = ?",
                                      [Kind.LISTING.value]).fetchall():
            self.pager_depth[url] = 1
        with write_transaction(self.db):
            for url in self.options.start_urls:
                url = identity_url(url)
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
                # Nothing on this host may be asked for until robots.txt answers: stop (exit 3, or 5 when the site
                # gave no answer at all) and leave the URL as it is, so that an outage of robots.txt never uses up
                # the pages' retries.
                self.halt = ((Status.UNREACHABLE, unreachable(scope.robots_url, robots.no_answer))
                             if robots.no_answer else
                             (Status.REFUSING, f"{scope.robots_url} could not be read ({robots.detail}); nothing "
                                               "may be fetched until it can"))
                return
            with write_transaction(self.db):
                frontier.mark(self.db, item.url, State.ROBOTS, "disallowed by robots.txt")
            self.counts.robots += 1
            return
        if self.bound_reached():  # robots.txt used the last request --max-requests allows: the URL waits
            return
        self.throttle_for(scope, robots).wait()
        self.progress(f"{item.kind.value} {item.url}")
        if item.kind is Kind.LISTING:
            self.listings_fetched += 1

        # Every redirect hop must be in scope and allowed by robots.txt, not only the URL first asked for.
        def allowed(url: str) -> bool:
            return scope.allows(url) and robots.allows(url, self.options.user_agent)

        try:
            conditional = self.conditional_headers(item)
            result = fetch(self.session, item.url, allowed, self.options.policy, conditional)
        except OutOfScope as exc:
            self.stopped_by_scope(item, exc, scope, robots)
            return
        except FetchError as exc:
            self.counts.requests += len(exc.hops) + exc.attempts
            captures = self.keep(exc.hops)
            with write_transaction(self.db):
                self.run.record_failure(captures)
                self.postpone(item, exc.reason)
            self.note_no_answer(exc)
            return
        self.unanswered = 0
        self.counts.requests += len(result.hops)
        self.counts.retried += result.retries
        # A URL tried again after a failure is read in full: what is stored of it may be incomplete (a long
        # article whose later page could not be had) even when its first page is the same.
        if (item.kind is Kind.ARTICLE and self.may_revisit(item)
                and self.unchanged(item, result, scope, asked_if_changed=bool(conditional))):
            return
        captures = self.keep(result.hops)
        later: list[Capture] = []  # the later pages of a long article, kept as they are fetched
        reading = read_response(result.final, via=moved_from(result.hops),
                                pages=self.page_source(scope, allowed, later), max_bytes=self.options.policy.max_bytes,
                                rules=self.options.rules)
        with write_transaction(self.db):
            self.run.save_captures(later)
            self.run.record(reading.outcome, captures)
            self.follow(item, reading, result.final, scope)
        if reading.kind.is_refusal:
            self.note_refusal(scope, result.final)
        elif reading.kind not in _RETRY:
            self.note_success(scope)

    def page_source(self, scope: Scope, allowed: Callable[[str], bool], kept: list[Capture]) -> PageSource:
        """Fetches a later page of a long article, politely, as any other request; its hops go to ``kept``. A
        redirect is not followed: it answers for the page (a later page that moved is not the page)."""
        policy = replace(self.options.policy, max_redirects=0)

        def fetch_page(url: str, visit: str | None) -> Exchange | None:
            if not allowed(url) or self.bound_reached() is not None:  # --max-requests holds here too
                return None
            self.throttle_for(scope, self.robots_for(scope)).wait()
            self.progress(f"article page {url}")
            try:
                result = fetch(self.session, url, allowed, policy)
            except FetchError as exc:
                self.counts.requests += len(exc.hops) + exc.attempts
                kept.extend(self.keep(exc.hops))
                return exc.hops[-1] if exc.hops else None  # the redirect itself, when that is what came
            self.counts.requests += len(result.hops)
            kept.extend(self.keep(result.hops))
            return result.final
        return fetch_page

    @staticmethod
    def may_revisit(item: frontier.Item) -> bool:
        """Whether the same bytes (or a 304) may stand for the stored article: not for a URL tried again after a
        failure, or given up on before, since what is stored of it may be incomplete (a long article whose later
        page could not be had) even when its first page is the same."""
        return item.attempts == 0 and item.state_before in (None, State.DONE)

    def conditional_headers(self, item: frontier.Item) -> dict[str, str]:
        if not self.may_revisit(item):
            return {}
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

    def unchanged(self, item: frontier.Item, result: FetchResult, scope: Scope, asked_if_changed: bool) -> bool:
        """A 304, or the very bytes the stored article was read from: kept as a revisit record, nothing parsed.

        A 304 means "unchanged" only as the answer to a conditional request for an article the archive holds;
        any other 304 is read as the redirect-class status it is, and the URL is tried again later.
        """
        final = result.final
        last = current_capture(self.db, identity_url(final.url))
        if last is None:
            return False
        same = final.status == 200 and last.payload_digest == payload_digest(final.body)
        if not (same or (final.status == 304 and asked_if_changed)):
            return False
        if same and continues(final, self.options.policy.max_bytes):
            return False  # the first page of a long article: a later page may have changed, so all are read
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
        if kind is Kind.ARTICLE and reading.pages.retry:
            if self.bound_reached() is None:
                self.postpone(item, reading.outcome.article.warnings[-1])  # what joining the pages stopped at
            # else a bound cut it short: left pending, like every URL a bound leaves, for the next run
        elif kind is Kind.ARTICLE_PART:  # a later page on its own (a start URL): the article is its first page
            frontier.mark(self.db, item.url, State.DONE)
            first = article_page(item.url)
            if first is not None and scope.allows(first.first):
                frontier.queue_once(self.db, first.first, Kind.ARTICLE, self.run.id, found_on=item.url)
        elif kind is Kind.ARTICLE:
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
        if listing.cut:
            self.run.note(f"{item.url} holds more than {MAX_LINKS:,} links; only the first {MAX_LINKS:,} were read")
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
        # Other listings' first pages (the columns, from the home page) are looked at once every run. Each is as
        # deep as the page it was first found on, and one further: a chain of ever-new listings (a calendar, a
        # session id in the path) is a pager by another name, and --max-pages-per-listing bounds it the same way.
        depth = self.pager_depth.get(item.url, 1)
        for url in listing.listings:
            frontier.queue_once(self.db, url, Kind.LISTING, self.run.id, found_on=item.url)
            self.pager_depth.setdefault(url, depth + 1)
        # Listings run newest first: walk on while every link on this page was new. A page never seen before (a
        # first crawl, or one resumed after a kill) is always walked past.
        first_visit = item.state_before != State.DONE
        all_new = bool(listing.articles) and new == len(listing.articles)
        if listing.next_pages and (first_visit or all_new):
            frontier.queue_once(self.db, listing.next_pages[0], Kind.LISTING, self.run.id, found_on=item.url)
            self.pager_depth[listing.next_pages[0]] = depth + 1

    def postpone(self, item: frontier.Item, error: str) -> None:
        """Try the URL again later (or give up on it after frontier.MAX_ATTEMPTS); it counts against this run."""
        frontier.postpone(self.db, item.url, error, item.attempts)
        self.postponed.add(item.url)

    def note_no_answer(self, exc: FetchError) -> None:
        """NO_ANSWER_LIMIT requests in a row with no response at all (no name, no connection, no answer): the site
        is out of reach from here, and the run stops (exit 5) rather than wait on every URL's retries."""
        self.unanswered = self.unanswered + 1 if exc.no_answer else 0
        if self.unanswered >= NO_ANSWER_LIMIT:
            self.halt = (Status.UNREACHABLE, unreachable(exc.url, exc.no_answer)
                         + f", {self.unanswered} requests in a row")

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
            self.progress(f"robots.txt {scope.robots_url}")
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
            cap = self.options.max_crawl_delay
            if floor > cap:
                said = (f"robots.txt of {scope.netloc} asks for a Crawl-delay of {floor:g} s; waiting {cap:g} s "
                        "between requests instead (the longest this crawl waits)")
                self.progress(said)
                self.run.note(said)  # said again at the end, where a status line cannot overwrite it
                floor = cap
            throttle = self.throttles[scope.netloc] = Throttle(self.options.delay, floor,
                                                               backoff_start=self.options.backoff_start)
        return throttle


def run_crawl(options: CrawlOptions, progress: Callable[[str], None] | None = None) -> RunResult:
    """Run one crawl under the archive's lock, after recovering WARC files a killed run left open."""
    with open_run(options.db_path, Job.CRAWL, options.start_urls, software=__version__,
                  parser_version=PARSER_VERSION, init=options.init) as run:
        if options.warc_directory.exists():
            recover_open_files(options.warc_directory)
        crawl = Crawl(options, run.db, run, progress)
        try:
            with reporting_retries(crawl.progress):
                stopped = crawl.walk()
            if options.drift_check:
                run.check_health()
        except BaseException:
            with suppress(Exception):  # after a full disk, closing may fail too: the first error is the one to tell
                crawl.archive.close()
            raise
        crawl.archive.close()
        return run.finish(stopped, crawl.halt[1] if crawl.halt else None)
