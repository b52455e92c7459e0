"""Long articles: a page that continues on post_N_2.html, post_N_3.html … (Founder: content_N_2.htm) is stored as
one article, its later pages' paragraphs, headings and images after the first page's.

The pages are found by the templates' article patterns (their "page" group, see ``scraper.sites.article_page``)
and the links on each page to the next; who fetches them is the job's business: the crawl asks the site, an import
its WARC files, a reparse its stored captures, each through a ``PageSource``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UnreadableBody, WarcDamaged
from pipelines.item import Article, Capture
from pipelines.warc import MAX_BODY_BYTES, Exchange, Record, capture_path, read_record

from .errors import NotAnArticle
from .page import Page, looks_blocked, short_and_blocked
from .parse import extract_article, read_page
from .rules import SiteRules
from .sites import ArticlePage, article_page, identity_url
from .urls import absolute_url

# The response for a later page of an article, by its URL and the time its first page was fetched (UTC text,
# pipelines.times); None when it cannot be had. Whatever the status: a 404 or a redirect says something too.
PageSource = Callable[[str, str | None], Exchange | None]
MAX_PAGES = 30  # a pager that goes on past this is a trap, not an article


@dataclass
class Joined:
    pages: int = 1
    complete: bool = True
    retry: bool = False  # incomplete for a reason a later try may not meet (no answer, a refusal, a 5xx)


def next_page(page: Page, first: str, number: int) -> str | None:
    """The link on ``page`` (page ``number`` of the article at ``first``) to page ``number + 1``, if any."""
    for a in page.root.iter("a"):
        link = absolute_url(page.base_url, a.get("href"))
        there = article_page(link) if link else None
        if there is not None and there.first == first and there.number == number + 1:
            return identity_url(link)
    return None


def continues(exchange: Exchange, max_bytes: int) -> bool:
    """Whether the response is the first page of a long article (it links to its page 2)."""
    here = article_page(exchange.url)
    if here is None or here.number != 1:
        return False
    try:
        page = read_page(exchange.decoded_body(max_bytes), exchange.url, exchange.content_type)
    except (UnreadableBody, NotAnArticle):
        return False
    return next_page(page, here.first, 1) is not None


def join_pages(article: Article, page: Page, source: PageSource | None, max_bytes: int,
               visit: str | None = None, rules: SiteRules | None = None) -> Joined:
    """Append the later pages of the article read from ``page`` (its first). A page that cannot be had, or is not
    the page asked for, ends the joining with a warning on the article, which is then stored as far as it goes:
    to be tried again when a later try may do better (``Joined.retry``)."""
    here = article_page(page.url)
    joined = Joined()
    if here is None or here.number != 1:
        return joined
    images = {image.url for image in article.images}
    while (url := next_page(page, here.first, joined.pages)) is not None:
        number = joined.pages + 1
        if number > MAX_PAGES:  # final: a later try would stop here too
            return _stop(article, joined, f"pages: more than {MAX_PAGES} pages; only the first {MAX_PAGES} kept")
        read = read_later_page(source, url, here.first, number, max_bytes, visit, rules)
        if isinstance(read, Gap):
            return _stop(article, joined, f"pages: incomplete, page {number} ({url}) {read.why}", read.retry)
        page, part = read
        article.paragraphs.extend(part.paragraphs)
        article.headings.extend(part.headings)
        article.images.extend(image for image in part.images if image.url not in images)
        images.update(image.url for image in part.images)
        joined.pages = number
    return joined


@dataclass
class Gap:
    why: str
    retry: bool


def read_later_page(source: PageSource | None, url: str, first: str, number: int, max_bytes: int,
                    visit: str | None = None, rules: SiteRules | None = None) -> tuple[Page, Article] | Gap:
    """Page ``number`` of the article at ``first``, read; or why not, and whether a later try may do better."""
    exchange = source(url, visit) if source is not None else None
    if exchange is None:
        return Gap("could not be had", retry=source is not None)
    status = exchange.status
    if status in (404, 410):
        return Gap(f"is gone (HTTP {status})", retry=False)
    if status is not None and 300 <= status < 400:  # never followed: a later page that moved is not the page
        return Gap(f"redirects to {exchange.header('Location') or 'nowhere'}", retry=False)
    if status is None or not 200 <= status < 300:
        return Gap(f"answered HTTP {status}", retry=True)
    if article_page(exchange.url) != ArticlePage(first, number):  # redirected: to page 1, or another article
        return Gap(f"led to {exchange.url}", retry=False)
    try:
        body = exchange.decoded_body(max_bytes)
        page = read_page(body, exchange.url, exchange.content_type)
    except (UnreadableBody, NotAnArticle) as exc:
        return Gap(f"could not be read: {exc.reason}", retry=True)
    except Exception as exc:  # noqa: BLE001 - a decoder or parser bug costs the page, never the run
        return Gap(f"could not be parsed: {type(exc).__name__}", retry=False)
    try:
        part = extract_article(page, rules)
    except NotAnArticle as exc:
        blocked = looks_blocked(page, body)
        return Gap("was a block page" if blocked else f"holds no article: {exc.reason}", retry=blocked)
    except Exception as exc:  # noqa: BLE001 - a parser bug costs the page, never the run
        return Gap(f"could not be parsed: {type(exc).__name__}", retry=False)
    if short_and_blocked(page, body, part.paragraphs):
        return Gap("was a block page", retry=True)
    return page, part


def parse_article_pages(data: bytes, url: str, content_type: str | None = None,
                        source: PageSource | None = None, rules: SiteRules | None = None) -> Article:
    """``scraper.parse.parse_article`` with the later pages of a long article from ``source``; with none, the
    article says in ``warnings`` that it goes on."""
    page = read_page(data, url, content_type)
    article = extract_article(page, rules)
    join_pages(article, page, source, MAX_BODY_BYTES, rules=rules)
    return article


def _stop(article: Article, joined: Joined, warning: str, retry: bool = False) -> Joined:
    article.warnings.append(warning)
    joined.complete = False
    joined.retry = retry
    return joined


def stored_pages(db, warc_dir: Path, also: PageSource | None = None) -> PageSource:
    """Later pages from the archive's own captures, else ``also``: how an import and a reparse have them, without
    the network (the capture of the same visit, ``same_visit``)."""
    def find(url: str, visit: str | None) -> Exchange | None:
        rows = db.execute("SELECT * FROM captures WHERE url = ? AND warc_file IS NOT NULL", [url])
        names = [d[0] for d in rows.description]
        capture = same_visit([Capture.from_row(dict(zip(names, row, strict=True))) for row in rows], visit)
        if capture is not None:
            with suppress(OSError, WarcDamaged):
                return read_record(capture_path(warc_dir, capture.warc_file), capture.warc_offset).exchange
        return also(url, visit) if also is not None else None
    return find


def file_pages(records: Callable[[], Iterator[Record]]) -> PageSource:
    """Later pages from the records ``records()`` yields (the files of one import), indexed on first use: a page
    may lie after its first page in a file, or in another file of the import."""
    index: dict[str, list[Capture]] | None = None

    def find(url: str, visit: str | None) -> Exchange | None:
        nonlocal index
        if index is None:
            index = {}
            with suppress(WarcDamaged):
                for record in records():
                    there = article_page(record.capture.url)
                    if not record.is_revisit and there is not None and there.number > 1:
                        index.setdefault(identity_url(record.capture.url), []).append(record.capture)
        capture = same_visit(index.get(url, []), visit)
        if capture is None:
            return None
        try:
            return read_record(capture.warc_file, capture.warc_offset).exchange
        except (OSError, WarcDamaged):
            return None
    return find


def same_visit(captures: list[Capture], visit: str | None) -> Capture | None:
    """The capture of a later page that belongs with a first page fetched at ``visit``: the first one fetched then
    or after (a crawl fetches the later pages right after the first), else the last one before. So a crawl, an
    import of its WARC files and a reparse join the same pages, whatever their order in the files."""
    timed = sorted(captures, key=lambda c: (c.fetched_at or "", c.id or 0))
    after = [c for c in timed if visit is None or (c.fetched_at or "") >= visit]
    return after[0] if after else (timed[-1] if timed else None)
