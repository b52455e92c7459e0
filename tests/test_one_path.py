"""One path from a response to the archive: the crawl, import and reparse read and store the same bytes alike.

The crawl's own WARC files, imported into a fresh archive, must give exactly the crawl's articles (field for field,
with their authors, images and sources), the same dropped pages, and no listing page, whatever the site served:
HTML labelled application/octet-stream, a redirect, a 404, a block page, listings over several pages.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.item import Kind
from pipelines.lock import archive_lock
from pipelines.warc import Exchange, read_warc
from scraper.cli import cli
from scraper.importer import import_files
from scraper.ingest import read_response
from tests.collection import BLOCK_PAGE, article_html
from tests.site_server import Reply

ROOT = Path(__file__).resolve().parent.parent
# Every column of a stored article but the row ids, joined to the names they point at.
ARTICLES = """select a.url, a.title, a.subtitle, a.published_at, s.name, a.collection, a.[column], a.editor,
  a.char_count, a.paragraph_count, a.headings, a.breadcrumb, a.site, a.extractor, a.encoding, a.warnings,
  a.field_rules, a.first_seen, a.last_seen, a.content_hash, a.parser_version, a.body, a.gone_at, a.gone_status,
  (select group_concat(au.name, '|') from article_authors aa join authors au on au.id = aa.author_id
     where aa.article_id = a.id order by aa.position),
  (select group_concat(i.url || ' ' || coalesce(i.caption, ''), '|') from images i where i.article_id = a.id)
