"""`scraper crawl --sample`: the main job on a machine with no route to the site. The command serves the bundled
pages on 127.0.0.1 (robots.txt, listing pages, articles) and crawls them with the very code a real crawl runs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from importlib import resources
from urllib.parse import urlsplit

from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from scraper.cli import cli
from scraper.importer import import_files
from tests.archive_checks import warc_problems


def test_crawl_sample_stores_the_sample_articles_and_writes_warc(tmp_path):
    db = tmp_path / "archive.db"
    done = subprocess.run([sys.executable, "-m", "scraper", "crawl", "--sample", "--db", str(db)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "new 3," in done.stdout and "disallowed by robots.txt 1" in done.stdout
    conn = sqlite3.connect(db)
    crawled = {urlsplit(url).path: title for url, title in conn.execute("select url, title from articles")}
    assert conn.execute("select kind, status from runs").fetchall() == [("crawl", "ok")]
    conn.close()

    # The same pages, read from the bundled WARC by `scraper import --sample`, give the same articles.
    imported_db = tmp_path / "imported.db"
    import_files(str(imported_db), [str(resources.files("scraper").joinpath("samples/sample.warc.gz"))],
                 drift_check=False)
    conn = sqlite3.connect(imported_db)
    imported = {urlsplit(url).path: title for url, title in conn.execute("select url, title from articles")
                if urlsplit(url).path in crawled}
    conn.close()
    assert crawled == imported and len(crawled) == 3

    uris = set()
    for path in sorted((tmp_path / "archive").glob("*.warc.gz")):
        with open(path, "rb") as f:
            uris |= {urlsplit(r.rec_headers.get_header("WARC-Target-URI")).path for r in ArchiveIterator(f)
                     if r.rec_type == "response"}
    assert {"/robots.txt", "/cz/", "/cz/llwzllzz/index_2.html", *crawled} <= uris
    assert not warc_problems(tmp_path / "archive")


def test_crawl_sample_takes_no_urls(tmp_path):
    result = CliRunner().invoke(cli, ["crawl", "--sample", "https://gdxk.southcn.com/cz/", "--db",
                                      str(tmp_path / "a.db")])
    assert result.exit_code == 2 and "--sample" in result.output


def test_crawl_sample_with_its_port_taken_says_so_and_stores_nothing_twice(tmp_path):
    import socket

    from scraper.sample import SAMPLE_PORT
    db = tmp_path / "archive.db"
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", SAMPLE_PORT))
        taken.listen()
        done = subprocess.run([sys.executable, "-m", "scraper", "crawl", "--sample", "--db", str(db)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and f":{SAMPLE_PORT}" in done.stderr
    assert "Traceback" not in done.stderr and not db.exists()
