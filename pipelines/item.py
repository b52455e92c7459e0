"""What the pipelines accept: the Outcome of reading one response, the Article it may hold, and its Capture.

Defined here, on the pipelines' side, as Scrapy defines its items beside its item pipelines: the scraper builds
these and hands them over; nothing here knows how a page was fetched or parsed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import Enum


@dataclass
class Image:
    url: str
    caption: str | None = None


@dataclass
class Article:
    """Everything the parser gives for one page, as plain data."""

    url: str
    site: str | None = None
    extractor: str | None = None
    parser_version: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    title: str | None = None
    subtitle: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    collection: str | None = None  # 潮州库: the site's collection, from its URL codes or a breadcrumb ending in 库
    column: str | None = None  # 理论文章、理论著作: the collection's column
    breadcrumb: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Which rule found each field ("template:…", "anchor:…", "meta:…", "generic:…"): what drift
    # detection and `scraper doctor` read to tell a template that still matches from one that quietly fell back.
    field_rules: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


class Kind(Enum):
    """What one response turned out to be. Every job counts and stores responses by this, never by a message."""

    ARTICLE = "article"
    LISTING = "listing"  # a page of links to articles: a column index, a collection's home
    ARTICLE_PART = "article-part"  # a later page of a long article (post_N_2.html): stored with its first page
    BLOCK_PAGE = "block-page"  # a refusal: 429/403/503, or a block or captcha page served in place of the page
    ERROR_PAGE = "error-page"  # served as a page, but says the page is not there (页面不存在)
    NOT_HTML = "not-html"  # an image, a style sheet, robots.txt: nothing to parse
    NO_ARTICLE = "no-article"  # HTML, but no article on it: an empty body, no body text, a list of links
    GONE = "gone"  # 404 or 410: the site no longer has the page
    REDIRECT = "redirect"  # a 3xx hop: its target is another response
    HTTP_ERROR = "http-error"  # another error status (500, 401 …): the server sent no page
    FAILED = "failed"  # could not be read: a broken or oversized body, a parser bug

    @property
    def is_refusal(self) -> bool:
        return self is Kind.BLOCK_PAGE

    @property
    def is_dropped(self) -> bool:
        """A page that was looked at and not stored: kept in the ``dropped`` table with its reason."""
        return self in (Kind.BLOCK_PAGE, Kind.ERROR_PAGE, Kind.NO_ARTICLE, Kind.HTTP_ERROR, Kind.FAILED)


@dataclass
class Outcome:
    """What reading one response gave: an article, or the kind of page it was and why it holds none."""

    kind: Kind
    reason: str = ""
    article: Article | None = None
    url: str = ""  # the page's canonical URL, what the archive keys it by (the response's own URL may not be)
    # Other URLs the same article was reached at (the sources of permanent redirects to it): an article the archive
    # holds under one of them, with the same title, is moved to ``url``, so the page stays one article.
    aliases: list[str] = field(default_factory=list)
    # The article is incomplete (a later page of a long article could not be had): stored when the archive holds
    # nothing at ``url``, never in place of what it holds.
    partial: bool = False

    def __post_init__(self) -> None:
        if (self.kind is Kind.ARTICLE) != (self.article is not None):
            raise ValueError(f"an outcome of kind {self.kind.value} {'needs' if self.article is None else 'has'} "
                             "an article")


@dataclass
class Capture:
    """Where a response came from, as the ``captures`` table keeps it: a WARC record or a saved HTML file."""

    record_id: str
    url: str
    fetched_at: str | None = None  # UTC, pipelines.times.utc_text
    status: int | None = None
    content_type: str | None = None
    payload_digest: str | None = None
    warc_file: str | None = None  # a crawl's files by name (in its WARC directory), an import's by absolute path
    warc_offset: int | None = None
    warc_length: int | None = None
    saved_file: str | None = None
    id: int | None = None  # the row's id once stored

    @classmethod
    def from_row(cls, row: dict) -> Capture:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in known})

    def row(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "id"}
