"""The `scraper` command: one click group; options shared by several commands are written once below.

Each command imports the job it runs when it runs (a crawl needs requests and lxml, `serve` Datasette): so
`scraper --help` answers at once. Every job ends the same way (``finish``): its problems, one summary line, the
health lines, its exit code.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import BinaryIO, NoReturn
from urllib.parse import urlsplit

import click

from pipelines.errors import ArchiveBusy, ArchiveError, StorageError
from pipelines.run import RunResult, Status
from pipelines.warc import warc_directory

from . import MAX_LISTING_PAGES, MAX_PAGES_PER_LISTING, __version__
from .console import format_text, progress_printer
from .errors import NotAnArticle, PortBusy, ScraperError
from .serving import check_port, run_datasette, uri_safe_path

SAMPLE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on standard error and the exit code (see each command's help): never a traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def db_option(fn):
    return click.option("--db", "db_path", default="archive.db", show_default=True,
                        type=click.Path(dir_okay=False), help="SQLite database file")(fn)


def init_option(fn):
    return click.option("--init", is_flag=True,
                        help="Add the archive's tables to a database that is not an archive (another "
                             "application's); without it, such a database is refused and left as it was")(fn)


def warc_dir_option(fn):
    return click.option("--warc-dir", type=click.Path(file_okay=False),
                        help="Where WARC files are kept [default: archive/ beside the database]")(fn)


def drift_check_option(fn):
    return click.option("--drift-check/--no-drift-check", default=True, show_default=True,
                        help="Compare the new articles with the archive's history; exit 4 on template drift")(fn)


def check_url(ctx, param, value):
    """--url as urlsplit can read it: "http://[::1/x" or a port out of range is a usage error, not a traceback
    from deep in the import."""
    if value is not None:
        try:
            urlsplit(value).port  # noqa: B018 - reading it checks it
        except ValueError as exc:
            raise click.BadParameter(f"{value!r} is not a URL ({exc})") from None
    return value


def url_option(fn):
    return click.option("--url", callback=check_url,
                        help="The page's URL (needed to resolve links and pick the template)")(fn)


def rules_option(fn):
    """--rules FILE, handed to the command as the loaded ``scraper.rules.SiteRules`` (or None): by default
    rules.toml beside the archive database when there is one there. A bad file: one line, exit code 2."""
    @functools.wraps(fn)
    def run(*args, rules_path, **kwargs):
        from .rules import RulesError, find_rules
        try:
            kwargs["rules"] = find_rules(rules_path, kwargs.get("db_path"))
        except RulesError as exc:
            fail(str(exc), 2)
        return fn(*args, **kwargs)
    return click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False),
                        help="Site rules (TOML) that pin fields to CSS selectors, tried before the built-in ones "
                             "[default: rules.toml beside the database, when there is one]")(run)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scraper")
def cli():
    """Archive the 潮州库: fetch, parse and store its articles in SQLite for Datasette."""


def read_page(page: str | None, sample: bool, argument: str = "PAGE") -> bytes:
    """The saved page's bytes; a bad one is a usage error naming the command's own ``argument``."""
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
        raise click.BadParameter(f"{page} is a directory, not a saved page", param_hint=argument) from None
    except OSError as exc:
        raise click.BadParameter(f"cannot read {page}: {exc.strerror}", param_hint=argument) from None


def file_url(path: str) -> str:
    """The file: URL of a saved page, from any path (an absolute one kept no extra slash, a relative one its
    folder)."""
    return Path(path).resolve().as_uri()


def write_out(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


@cli.command()
@click.argument("page", required=False)
@url_option
@click.option("--content-type", help="The HTTP Content-Type the page was served with (its charset counts)")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--sample", is_flag=True, help="Parse the bundled sample page (a reconstructed 潮州库 article)")
@rules_option
def parse(page, url, content_type, fmt, sample, rules):
    """Parse one saved PAGE (a file, or - for stdin) and print its Article.

    Prints what the archive would store for the page. Exit code 2 when the page is not an article.
    """
    from .multipage import parse_article_pages

    data = read_page(page, sample)
    url = url or (SAMPLE_URL if sample else file_url(page if page and page != "-" else "stdin"))
    try:
        article = parse_article_pages(data, url, content_type, rules=rules)
    except NotAnArticle as exc:
        fail(str(exc), 2)
    except ScraperError as exc:
        fail(str(exc))
    if fmt == "json":
        write_out(json.dumps(article.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        write_out(format_text(article) + "\n")


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@db_option
@init_option
@url_option
@click.option("--sample", is_flag=True, help="Import the bundled sample WARC (reconstructed 潮州库 pages)")
@drift_check_option
@rules_option
def import_(files, db_path, init, url, sample, drift_check, rules):
    """Import WARC files (.warc, .warc.gz), ARC and WACZ files and saved HTML pages into the archive.

    Reads every response as the crawl does and stores its article; running it again changes nothing, and a page
    whose text changed keeps its earlier text as a version. Exit code 1 if a file is damaged or a page failed, 2
    if a reparse is writing the archive, 4 if the new articles show template drift.
    """
    from pipelines.filekind import FileKind, file_kind

    from .importer import import_files

    files = list(files)
    if sample:
        files.append(str(resources.files("scraper").joinpath("samples/sample.warc.gz")))
    if not files:
        raise click.UsageError("give one or more FILEs (WARC or saved HTML), or --sample")
    if url and sum(1 for f in files if file_kind(f) is FileKind.HTML) > 1:
        raise click.UsageError("--url names the address of one saved HTML file; import the others separately")
    total = sum(os.path.getsize(f) for f in files)
    with storage_errors(), click.progressbar(length=total, label="Importing", file=sys.stderr,
                                             hidden=not sys.stderr.isatty()) as bar:
        result = import_files(db_path, files, url, drift_check=drift_check, progress=bar.update, init=init,
                              rules=rules)
    finish(result, db_path)


@cli.command()
@click.argument("urls", nargs=-1)
@db_option
@init_option
@warc_dir_option
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between requests (randomised ×0.5–1.5; robots.txt Crawl-delay is a floor)")
@click.option("--max-articles", type=click.IntRange(min=1), help="Stop after this many articles")
@click.option("--max-requests", type=click.IntRange(min=1),
              help="Stop after this many HTTP requests (robots.txt, listings, articles, redirects, retries)")
@click.option("--max-pages-per-listing", type=click.IntRange(min=1), default=MAX_PAGES_PER_LISTING,
              show_default=True, help="Follow one listing's pager this many pages per run; the next run goes on")
@click.option("--max-listing-pages", type=click.IntRange(min=1), default=MAX_LISTING_PAGES, show_default=True,
              help="Fetch at most this many listing pages per run; the rest wait for the next run")
@click.option("--recheck-days", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Re-check articles published this recently with a conditional GET")
@click.option("--proxy", metavar="URL",
              help="Send every request through this HTTP proxy (http://host:port); the environment's proxy "
                   "settings are never used")
@click.option("--sample", is_flag=True,
              help="Crawl the bundled sample pages, served on 127.0.0.1 by this command (no network needed)")
@drift_check_option
@rules_option
def crawl(urls, db_path, init, warc_dir, delay, max_articles, max_requests, max_pages_per_listing,
          max_listing_pages, recheck_days, proxy, sample, drift_check, rules):
    """Crawl the 潮州库 (or the collection, column or article at URLS) into the archive.

    Exit codes: 0 done, 1 some pages failed, 2 usage error or another crawl or a reparse running, 3 the site is
    refusing (rate limits or block pages), 4 the new articles show template drift (see the health lines), 5 the
    site could not be reached (no name lookup, no connection, no answer).
    """
    from contextlib import nullcontext
    from urllib.parse import urlsplit

    from .crawl import DEFAULT_START, CrawlOptions, run_crawl
    from .sample import serving_sample

    if sample and urls:
        raise click.UsageError("--sample crawls the bundled sample; give no URLS with it")
    for url, hint in [*((url, "URLS") for url in urls), *([(proxy, "--proxy")] if proxy else [])]:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - reading it checks it ("http://host:99999/" is no URL)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint=hint)
    progress = progress_printer()
    # The sample's server is this process's own, on 127.0.0.1: the crawl may connect there because its start
    # URL names that address (scraper.netguard), as for any crawl pointed at a local mirror, and needs no pause.
    with storage_errors(), port_errors(), (serving_sample() if sample else nullcontext()) as sample_url:
        options = CrawlOptions(start_urls=[sample_url] if sample else list(urls) or [DEFAULT_START],
                               db_path=db_path, warc_dir=warc_dir, delay=0 if sample else delay,
                               max_articles=max_articles, max_requests=max_requests,
                               max_pages_per_listing=max_pages_per_listing, max_listing_pages=max_listing_pages,
                               recheck_days=recheck_days, drift_check=drift_check, init=init, rules=rules,
                               proxy=proxy)
        result = run_crawl(options, progress)
    progress(None)
    if result.stopped is Status.REFUSING:
        click.echo(f"Stopped: {result.reason}; try again later.", err=True)
    elif result.stopped is Status.UNREACHABLE:
        click.echo(f"Stopped: {result.reason}. No route to the site from this machine? `scraper crawl --sample` "
                   "shows the crawl on bundled pages.", err=True)
    finish(result, db_path)


@contextmanager
def port_errors():
    """A port the sample site or Datasette cannot listen on: one line, exit code 1."""
    try:
        yield
    except PortBusy as exc:
        fail(str(exc))


@contextmanager
def storage_errors():
    """The archive cannot be written, or another run holds it: one line and the exit code, never a traceback."""
    try:
        yield
    except ArchiveBusy as exc:
        fail(str(exc), 2)
    except ArchiveError as exc:
        fail(str(exc))


def finish(result: RunResult, db_path: str) -> NoReturn:
    """What every job prints at its end: the problems, one summary line, the health lines; then its exit code."""
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo(f"{db_path}: {result.counts.summary()}")
    for line in result.health:
        click.echo(line, err=result.drift)
    sys.exit(result.exit_code)


@cli.command()
@db_option
@warc_dir_option
@rules_option
def reparse(db_path, warc_dir, rules):
    """Rebuild every article from its stored WARC capture, without the network (after a parser upgrade).

    Exit code 1 if a capture could not be read, 2 if another crawl or import is writing the archive.
    """
    from .reparse import reparse_archive

    with storage_errors():
        result = reparse_archive(db_path, warc_directory(db_path, warc_dir), rules=rules)
    finish(result, db_path)


@cli.command()
@click.argument("target")
@url_option
@click.option("--content-type", help="The HTTP Content-Type a saved page was served with")
@rules_option
def doctor(target, url, content_type, rules):
    """Show how one page is read: TARGET is a URL (fetched politely, once) or a saved file.

    Prints which template matched and which did not, each field with the rule that found it and the line it
    stands on, the candidate blocks for the body with their scores; then, per field, a CSS selector a user could
    pin, and a rules file (TOML, for --rules) that makes the page parse as shown.
    """
    from urllib.parse import urlsplit

    from .doctor import NotAllowed, diagnose, fetch_politely, format_diagnosis

    if urlsplit(target).scheme in ("http", "https"):
        try:
            data, content_type, url = fetch_politely(target)
        except NotAllowed as exc:
            fail(str(exc), 2)
        except ScraperError as exc:
            fail(str(exc))
    else:
        data = read_page(target, False, "TARGET")
        url = url or file_url(target)
    try:
        diagnosis = diagnose(data, url, content_type, rules)
    except NotAnArticle as exc:
        fail(str(exc), 2)
    write_out(format_diagnosis(diagnosis) + "\n")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port to listen on (0: any free port)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 127.0.0.1 serves this machine only, 0.0.0.0 every network")
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def serve(db_path, port, host, datasette_args):
    """Browse the archive in Datasette, with the project's metadata, pages and queries.

    Runs `datasette serve` on the archive (its schema brought up to date first); any other Datasette option
    is passed through, e.g. `scraper serve --setting sql_time_limit_ms 3000` or `--get /archive.json`.
    """
    from pipelines.schema import open_archive

    if any(arg in ("-i", "--immutable") or arg.startswith("--immutable=") for arg in datasette_args):
        raise click.UsageError("-i/--immutable reads a database without its WAL file and misses recent rows: "
                               "serve a live archive without it (use `datasette -i` for a published snapshot)")
    try:
        open_archive(db_path, create=False).close()  # upgrade an older schema, and WAL mode, before serving
    except StorageError as exc:
        fail(str(exc))
    with port_errors():
        check_port(host, port, datasette_args)
    with uri_safe_path(db_path) as path:
        code = run_datasette(path, host, port, list(datasette_args))
    sys.exit(code)


@cli.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "ndjson"]), default="csv", show_default=True,
              help="CSV, one JSON array, or one JSON object per line")
@click.option("--excel", is_flag=True, help="CSV for Excel: UTF-8 with BOM, CRLF, formulas neutralised")
@click.option("--since", metavar="DATE", help="Only articles published on or after DATE (YYYY-MM-DD, YYYY-MM, YYYY)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="File to write [default: standard output]")
def export(db_path, fmt, excel, since, output):
    """Export every article (with source, authors and images) as CSV, JSON or NDJSON, streamed.

    Articles come in publication order; memory use stays flat however large the archive.
    """
    import sqlite3

    from pipelines.export import ExportError, count_articles, export_articles
    from pipelines.schema import check_archive, connect_readonly

    try:
        check_archive(db_path, create=False)
    except StorageError as exc:
        fail(str(exc))
    if output != "-" and os.path.exists(output) and os.path.samefile(output, db_path):
        fail(f"{output} is the archive itself; write the export to another file")
    conn = connect_readonly(db_path)
    try:
        total = count_articles(conn, since)
        with output_file(output) as out, click.progressbar(length=total, label="Exporting", file=sys.stderr,
                                                           hidden=not sys.stderr.isatty()) as bar:
            count = export_articles(conn, out, fmt, excel=excel, since=since, progress=bar.update)
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        fail(f"{db_path}: {exc}")
    finally:
        conn.close()
    if output != "-":
        click.echo(f"{output}: {count} articles", err=True)


@contextmanager
def output_file(path: str) -> Iterator[BinaryIO]:
    """The file to write, or standard output for ``-``; a file that cannot be made or written (no such folder,
    a full disk, a closed pipe) is one line and exit code 1."""
    name = "standard output" if path == "-" else path
    try:
        if path == "-":
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            with open(path, "wb") as out:
                yield out
    except OSError as exc:
        if path == "-":
            # What is left in stdout's buffer would fail again as Python exits, with its own message.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        fail(f"cannot write {name}: {exc.strerror or exc}")
