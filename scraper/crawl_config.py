"""What a crawl is told (CrawlOptions) and what it tells back (CrawlStats), apart from the crawl itself.

``scraper.crawl`` re-exports all of it; the CLI, tests and benchmarks build options and read stats from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import USER_AGENT
from .errors import ScraperError
from .fetch import FetchPolicy
from .warc import warc_directory

DEFAULT_START = "https://gdxk.southcn.com/cz/"
REFUSAL_LIMIT = 3  # consecutive refusals (429/403/block pages) before the run stops with exit code 3


class SiteRefusing(ScraperError):
    """The site keeps answering with rate limits or block pages: stop, and try another day."""


@dataclass
class CrawlOptions:
    start_urls: list[str]
    db_path: str = "archive.db"
    warc_dir: str | None = None  # default: archive/ beside the database
    delay: float = 1.0
    backoff_start: float = 5.0  # the pause after a refusal, doubling with each further one (polite.Throttle)
    max_articles: int | None = None
    recheck_days: float = 3.0
    drift_check: bool = True
    user_agent: str = USER_AGENT
    policy: FetchPolicy = field(default_factory=FetchPolicy)

    @property
    def warc_directory(self) -> Path:
        return warc_directory(self.db_path, self.warc_dir)


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
