"""Scrape, parse and archive the 潮州库 (gdxk.southcn.com) and its southcn.com republications."""

__version__ = "0.1.0"

# Bumped whenever a change to parsing can change a stored field, so that `reparse` knows what is stale.
PARSER_VERSION = "2"  # 2: collection and column read by the parser; one CJK definition

USER_AGENT = (
    f"chaozhou-archive/{__version__} (+https://github.com/chaozhou-archive/chaozhou-archive; polite archiver)"
)

# How far one crawl walks listings (docs/reliability.md, "A run always ends", says why these numbers): pages of one
# pager followed page to page, and listing pages in all. What lies beyond waits in the frontier for the next run.
MAX_PAGES_PER_LISTING = 100
MAX_LISTING_PAGES = 1000
