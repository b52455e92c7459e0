"""`scraper import`: WARC files and saved pages into archive.db, through the CLI, on real files."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

import pipelines.schema
from pipelines.schema import open_archive
from scraper.cli import cli
from tests.warc_helpers import HTML, REFERENCE_URL, changed_reference_html, reference_html, write_warc

GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
OTHER_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000002.html"


def run(*args: str):
    return CliRunner().invoke(cli, ["import", *args], catch_exceptions=False)


def rows(path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def dump(path) -> list[tuple]:
    tables = ["articles", "article_versions", "article_authors", "authors", "sources", "images", "captures",
              "articles_fts"]
    return [(t, rows(path, f"SELECT rowid, * FROM [{t}] ORDER BY rowid")) for t in tables]


def test_import_the_sample_then_browse_it(tmp_path):
    db = tmp_path / "archive.db"
    result = run("--sample", "--db", str(db))
    assert result.exit_code == 0, result.output
    summary = next(line for line in result.output.splitlines() if line.startswith(f"{db}: "))
    # The sample holds its column's listing and a Founder channel list (listings, not articles) and an image.
    assert summary.endswith(": new 5, updated 0, unchanged 1, failed 0, listing pages 2, not HTML 1")
    (articles,), = rows(db, "SELECT count(*) FROM articles")
    assert articles >= 2
    assert rows(db, "SELECT kind, status, new FROM runs") == [("import", "ok", articles)]

    async def browse():
        ds = Datasette([str(db)])
        found = await ds.client.get("/archive/articles.json", params={"_search": "党建", "_shape": "objects"})
        table = await ds.client.get("/archive/articles")
        return found.json()["rows"], table

    found, table = asyncio.run(browse())
    assert REFERENCE_URL in [r["url"] for r in found]
    assert table.status_code == 200 and "潮州库" in table.text


def test_same_import_twice_changes_nothing(tmp_path):
    db = tmp_path / "archive.db"
    assert run("--sample", "--db", str(db)).exit_code == 0
    before = dump(db)
    again = run("--sample", "--db", str(db))
    assert again.exit_code == 0
    assert "new 0, updated 0" in again.output
    assert dump(db) == before
    assert len(rows(db, "SELECT * FROM runs")) == 2  # each run is logged


def test_changed_page_updates_and_keeps_version(tmp_path):
    db = tmp_path / "archive.db"
    first = write_warc(tmp_path / "day1.warc.gz", [(REFERENCE_URL, HTML, reference_html())],
                       date="2026-01-01T08:00:00Z")
    second = write_warc(tmp_path / "day2.warc.gz", [(REFERENCE_URL, HTML, changed_reference_html())],
                        date="2026-01-02T08:00:00Z")
    assert "new 1" in run(str(first), "--db", str(db)).output
    assert "updated 1" in run(str(second), "--db", str(db)).output
    assert rows(db, "SELECT id, last_seen FROM articles") == [(1, "2026-01-02T08:00:00Z")]
    assert rows(db, "SELECT article_id, replaced_at FROM article_versions") == [(1, "2026-01-02T08:00:00Z")]
    assert "new 0, updated 0, unchanged 2" in run(str(first), str(second), "--db", str(db)).output


def test_saved_html_pages(tmp_path):
    db = tmp_path / "archive.db"
    page = tmp_path / "page.html"
    page.write_bytes(reference_html())
    result = run(str(page), "--url", REFERENCE_URL, "--db", str(db))
    assert result.exit_code == 0 and "new 1" in result.output
    assert rows(db, "SELECT url FROM articles") == [(REFERENCE_URL,)]
    assert rows(db, "SELECT saved_file IS NOT NULL, warc_file FROM captures") == [(1, None)]
    # A browser's "Save page as" leaves the address in a comment.
    saved = tmp_path / "saved.html"
    saved.write_bytes(f"<!-- saved from url=(0068){OTHER_URL} -->\n".encode() + reference_html())
    assert "new 1" in run(str(saved), "--db", str(db)).output
    # Without any URL the page is reported, not stored under a made-up address.
    bare = tmp_path / "bare.html"
    bare.write_bytes(reference_html().replace(b"canonical", b"x").replace(b"og:url", b"x"))
    result = run(str(bare), "--db", str(db))
    assert result.exit_code == 1
    assert "does not say its URL; give it with --url" in result.output
    assert run(str(page), str(bare), "--url", REFERENCE_URL, "--db", str(db)).exit_code == 2


def test_non_html_and_gone_responses_are_counted_not_stored(tmp_path):
    db = tmp_path / "archive.db"
    warc = write_warc(tmp_path / "mixed.warc", [
        ("https://gdxk.southcn.com/cz/a.gif", "image/gif", GIF),
        ("https://gdxk.southcn.com/cz/style.css", "text/css", b"body { color: red }"),
        (REFERENCE_URL, HTML, reference_html()),
        ("https://gdxk.southcn.com/cz/gone.html", HTML, b"<html><title>404</title></html>", "404 Not Found"),
    ], gzip=False)
    result = run(str(warc), "--db", str(db))
    assert result.exit_code == 0
    assert "new 1" in result.output and "not HTML 2" in result.output and "gone 1" in result.output


@pytest.mark.parametrize("compressed", [True, False])
def test_truncated_warc_keeps_good_records_and_reports_offset(tmp_path, compressed):
    db = tmp_path / "archive.db"
    whole = write_warc(tmp_path / "whole.warc", [
        (REFERENCE_URL, HTML, reference_html()),
        (OTHER_URL, HTML, reference_html()),
    ], gzip=compressed)
    data = whole.read_bytes()
    cut = tmp_path / ("cut.warc.gz" if compressed else "cut.warc")
    cut.write_bytes(data[: len(data) * 3 // 4])
    result = run(str(cut), "--db", str(db))
    assert result.exit_code == 1
    assert f"{cut}: damaged at byte offset " in result.output
    assert "new 1" in result.output
    assert rows(db, "SELECT url FROM articles") == [(REFERENCE_URL,)]
    assert rows(db, "SELECT status FROM runs") == [("errors",)]


def test_corrupt_warc_reports_file_and_offset(tmp_path):
    db = tmp_path / "archive.db"
    whole = write_warc(tmp_path / "whole.warc.gz", [(REFERENCE_URL, HTML, reference_html()),
                                                    (OTHER_URL, HTML, reference_html())])
    data = bytearray(whole.read_bytes())
    second = data.index(b"\x1f\x8b", 10)  # each record is its own gzip member: this is where the second starts
    data[second + 20:second + 60] = b"\x00" * 40
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(bytes(data))
    result = run(str(bad), "--db", str(db))
    assert result.exit_code == 1
    assert f"{bad}: damaged at byte offset {second}" in result.output
    assert rows(db, "SELECT url FROM articles") == [(REFERENCE_URL,)]


def test_locked_database(tmp_path, monkeypatch):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    monkeypatch.setattr(pipelines.schema, "BUSY_TIMEOUT", 0.05)
    other = sqlite3.connect(db)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        result = run("--sample", "--db", str(db))
    finally:
        other.rollback()
        other.close()
    assert result.exit_code == 1
    assert "database is locked" in result.output and "another process is writing" in result.output
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]


def test_read_only_database(tmp_path, monkeypatch):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    # As root a chmod'ed file stays writable, so open it the way a read-only file or mount is opened.
    monkeypatch.setattr(pipelines.schema, "connect", lambda path: sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    result = run("--sample", "--db", str(db))
    assert result.exit_code == 1
    assert "readonly" in result.output and "read-only" in result.output
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]


def test_full_disk_writes_nothing_half(tmp_path, monkeypatch):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    (pages,), = rows(db, "PRAGMA page_count")
    real_connect = pipelines.schema.connect

    def small_disk(path):
        conn = real_connect(path)
        conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # room for the run row, not for an article
        return conn

    monkeypatch.setattr(pipelines.schema, "connect", small_disk)
    result = run("--sample", "--db", str(db))
    assert result.exit_code == 1
    assert "disk is full" in result.output and "free some space" in result.output
    for table in ("articles", "articles_fts", "article_authors", "images", "captures"):
        assert rows(db, f"SELECT count(*) FROM [{table}]") == [(0,)], table


def test_schema_too_new_is_refused_by_the_command(tmp_path):
    db = tmp_path / "archive.db"
    open_archive(db).close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('chaozhou-archive', '099_from_the_future', '2030-01-01')")
    conn.close()
    result = run("--sample", "--db", str(db))
    assert result.exit_code == 1
    assert "made by a newer release" in result.output


def test_no_files_is_a_usage_error(tmp_path):
    result = run("--db", str(tmp_path / "a.db"))
    assert result.exit_code == 2
    assert "give one or more FILEs" in result.output


def test_error_statuses_in_a_warc_are_counted_not_failures(tmp_path):
    """A 500 or a 401 the site sent is what the WARC holds, not a page the import failed to read."""
    db = tmp_path / "archive.db"
    warc = write_warc(tmp_path / "errors.warc.gz", [
        (REFERENCE_URL, HTML, reference_html()),
        ("https://gdxk.southcn.com/cz/a.html", HTML, b"<html><body>Internal Server Error</body></html>",
         "500 Internal Server Error"),
        ("https://gdxk.southcn.com/cz/b.html", HTML, b"<html><body>Unauthorized</body></html>", "401 Unauthorized"),
    ])
    result = run(str(warc), "--db", str(db), "--no-drift-check")
    assert result.exit_code == 0, result.output
    assert "new 1" in result.output and "failed 0" in result.output and "HTTP errors 2" in result.output
    assert rows(db, "SELECT stage, reason FROM dropped ORDER BY url") == [("http-error", "HTTP 500"),
                                                                          ("http-error", "HTTP 401")]
