"""The `scraper` command: one click group; options shared by several commands are written once below."""

from __future__ import annotations

import json
import os
import sys
from importlib import resources

import click

from . import __version__
from .article import Article
from .errors import NotAnArticle, ScraperError

SAMPLE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"


def db_option(fn):
    return click.option("--db", "db_path", default="archive.db", show_default=True,
                        type=click.Path(dir_okay=False), help="SQLite database file")(fn)


def warc_dir_option(fn):
    return click.option("--warc-dir", type=click.Path(file_okay=False),
                        help="Where WARC files are kept [default: archive/ beside the database]")(fn)


def url_option(fn):
    return click.option("--url", help="The page's URL (needed to resolve links and pick the template)")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scraper")
def cli():
    """Archive the 潮州库: fetch, parse and store its articles in SQLite for Datasette."""


def read_page(page: str | None, sample: bool) -> bytes:
    if sample:
        return resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()
    if page is None:
        raise click.UsageError("give a PAGE (a file, or - for standard input) or --sample")
    if page == "-":
        return sys.stdin.buffer.read()
    try:
        with open(page, "rb") as f:
            return f.read()
    except IsADirectoryError:
        raise click.BadParameter(f"{page} is a directory, not a saved page", param_hint="PAGE") from None
    except OSError as exc:
        raise click.BadParameter(f"cannot read {page}: {exc.strerror}", param_hint="PAGE") from None


def format_text(article: Article) -> str:
    out = []
    for key, value in article.to_dict().items():
        if key in ("paragraphs", "images", "field_rules"):
            continue
        if isinstance(value, list):
            value = " / ".join(value) if value else "-"
        out.append(f"{key:>16}: {value if value not in (None, '') else '-'}")
    for image in article.images:
        out.append(f"{'image':>16}: {image.url}" + (f"  ({image.caption})" if image.caption else ""))
    out.append("")
    headings = set(article.headings)
    for paragraph in article.paragraphs:
        out.append(f"## {paragraph}" if paragraph in headings else paragraph)
        out.append("")
    return "\n".join(out)


def write_out(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


@cli.command()
@click.argument("page", required=False)
@url_option
@click.option("--content-type", help="The HTTP Content-Type the page was served with (its charset counts)")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--sample", is_flag=True, help="Parse the bundled sample page (a reconstructed 潮州库 article)")
def parse(page, url, content_type, fmt, sample):
    """Parse one saved PAGE (a file, or - for stdin) and print its Article.

    Prints what the archive would store for the page. Exit code 2 when the page is not an article.
    """
    from .parse import parse_article

    data = read_page(page, sample)
    url = url or (SAMPLE_URL if sample else f"file:///{page if page and page != '-' else 'stdin'}")
    try:
        article = parse_article(data, url, content_type)
    except NotAnArticle as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except ScraperError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        write_out(json.dumps(article.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        write_out(format_text(article) + "\n")


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@db_option
@url_option
@click.option("--sample", is_flag=True, help="Import the bundled sample WARC (reconstructed 潮州库 pages)")
def import_(files, db_path, url, sample):
    """Import WARC files (.warc, .warc.gz) and saved HTML pages into the archive.

    Parses every HTML response and stores its article; running it again changes nothing, and a page whose
    text changed keeps its earlier text as a version. Exit code 1 if a file is damaged or a page failed.
    """
    from pipelines.errors import StorageError
    from pipelines.importer import import_files, is_warc
    from pipelines.schema import open_archive

    files = list(files)
    if sample:
        files.append(str(resources.files("scraper").joinpath("samples/sample.warc.gz")))
    if not files:
        raise click.UsageError("give one or more FILEs (WARC or saved HTML), or --sample")
    if url and sum(1 for f in files if not is_warc(f)) > 1:
        raise click.UsageError("--url names the address of one saved HTML file; import the others separately")
    try:
        db = open_archive(db_path)
        try:
            total = sum(os.path.getsize(f) for f in files)
            with click.progressbar(length=total, label="Importing", file=sys.stderr,
                                   hidden=not sys.stderr.isatty()) as bar:
                result = import_files(db, files, url, progress=bar.update)
        finally:
            db.close()
    except StorageError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
    click.echo(f"{db_path}: {result.counts.summary()}")
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.argument("urls", nargs=-1)
@db_option
@warc_dir_option
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between requests (randomised ×0.5–1.5; robots.txt Crawl-delay is a floor)")
@click.option("--max-articles", type=click.IntRange(min=1), help="Stop after this many articles")
@click.option("--recheck-days", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Re-check articles published this recently with a conditional GET")
def crawl(urls, db_path, warc_dir, delay, max_articles, recheck_days):
    """Crawl the 潮州库 (or the collection, column or article at URLS) into the archive.

    Exit codes: 0 done, 1 some pages failed, 2 usage error or another crawl running, 3 the site is refusing
    (rate limits or block pages), 4 reserved for drift.
    """
    from urllib.parse import urlsplit

    from pipelines.errors import StorageError

    from .crawl import DEFAULT_START, CrawlLocked, CrawlOptions, run_crawl

    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URLS")
    options = CrawlOptions(start_urls=list(urls) or [DEFAULT_START], db_path=db_path, warc_dir=warc_dir,
                           delay=delay, max_articles=max_articles, recheck_days=recheck_days)
    progress = _progress_printer()
    try:
        stats = run_crawl(options, progress)
    except CrawlLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except StorageError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    progress(None)
    if stats.stopped == "refusing":
        click.echo("Stopped: the site keeps refusing (rate limit or block page); try again later.", err=True)
    click.echo(f"{db_path}: {stats.summary()}")
    sys.exit(stats.exit_code)


def _progress_printer():
    """One updating status line on a terminal; plain log lines otherwise (cron mail, CI logs)."""
    tty = sys.stderr.isatty()
    count = [0]

    def show(message):
        if message is None:
            if tty and count[0]:
                click.echo("", err=True)
            return
        count[0] += 1
        if tty:
            click.echo(f"\r\033[K[{count[0]}] {message[:100]}", err=True, nl=False)
        else:
            click.echo(f"[{count[0]}] {message}", err=True)

    return show


@cli.command()
@db_option
@warc_dir_option
def reparse(db_path, warc_dir):
    """Rebuild every article from its stored WARC capture, without the network (after a parser upgrade)."""
    from pathlib import Path

    from pipelines.errors import StorageError
    from pipelines.schema import open_archive

    from .reparse import reparse_archive

    directory = Path(warc_dir) if warc_dir else Path(db_path).resolve().parent / "archive"
    try:
        db = open_archive(db_path, create=False)
        try:
            stats = reparse_archive(db, directory)
        finally:
            db.close()
    except StorageError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    for error in stats.errors:
        click.echo(f"Error: {error}", err=True)
    click.echo(f"{db_path}: {stats.summary()}")
    sys.exit(1 if stats.errors else 0)
