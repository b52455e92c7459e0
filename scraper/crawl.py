"""The crawl: from start URLs to stored articles and WARC files, politely, resumably, incrementally.

One URL at a time: take the next due URL from the frontier, ask robots.txt, wait the delay, fetch, write every
hop to the WARC, then in one database transaction record the captures, store what the page gave (links or an
article) and mark the URL done. A kill at any moment loses at most the fetch in flight.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import USER_AGENT, frontier
from .discover import ARTICLE_URL, find_links
from .errors import NotAnArticle, ScraperError
from .fetch import Exchange, FetchError, FetchPolicy, FetchResult, OutOfScope, fetch, make_session
from .parse import parse_article
from .polite import Robots, Scope, Throttle, fetch_robots
from .urls import canonicalize_url
from .warc import Capture, WarcArchive, recover_open_files

DEFAULT_START = "https://gdxk.southcn.com/cz/"
REFUSAL_LIMIT = 3  # consecutive refusals (429/403/block pages) before the run stops with exit code 3
_BLOCK_PAGE = re.compile(
    r"访问过于频繁|请求过于频繁|访问受限|安全验证|人机验证|验证码|captcha|access denied|too many requests", re.I)


class CrawlLocked(ScraperError):
    """Another crawl holds the database: two runs never write one archive at once."""


class SiteRefusing(ScraperError):
    """The site keeps answering with rate limits or block pages: stop, and try another day."""


@dataclass
class CrawlOptions:
    start_urls: list[str]
    db_path: str = "archive.db"
    warc_dir: str | None = None  # default: archive/ beside the database
    delay: float = 1.0
    max_articles: int | None = None
    recheck_days: float = 3.0
    drift_check: bool = True
    user_agent: str = USER_AGENT
    policy: FetchPolicy = field(default_factory=FetchPolicy)

    @property
    def warc_directory(self) -> Path:
        return Path(self.warc_dir) if self.warc_dir else Path(self.db_path).resolve().parent / "archive"


@dataclass
class CrawlStats:
    listing_pages: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    retried: int = 0
    not_article: int = 0
    robots_skipped: int = 0
    requests: int = 0
    stopped: str | None = None  # why the run stopped early: "refusing", "max-articles"
    health: list[str] = field(default_factory=list)  # the health lines (pipelines.health)
    drift: bool = False

    @property
    def articles(self) -> int:
        return self.new + self.updated + self.unchanged

    def summary(self) -> str:
        return (f"listing pages {self.listing_pages}, new {self.new}, updated {self.updated}, "
                f"unchanged {self.unchanged}, failed {self.failed}, retried {self.retried}"
                + (f", not an article {self.not_article}" if self.not_article else "")
                + (f", disallowed by robots.txt {self.robots_skipped}" if self.robots_skipped else ""))

    @property
    def exit_code(self) -> int:
        if self.stopped == "refusing":
            return 3
        if self.drift:
            return 4
        return 1 if self.failed else 0


@contextmanager
def crawl_lock(db_path: str) -> Iterator[None]:
    """Hold an exclusive lock beside the database for the whole run; refuse if another run holds it."""
    lock_path = str(db_path) + ".lock"
    with open(lock_path, "a+") as handle:
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
        self.session = make_session(options.policy, options.user_agent)
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
        finally:
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
            with self.db.atomic():
                if robots.state == "unavailable":
                    self.postpone(item.url, f"robots.txt unavailable ({robots.detail})",
                                      item.attempts, base_seconds=600)
                    self.refusals += 1
                else:
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
        try:
            result = fetch(self.session, item.url, scope.allows, self.options.policy, headers)
        except OutOfScope as exc:
            self.keep(exc.hops)
            with self.db.atomic():
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

    def refused(self, exchange: Exchange) -> bool:
        """A rate limit, a ban, or (called only for pages that held no article) a block or captcha page."""
        if exchange.status in (429, 403, 503):
            return True
        if exchange.status == 200 and len(exchange.body) < 50_000:
            try:
                text = exchange.decoded_body(200_000).decode("utf-8", errors="ignore")
            except FetchError:
                return False
            return bool(_BLOCK_PAGE.search(text))
        return False

    def handle_listing(self, item: frontier.Item, result: FetchResult) -> None:
        final = result.final
        captures = self.keep(result.hops)
        if final.status != 200 or not final.is_html:
            self.after_bad_status(item, result, captures)
            return
        scope = self.scope_for(item.url)
        listing = find_links(final.decoded_body(self.options.policy.max_bytes), final.url,
                             final.content_type, scope.allows)
        with self.db.atomic():
            self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            new = sum(frontier.add(self.db, url, "article", item.url, title) for url, title in listing.articles)
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
        self.refusals = 0
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
            self.refusals = 0
            return
        if final.status != 200 or not final.is_html:
            self.after_bad_status(item, result, captures)
            return
        try:
            article = parse_article(final.decoded_body(self.options.policy.max_bytes), final.url,
                                    final.content_type)
        except NotAnArticle as exc:
            if self.refused(final):
                self.refusals += 1
                with self.db.atomic():
                    self.store.record_captures(self.db, captures, final.content_type, self.run_id)
                    self.postpone(item.url, "block page served instead of the article",
                                      item.attempts)
                return
            with self.db.atomic():
                self.store.record_captures(self.db, captures, final.content_type, self.run_id)
                frontier.mark(self.db, item.url, "not-article", exc.reason)
            self.stats.not_article += 1
            return
        except FetchError as exc:
            with self.db.atomic():
                self.postpone(item.url, exc.reason, item.attempts)
            return
        article.url = canonicalize_url(item.url)
        with self.db.atomic():
            ids = self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            outcome = self.store.store_article(self.db, article, capture_id=ids[-1], run_id=self.run_id)
            frontier.mark(self.db, item.url, "done", etag=final.header("ETag"),
                          last_modified=final.header("Last-Modified"))
        setattr(self.stats, outcome, getattr(self.stats, outcome) + 1)
        self.refusals = 0

    def after_bad_status(self, item: frontier.Item, result: FetchResult, captures: list[Capture]) -> None:
        final = result.final
        with self.db.atomic():
            self.store.record_captures(self.db, captures, final.content_type, self.run_id)
            if final.status in (404, 410):
                frontier.mark(self.db, item.url, "gone", f"HTTP {final.status}")
                self.store.mark_gone(self.db, item.url, final.status)
            elif final.status == 200:
                frontier.mark(self.db, item.url, "not-article", f"not HTML ({final.content_type or 'no type'})")
                self.stats.not_article += 1
            else:
                if self.refused(final):
                    self.refusals += 1
                if self.postpone(item.url, f"HTTP {final.status}", item.attempts) == "failed":
                    self.stats.failed += 1

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
            throttle = self.throttles[scope.netloc] = Throttle(self.options.delay, floor)
        return throttle


def _digest(body: bytes) -> str:
    from .warc import payload_digest

    return payload_digest(body)


def run_crawl(options: CrawlOptions, progress: Callable[[str], None] | None = None) -> CrawlStats:
    """Run one crawl under the database lock, after recovering WARC files a killed run left open."""
    from pipelines import crawl_store
    from pipelines.schema import open_archive

    with crawl_lock(options.db_path):
        recover_open_files(options.warc_directory) if options.warc_directory.exists() else None
        db = open_archive(options.db_path)
        try:
            return Crawl(options, db, crawl_store, progress).run()
        finally:
            db.close()
