"""Named exceptions, each with a message a user can act on."""


class ScraperError(Exception):
    """Base class for every error the scraper raises on purpose."""


class NotAnArticle(ScraperError):
    """The page is not a single article: a listing, an error page, an empty or binary body."""

    def __init__(self, reason: str, url: str | None = None):
        self.reason = reason
        self.url = url
        where = f"{url}: " if url else ""
        super().__init__(f"{where}not an article: {reason}")
