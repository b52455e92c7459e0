"""What a crawl is told: CrawlOptions. (What it tells back is a ``pipelines.run.RunResult``.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.warc import warc_directory

from . import MAX_LISTING_PAGES, MAX_PAGES_PER_LISTING, USER_AGENT
from .fetch import FetchPolicy
from .polite import MAX_CRAWL_DELAY
from .rules import SiteRules

DEFAULT_START = "https://gdxk.southcn.com/cz/"
REFUSAL_LIMIT = 3  # consecutive refusals (429/403/block pages) before the run stops with exit code 3
NO_ANSWER_LIMIT = 3  # consecutive requests with no response at all before the run stops with exit code 5


@dataclass
class CrawlOptions:
    start_urls: list[str]
    db_path: str = "archive.db"
    warc_dir: str | None = None  # default: archive/ beside the database
    delay: float = 1.0
    backoff_start: float = 5.0  # the pause after a refusal, doubling with each further one (polite.Throttle)
    max_articles: int | None = None
    max_crawl_delay: float = MAX_CRAWL_DELAY  # a longer robots.txt Crawl-delay is cut to this
    max_requests: int | None = None  # every request: robots.txt, listings, articles, redirect hops, retries
    max_pages_per_listing: int = MAX_PAGES_PER_LISTING
    max_listing_pages: int = MAX_LISTING_PAGES
    recheck_days: float = 3.0
    drift_check: bool = True
    init: bool = False  # make an archive of another application's database (--init)
    user_agent: str = USER_AGENT
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    rules: SiteRules | None = None  # the user's site rules (scraper.rules), tried before the built-in ones
    proxy: str | None = None  # --proxy: every request goes through it (the environment's settings never do)

    @property
    def proxy_shown(self) -> str | None:
        """The proxy as the WARC records it: without the user name and password a proxy URL may carry."""
        if not self.proxy:
            return None
        parts = urlsplit(self.proxy)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()

    @property
    def warc_directory(self) -> Path:
        return warc_directory(self.db_path, self.warc_dir)
