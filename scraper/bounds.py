"""A run always ends: the bounds a crawl stops at, and the lines that say what each left for the next run.

--max-articles and --max-requests stop the whole run; --max-pages-per-listing and --max-listing-pages stop the
walk of listings, whose pages wait in the frontier (docs/reliability.md, "A run always ends", says why the
defaults).
"""

from __future__ import annotations

from pipelines.item import Kind
from pipelines.run import Counts, Status

from . import frontier
from .crawl_config import CrawlOptions


def bound_reached(options: CrawlOptions, counts: Counts) -> Status | None:
    """MAX_ARTICLES or MAX_REQUESTS once the run has done what --max-articles or --max-requests allow."""
    # New and updated articles: rechecks that found nothing new must not use up the bound (a cron run would
    # recheck the same recent articles every day and never reach a listing).
    if options.max_articles is not None and counts.new + counts.updated >= options.max_articles:
        return Status.MAX_ARTICLES
    if options.max_requests is not None and counts.requests + counts.retried >= options.max_requests:
        return Status.MAX_REQUESTS
    return None


def bound_notes(db, options: CrawlOptions, counts: Counts, deferred: set[str], listings_fetched: int,
                stopped: Status | None) -> list[str]:
    """One line for each bound the run reached; the listing pages left are counted in ``counts.deferred``."""
    notes = []
    if deferred:
        counts.deferred += len(deferred)
        notes.append(f"{len(deferred)} listing(s) walked no further than --max-pages-per-listing "
                     f"{options.max_pages_per_listing} pages in this run; the next run goes on from {min(deferred)}"
                     + (f" and {len(deferred) - 1} more" if len(deferred) > 1 else ""))
    if listings_fetched >= options.max_listing_pages and stopped is None:
        left = frontier.pending(db, Kind.LISTING) - len(deferred)
        if left:
            counts.deferred += left
            notes.append(f"the run reached --max-listing-pages {options.max_listing_pages}; {left} listing "
                         "page(s) wait in the frontier for the next run")
    if stopped in (Status.MAX_ARTICLES, Status.MAX_REQUESTS):
        option, value = (("--max-articles", options.max_articles) if stopped is Status.MAX_ARTICLES
                         else ("--max-requests", options.max_requests))
        left = frontier.pending(db, Kind.LISTING) + frontier.pending(db, Kind.ARTICLE)
        notes.append(f"stopped at {option} {value}; {left} URL(s) wait in the frontier for the next run")
    return notes
