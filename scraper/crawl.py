"""The crawl: from start URLs to stored articles and WARC files, politely, resumably, incrementally.

One URL at a time: take the next due URL from the frontier, ask robots.txt, wait the delay, fetch, write every
hop to the WARC, then in one database transaction record the captures, store what the page gave (links or an
article) and mark the URL done. A kill at any moment loses at most the fetch in flight.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta, timezone

from . import frontier
from .crawl_config import DEFAULT_START, REFUSAL_LIMIT, CrawlOptions, CrawlStats, SiteRefusing  # noqa: F401 (re-exported)
from .discover import ARTICLE_URL, find_links
from .errors import NotAnArticle
from .fetch import Exchange, FetchError, FetchResult, OutOfScope, fetch, make_session
from .netguard import resolves_private
from .parse import parse_article
from .polite import Robots, Scope, Throttle, fetch_robots, is_refusal, retry_after_seconds
from .runlock import CrawlLocked, crawl_lock  # noqa: F401 - part of this module's interface
from .urls import canonicalize_url
from .warc import Capture, WarcArchive, WarcWriteError, recover_open_files


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

    def __init__(self, options: CrawlOptions, db, store, progress: Callable[[str], None] | None = None):
        self.options = options
        self.db = db
        self.store = store  # pipelines' storage functions (see pipelines.crawl_store)
        self.progress = progress or (lambda message: None)
        self.stats = CrawlStats()
        self.scopes = start_scopes([canonicalize_url(u) for u in options.start_urls])
        # A private or loopback address is fetched only from a start host that is one (a local mirror); the
        # others must stay on public addresses whatever their DNS says later (netguard).
        private = [s.netloc.rsplit(":", 1)[0] for s in self.scopes.values() if resolves_private(_host(s.netloc))]
        self.session = make_session(options.policy, options.user_agent, allow_private=tuple(private))
        self.robots: dict[str, Robots] = {}
        self.throttles: dict[str, Throttle] = {}
        self.refusals = 0
        self.postponed: set[str] = set()
        self.archive = WarcArchive(options.warc_directory, {
            "http-header-user-agent": options.user_agent,
            "robots": "obey",
            "description": "chaozhou-archive crawl of " + ", ".join(options.start_urls),
        })

    # -- the run -------------------------------------------------------------------------------------------
    def run(self) -> CrawlStats:
        self.run_id = self.store.start_run(self.db, "crawl", self.options.start_urls)
        try:
            self.seed()
            while (item := frontier.next_due(self.db)) is not None:
                if self.options.max_articles is not None and self.stats.articles >= self.options.max_articles:
                    self.stats.stopped = "max-articles"
                    break
                self.visit(item)
                if self.refusals >= REFUSAL_LIMIT:
                    self.stats.stopped = "refusing"
                    break
            # URLs that failed in this run and wait for a later try count as failed for this run's exit code.
            self.stats.failed += sum(1 for url in self.postponed if frontier.state_of(self.db, url) == "pending")
            if self.options.drift_check:
                self.check_health()
        except BaseException:
            # A full disk, a read-only database, Ctrl-C: the article in flight was rolled back; record the run
            # as aborted if the database still can, and let the first error be the one reported.
            self.stats.stopped = self.stats.stopped or "aborted"
            with suppress(Exception):
                self.archive.close()
            with suppress(Exception):
                self.store.finish_run(self.db, self.run_id, self.stats)
            raise
        self.archive.close()
        self.store.finish_run(self.db, self.run_id, self.stats)
        return self.stats

    def check_health(self) -> None:
        from pipelines.health import check_run, health_lines, record_health

        report = check_run(self.db, self.run_id)
        record_health(self.db, self.run_id, report)
        self.stats.health = health_lines(report)
        self.stats.drift = any(col.drifts for col in report)

    def seed(self) -> None:
        with self.db.atomic():
            for url in self.options.start_urls:
                url = canonicalize_url(url)
                kind = "article" if ARTICLE_URL.search(url.split("?")[0]) else "listing"
                frontier.queue_again(self.db, url, kind, self.run_id)
            since = (datetime.now(timezone.utc) - timedelta(days=self.options.recheck_days)).date().isoformat()
            for (url,) in self.db.execute(
                    "select f.url from frontier f join articles a on a.url = f.url "
                    "where f.state = 'done' and a.published_at >= ?", [since]).fetchall():
                if any(scope.allows(url) for scope in self.scopes.values()):
                    frontier.queue_again(self.db, url, "article", self.run_id, conditional=True)

    def scope_for(self, url: str) -> Scope | None:
        return next((s for s in self.scopes.values() if s.allows(url)), None)

    # -- one URL -------------------------------------------------------------------------------------------
    def visit(self, item: frontier.Item) -> None:
        scope = self.scope_for(item.url)
        if scope is None:
            with self.db.atomic():
                frontier.mark(self.db, item.url, "out-of-scope", "outside the crawl's host and path")
            return
        robots = self.robots_for(scope)
        if not robots.allows(item.url, self.options.user_agent):
            if robots.state == "unavailable":
                # Nothing on this host may be asked for until robots.txt answers: stop (exit 3) and leave the URL
                # as it is, so that an outage of robots.txt never uses up the pages' retries.
                self.refusals = REFUSAL_LIMIT
                return
            with self.db.atomic():
                frontier.mark(self.db, item.url, "robots", "disallowed by robots.txt")
                self.stats.robots_skipped += 1
            return
        self.throttle_for(scope, robots).wait()
        headers = {}
        if item.conditional and item.etag:
            headers["If-None-Match"] = item.etag
        if item.conditional and item.last_modified:
            headers["If-Modified-Since"] = item.last_modified
        self.progress(f"{item.kind} {item.url}")
        # Every redirect hop must be in scope and allowed by robots.txt, not only the URL first asked for.
        def allowed(url: str) -> bool:
            return scope.allows(url) and robots.allows(url, self.options.user_agent)

        try:
            result = fetch(self.session, item.url, allowed, self.options.policy, headers)
        except OutOfScope as exc:
            self.keep(exc.hops)
            disallowed = scope.allows(exc.url) and not robots.allows(exc.url, self.options.user_agent)
            with self.db.atomic():
                if disallowed:
                    frontier.mark(self.db, item.url, "robots", f"redirected to {exc.url}, disallowed by robots.txt")
                    self.stats.robots_skipped += 1
                else:
                    frontier.mark(self.db, item.url, "out-of-scope", exc.reason)
            return
        except FetchError as exc:
            self.stats.requests += max(1, len(exc.hops))
            self.keep(exc.hops)
            with self.db.atomic():
                if self.postpone(item.url, exc.reason, item.attempts) == "failed":
                    self.stats.failed += 1
            return
        self.stats.requests += len(result.hops)
        self.stats.retried += result.retries
        if item.kind == "listing":
            self.handle_listing(item, result)
        else:
            self.handle_article(item, result)

    def keep(self, hops: list[Exchange], last_revisit: Capture | None = None) -> list[Capture]:
        """Write every hop to the WARC (the final one as a revisit when its payload is unchanged)."""
        captures = []
        for i, hop in enumerate(hops):
            revisit = last_revisit if i == len(hops) - 1 else None
            captures.append(self.archive.write_exchange(hop, revisit_of=revisit))
        return captures

    def handle_listing(self, item: frontier.Item, result: FetchResult) -> None:
        final = result.final
        captures = self.keep(result.hops)
        if final.status != 200 or not final.is_html:
            self.after_bad_status(item, result, captures)
            return
        scope = self.scope_for(item.url)
        try:
            listing = find_links(final.decoded_body(self.options.policy.max_bytes), final.url,
                                 final.content_type, scope.allows)
        except FetchError as exc:  # a body past the cap, or not what its Content-Encoding says
            self.after_bad_status(item, result, captures, exc.reason)
            return
        if not (listing.articles or listing.listings) and is_refusal(final):
            self.after_bad_status(item, result, captures, "block page served instead of the listing")
            return
        with self.db.atomic():
            self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            new = 0
            for url, title in listing.articles:
                state = frontier.known_before(self.db, url, self.run_id)
                if state is None:  # unknown, or first seen earlier in this run (on the home page, say)
                    frontier.add(self.db, url, "article", item.url, title, self.run_id)
                    new += 1
                elif state in ("gone", "not-article", "failed"):
                    # Still listed, so perhaps back (a 404 during maintenance, an error page while the CMS
                    # was publishing): asked for again, once a run, while the site lists it.
                    frontier.queue_once(self.db, url, "article", self.run_id, found_on=item.url)
            # Other listings' first pages (the columns, from the home page) are looked at once every run.
            for url in listing.listings:
                frontier.queue_once(self.db, url, "listing", self.run_id, found_on=item.url)
            # Listings run newest first: walk on while every link on this page was new. A page never seen
            # before (a first crawl, or one resumed after a kill) is always walked past.
            first_visit = item.state_before != "done"
            all_new = bool(listing.articles) and new == len(listing.articles)
            if listing.next_pages and (first_visit or all_new):
                frontier.queue_once(self.db, listing.next_pages[0], "listing", self.run_id, found_on=item.url)
            frontier.mark(self.db, item.url, "done", etag=final.header("ETag"),
                          last_modified=final.header("Last-Modified"))
        self.note_success(scope)
        self.stats.listing_pages += 1

    def handle_article(self, item: frontier.Item, result: FetchResult) -> None:
        final = result.final
        last = self.store.last_capture(self.db, item.url)
        unchanged_payload = (final.status == 200 and last is not None
                             and last.payload_digest == _digest(final.body))
        captures = self.keep(result.hops, last_revisit=last if unchanged_payload or final.status == 304 else None)
        if final.status == 304 or unchanged_payload:
            with self.db.atomic():
                self.store.record_captures(self.db, captures, final.content_type, self.run_id)
                self.store.touch_article(self.db, item.url)
                frontier.mark(self.db, item.url, "done")
            self.stats.unchanged += 1
            self.note_success(self.scope_for(item.url))
            return
        if final.status != 200 or not final.is_html:
            self.after_bad_status(item, result, captures)
            return
        try:
            article = parse_article(final.decoded_body(self.options.policy.max_bytes), final.url,
                                    final.content_type)
        except NotAnArticle as exc:
            if is_refusal(final):
                self.after_bad_status(item, result, captures, "block page served instead of the article")
                return
            with self.db.atomic():
                self.store.record_captures(self.db, captures, final.content_type, self.run_id)
                frontier.mark(self.db, item.url, "not-article", exc.reason)
            self.stats.not_article += 1
            return
        except FetchError as exc:  # a body past the cap, or not what its Content-Encoding says
            self.after_bad_status(item, result, captures, exc.reason)
            return
        if sum(map(len, article.paragraphs)) < 300 and is_refusal(final):
            # A captcha page (a heading and a sentence) reads like a short article: a refusal, never stored.
            self.after_bad_status(item, result, captures, "block page served instead of the article")
            return
        article.url = canonicalize_url(item.url)
        with self.db.atomic():
            ids = self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            outcome = self.store.store_article(self.db, article, capture_id=ids[-1], run_id=self.run_id)
            frontier.mark(self.db, item.url, "done", etag=final.header("ETag"),
                          last_modified=final.header("Last-Modified"))
        setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
        self.note_success(self.scope_for(item.url))

    def after_bad_status(self, item: frontier.Item, result: FetchResult, captures: list[Capture],
                         problem: str | None = None) -> None:
        """Record the captures and what the response means: gone, not an article, or a failure to retry later
        (a refusal among them: counted, and the throttle slows down)."""
        final = result.final
        with self.db.atomic():
            self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            if problem:
                if problem.startswith("block page"):
                    self.note_refusal(self.scope_for(item.url), final)
                if self.postpone(item.url, problem, item.attempts) == "failed":
                    self.stats.failed += 1
            elif final.status in (404, 410):
                frontier.mark(self.db, item.url, "gone", f"HTTP {final.status}")
                self.store.mark_gone(self.db, item.url, final.status)
            elif final.status == 200:
                frontier.mark(self.db, item.url, "not-article", f"not HTML ({final.content_type or 'no type'})")
                self.stats.not_article += 1
            else:
                if is_refusal(final):
                    self.note_refusal(self.scope_for(item.url), final)
                if self.postpone(item.url, f"HTTP {final.status}", item.attempts) == "failed":
                    self.stats.failed += 1

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

    def postpone(self, url: str, error: str, attempts: int, base_seconds: float = 60.0) -> str:
        state = frontier.postpone(self.db, url, error, attempts, base_seconds)
        if state == "pending":
            self.postponed.add(url)
        return state

    # -- politeness ----------------------------------------------------------------------------------------
    def robots_for(self, scope: Scope) -> Robots:
        robots = self.robots.get(scope.netloc)
        if robots is None or (robots.state == "unavailable" and time.monotonic() >= robots.retry_after):
            result, robots = fetch_robots(self.session, scope, self.options.policy)
            self.stats.requests += len(result.hops) if result else 1
            if result and result.hops:
                captures = self.keep(result.hops)
                with self.db.atomic():
                    self.store.record_captures(self.db, captures, result.final.content_type, self.run_id)
            self.robots[scope.netloc] = robots
        return robots

    def throttle_for(self, scope: Scope, robots: Robots) -> Throttle:
        throttle = self.throttles.get(scope.netloc)
        if throttle is None:
            floor = robots.crawl_delay(self.options.user_agent) or 0.0
            throttle = self.throttles[scope.netloc] = Throttle(self.options.delay, floor,
                                                               backoff_start=self.options.backoff_start)
        return throttle


def _host(netloc: str) -> str | None:
    from urllib.parse import urlsplit

    return urlsplit(f"//{netloc}").hostname


def _digest(body: bytes) -> str:
    from .warc import payload_digest

    return payload_digest(body)


def run_crawl(options: CrawlOptions, progress: Callable[[str], None] | None = None) -> CrawlStats:
    """Run one crawl under the database lock, after recovering WARC files a killed run left open."""
    from pipelines import crawl_store
    from pipelines.errors import StorageError
    from pipelines.schema import open_archive, storage_error

    with crawl_lock(options.db_path):
        recover_open_files(options.warc_directory) if options.warc_directory.exists() else None
        db = open_archive(options.db_path)
        try:
            return Crawl(options, db, crawl_store, progress).run()
        except sqlite3.Error as exc:  # mid-run: a full disk, the database made read-only
            raise storage_error(exc, options.db_path) from exc
        except WarcWriteError as exc:
            raise StorageError(str(exc)) from exc
        finally:
            with suppress(sqlite3.Error):
                db.close()
