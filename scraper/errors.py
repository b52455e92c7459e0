"""Named exceptions of the scraper's side, each with a message a user can act on."""

from __future__ import annotations

from pipelines.item import Kind


class ScraperError(Exception):
    """Base class for every error the scraper raises on purpose."""


class NotAnArticle(ScraperError):
    """The page is not a single article: a listing, an error page, an empty or binary body. ``kind`` says which
    (a ``pipelines.item.Kind``), ``reason`` says why, in words."""

    def __init__(self, reason: str, url: str | None = None, kind: Kind = Kind.NO_ARTICLE):
        self.reason = reason
        self.url = url
        self.kind = kind
        where = f"{url}: " if url else ""
        super().__init__(f"{where}not an article: {reason}")


class PortBusy(ScraperError):
    """`scraper serve` cannot listen where it was asked to (the port taken, the address not this machine's)."""


class SamplePortBusy(PortBusy):
    """The port the sample site is always served on is taken: the sample keeps one address, so that crawling it
    again never stores its pages twice."""