from articles a left join sources s on s.id = a.source_id order by a.url"""
TIMESTAMPS = {"captures": ["fetched_at"], "articles": ["first_seen", "last_seen"],
              "runs": ["started_at", "finished_at"], "frontier": ["discovered_at", "fetched_at", "next_try"]}
UTC_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def rows(path: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def awkward_site(site, collection):
    """The collection, with what a real site also serves: HTML labelled application/octet-stream, an article
    moved by a 301, one gone (404), one that answers 500, a redirect loop, a block page in place of one, and a
    robots.txt that is an HTML page (a CMS's soft 404)."""
    stories = collection.stories["llwzllzz"]
    octet, moved, gone, broken, looping = stories[:5]
    site.route(octet.path, Reply(200, article_html(octet).encode(), {"Content-Type": "application/octet-stream"}))
    moved_to = moved.path.replace("/post_", "/post_9")
    site.route(moved.path, Reply(301, headers={"Location": moved_to}))
    site.route(moved_to, Reply.html(article_html(moved)))
    site.route(gone.path, Reply(404, b"not found", {"Content-Type": "text/plain"}))
    site.route(broken.path, Reply(500, b"<html><body>Internal Server Error</body></html>",
                                  {"Content-Type": "text/html"}))
    site.route(looping.path, Reply(302, headers={"Location": looping.path}))
    blocked = collection.stories["dsj"][0]
    site.route(blocked.path, Reply.html(BLOCK_PAGE))
    site.route("/robots.txt", Reply.html("<html><head><title>页面不存在</title></head><body><p>找不到页面</p>"))
    site.awkward = {"octet": octet, "moved": (moved, moved_to), "gone": gone, "broken": broken,
                    "looping": looping, "blocked": blocked}
    return site


def test_importing_a_crawls_warc_stores_exactly_the_crawls_articles(awkward_site, collection, crawl, db_path,
                                                                     tmp_path):
    site = awkward_site
    crawled = crawl(site, drift_check=False)
    warcs = sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz"))
    fresh = tmp_path / "imported.db"
    imported = import_files(str(fresh), warcs, drift_check=False)

    articles = rows(db_path, ARTICLES)
    assert rows(fresh, ARTICLES) == articles
    stored = {row[0] for row in articles}
    moved, moved_to = site.awkward["moved"]
    expected = {site.base + s.path for s in collection.all_stories()} - {site.base + site.awkward[name].path for name in
                                                                        ("gone", "broken", "looping", "blocked")}
    expected.discard(site.base + moved.path)
    assert stored == expected | {site.base + moved_to}  # the octet-stream HTML too; the moved one at its target
    listings = {site.base + p for p in ("/cz/", "/cz/llwzllzz/", "/cz/llwzllzz/index_2.html",
                                        "/cz/llwzllzz/index_3.html", "/cz/dsj/")}
    assert not stored & listings
    dropped = "select url, stage, reason from dropped order by url, stage"
    assert rows(fresh, dropped) == rows(db_path, dropped)
    assert {stage for _, stage, _ in rows(db_path, dropped)} == {"block-page", "http-error"}
    for name in ("new", "listing", "block_page", "gone", "redirect", "http_error", "not_html"):
        assert getattr(imported.counts, name) == getattr(crawled.counts, name), name
    assert imported.counts.listing == len(listings)

    # The same files into the crawl's own archive: every capture is known, every article unchanged.
    again = import_files(str(db_path), warcs, drift_check=False)
    assert (again.counts.new, again.counts.updated) == (0, 0)
    assert rows(db_path, ARTICLES) == articles


def test_the_same_bytes_are_the_same_outcome_from_the_network_and_from_the_warc(awkward_site, crawl, tmp_path):
    """Each response as the crawl wrote it, read back from its WARC record: the outcome the crawl stored for it."""
    crawl(awkward_site, drift_check=False)
    kinds = {}
    for path in sorted((tmp_path / "archive").glob("*.warc.gz")):
        for record in read_warc(path):
            kinds[record.capture.url] = read_response(record.exchange).kind
    base = awkward_site.base
    assert kinds[base + awkward_site.awkward["octet"].path] is Kind.ARTICLE
    assert kinds[base + awkward_site.awkward["moved"][0].path] is Kind.REDIRECT
    assert kinds[base + awkward_site.awkward["gone"].path] is Kind.GONE
    assert kinds[base + awkward_site.awkward["blocked"].path] is Kind.BLOCK_PAGE
    assert kinds[base + "/cz/llwzllzz/index_2.html"] is Kind.LISTING
    assert kinds[base + "/robots.txt"] is Kind.NOT_HTML  # served as an HTML page, but rules for crawlers
    assert kinds[base + awkward_site.awkward["broken"].path] is Kind.HTTP_ERROR


def test_an_article_at_a_url_no_template_declares_is_read_alike_by_crawl_and_import(site, collection, crawl,
                                                                                   db_path, tmp_path):
    """A start URL the crawl cannot tell by its shape is read for what it is, by the crawl as by the import."""
    story = collection.stories["llwzllzz"][0]
    site.route("/cz/llwzllzz/special.html", Reply.html(article_html(story)))
    crawled = crawl(site, site.base + "/cz/", site.base + "/cz/llwzllzz/special.html", drift_check=False)
    assert site.base + "/cz/llwzllzz/special.html" in {url for (url,) in rows(db_path, "select url from articles")}
    fresh = tmp_path / "imported.db"
    imported = import_files(str(fresh), sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz")),
                            drift_check=False)
    assert rows(fresh, ARTICLES) == rows(db_path, ARTICLES)
    assert imported.counts.new == crawled.counts.new == len(collection.all_stories()) + 1


@pytest.mark.parametrize("content_type", ["application/octet-stream", "", "text/plain"])
def test_html_under_a_generic_type_is_read_as_html(content_type):
    body = "<!DOCTYPE html><html><head><title>标题</title></head><body><h1>标题</h1>" + \
           "<p>正文第一段，内容足够长，可以算作一篇文章的正文。</p>" * 5 + "</body></html>"
    exchange = Exchange("https://example.cn/a/content/post_1.html", [], 200, "OK",
                        [("Content-Type", content_type)] if content_type else [], body.encode(),
                        datetime.now(UTC))
    assert read_response(exchange).kind is Kind.ARTICLE
    image = Exchange("https://example.cn/a.png", [], 200, "OK", [("Content-Type", content_type)],
                     b"\x89PNG\r\n\x1a\n" + bytes(100), datetime.now(UTC))
    assert read_response(image).kind is Kind.NOT_HTML


def test_every_time_the_archive_stores_is_utc_to_the_second(collection, site, crawl, db_path):
    crawl(site)
    CliRunner().invoke(cli, ["import", "--sample", "--db", str(db_path)])
    for table, columns in TIMESTAMPS.items():
        for column in columns:
            values = [v for (v,) in rows(db_path, f"select [{column}] from [{table}] where [{column}] is not null")]
            bad = [v for v in values if not UTC_TEXT.match(v)]
            assert bad == [], f"{table}.{column}: {bad[:3]}"


@pytest.mark.slow
def test_a_killed_run_is_closed_as_interrupted_by_the_next(site, collection, db_path):
    command = [sys.executable, "-m", "scraper", "crawl", site.base + "/cz/", "--db", str(db_path), "--delay", "0.2"]
    proc = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while site.count() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert rows(db_path, "select kind, status from runs") == [("crawl", "running")]
    result = CliRunner().invoke(cli, ["import", "--sample", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    (crawl_run, import_run) = rows(db_path, "select kind, status, error from runs order by id")
    assert crawl_run[:2] == ("crawl", "interrupted") and "closed by run 2" in crawl_run[2]
    assert import_run[:2] == ("import", "ok")


def test_a_run_refused_by_the_lock_leaves_no_row(site, collection, db_path):
    CliRunner().invoke(cli, ["import", "--sample", "--db", str(db_path)])
    with archive_lock(db_path, "reparse", alone=True):  # what every other run is refused by
        for args in (["crawl", site.base + "/cz/", "--delay", "0"], ["import", "--sample"], ["reparse"]):
            result = CliRunner().invoke(cli, [*args, "--db", str(db_path)])
            assert result.exit_code == 2 and "being written by" in result.output, result.output
    assert rows(db_path, "select kind, status from runs") == [("import", "ok")]
    assert site.count() == 0


def test_reparse_reads_through_the_same_path_and_records_its_run(site, collection, crawl, db_path):
    crawl(site, drift_check=False)
    before = rows(db_path, ARTICLES)
    result = CliRunner().invoke(cli, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert f"new 0, updated 0, unchanged {len(before)}, failed 0" in result.output
    assert rows(db_path, ARTICLES) == before
    assert rows(db_path, "select kind, status from runs order by id")[-1] == ("reparse", "ok")
