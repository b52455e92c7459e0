"""The crawl end to end against a reconstructed collection served on 127.0.0.1."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from pipelines.warc import read_record
from scraper.cli import cli
from tests.collection import Collection, article_html
from tests.site_server import Reply, SiteServer


def article_urls(tmp_path) -> list[str]:
    db = sqlite_utils.Database(tmp_path / "archive.db")
    return sorted(r["url"] for r in db.query("select url from articles"))


def warc_files(tmp_path) -> list[Path]:
    return sorted((tmp_path / "archive").glob("*.warc.gz"))


def test_full_crawl_stores_every_article_once(site, collection, tmp_path, crawl):
    stats = crawl(site)
    expected = sorted(site.base + s.path for s in collection.all_stories())
    assert article_urls(tmp_path) == expected
    assert (stats.counts.new, stats.counts.failed, stats.exit_code) == (16, 0, 0)
    assert stats.counts.listing == 1 + 3 + 1  # home, llwzllzz pages 1-3, dsj page 1
    for story in collection.all_stories():
        assert site.count(story.path) == 1, f"{story.path} fetched more than once"
    assert site.count("/robots.txt") == 1
    assert not any(hit.path.startswith("/zh/") for hit in site.hits), "left the collection's path"
    db = sqlite_utils.Database(tmp_path / "archive.db")
    row = next(db.query("select title, published_at from articles where url like '%post_100001.html'"))
    assert row["title"] == "潮州理论文章第100001号 强化机关政治建设"
    assert row["published_at"].startswith("2020-10-")


def test_user_agent_and_robots_are_obeyed(site, collection, tmp_path, crawl):
    collection.publish(site, robots="User-agent: *\nDisallow: /cz/dsj/\n")
    stats = crawl(site)
    assert not any(hit.path.startswith("/cz/dsj/") for hit in site.hits)
    assert stats.counts.robots >= 1
    assert all("chaozhou-archive" in hit.headers["User-Agent"] for hit in site.hits)


def test_transient_errors_are_retried_and_rate_limits_obeyed(site, collection, tmp_path, crawl):
    flaky, limited = collection.stories["llwzllzz"][0], collection.stories["dsj"][0]
    page = site.routes[flaky.path][0]
    site.route(flaky.path, Reply(503), page)
    site.route(limited.path, Reply(429, headers={"Retry-After": "1"}), site.routes[limited.path][0])
    stats = crawl(site)
    assert stats.counts.new == 16 and stats.counts.retried >= 2 and stats.exit_code == 0
    hits = [h.at for h in site.hits if h.path == limited.path]
    assert len(hits) == 2 and hits[1] - hits[0] >= 0.9


def test_persistent_failure_exits_1_and_keeps_the_url_for_later(site, collection, tmp_path, crawl):
    broken = collection.stories["dsj"][1]
    site.route(broken.path, Reply(500))
    stats = crawl(site)
    assert stats.exit_code == 1 and stats.counts.new == 15
    db = sqlite_utils.Database(tmp_path / "archive.db")
    row = next(db.query("select state, last_error, next_try from frontier where url = ?", [site.base + broken.path]))
    assert row["state"] == "pending" and "500" in row["last_error"] and row["next_try"]


def test_off_site_redirect_is_never_requested(site, collection, tmp_path, crawl):
    with SiteServer() as elsewhere:
        elsewhere.route("/cz/llwzllzz/content/post_1.html", Reply.html("<p>外站</p>"))
        moved = collection.stories["llwzllzz"][2]
        site.route(moved.path, Reply(302, headers={"Location": elsewhere.base + "/cz/llwzllzz/content/post_1.html"}))
        crawl(site)
        assert elsewhere.count() == 0
    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert next(db.query("select state from frontier where url = ?", [site.base + moved.path]))["state"] == \
        "out-of-scope"


def test_second_run_asks_only_for_what_may_have_changed(site, collection, tmp_path, crawl):
    crawl(site)
    new_stories = collection.add("llwzllzz", 3)
    collection.publish(site)
    site.hits.clear()
    stats = crawl(site)
    assert stats.counts.new == 3 and stats.counts.unchanged == 0
    asked = sorted(h.path for h in site.hits)
    # robots.txt + home + the first page of each column (which holds the new ones) + the new articles
    expected = sorted(["/robots.txt", "/cz/", "/cz/llwzllzz/", "/cz/dsj/"] + [s.path for s in new_stories])
    assert asked == expected


def test_recent_articles_are_rechecked_with_conditional_get(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 2, year=2026)
    fresh = coll.stories["llwzllzz"][0]
    fresh.published = time.strftime("%Y-%m-%d 08:00:00")
    coll.publish(site)
    site.route(fresh.path, Reply.html(site.routes[fresh.path][0].body, ETag='"v1"'))
    crawl(site)
    site.route(fresh.path, Reply(304, b"", {"ETag": '"v1"'}))
    site.hits.clear()
    stats = crawl(site)
    conditional = [h for h in site.hits if h.path == fresh.path]
    assert len(conditional) == 1 and conditional[0].headers.get("If-None-Match") == '"v1"'
    assert stats.counts.unchanged == 1


def test_a_recent_article_behind_a_redirect_is_rechecked_where_it_is_stored(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    moved, other = coll.add("llwzllzz", 2)
    moved.published = time.strftime("%Y-%m-%d 08:00:00")
    coll.publish(site)
    moved_to = moved.path.replace("/post_", "/post_9")
    site.route(moved.path, Reply(301, headers={"Location": moved_to}))
    site.route(moved_to, Reply.html(article_html(moved)))
    crawl(site)
    assert article_urls(tmp_path) == sorted([site.base + moved_to, site.base + other.path])
    crawl(site)
    assert site.count(moved_to) == 2, "the recent article was not asked for again"


def test_every_warc_passes_warcio_check_and_captures_point_at_records(site, collection, tmp_path, crawl):
    crawl(site)
    files = warc_files(tmp_path)
    assert files
    for path in files:
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    db = sqlite_utils.Database(tmp_path / "archive.db")
    captures = list(db.query("select url, warc_file, warc_offset from captures where status = 200"))
    assert len(captures) >= 16 + 5
    for cap in captures:
        uri = read_record(tmp_path / "archive" / cap["warc_file"], cap["warc_offset"]).capture.url
        assert uri == cap["url"]


def test_reparse_rebuilds_the_same_articles_without_the_network(site, collection, tmp_path, crawl):
    crawl(site)
    db_path = tmp_path / "archive.db"
    db = sqlite_utils.Database(db_path)
    before = list(db.query("select id, url, title, body, published_at, content_hash from articles order by id"))
    db.execute("update articles set title = 'x', body = 'y', content_hash = 'z'")
    db.conn.commit()
    site.hits.clear()
    result = CliRunner().invoke(cli, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert site.count() == 0
    after = list(sqlite_utils.Database(db_path).query(
        "select id, url, title, body, published_at, content_hash from articles order by id"))
    assert after == before


def test_crawl_command_prints_a_summary_and_exit_code(site, collection, tmp_path):
    result = CliRunner().invoke(cli, ["crawl", site.base + "/cz/", "--db", str(tmp_path / "archive.db"),
                                      "--delay", "0", "--max-articles", "4"])
    assert result.exit_code == 0, result.output
    assert "new 4" in result.output and "listing pages" in result.output
    assert f"] listing {site.base}/cz/\n" in result.output  # one status line per request, as a user reads it


@pytest.mark.slow
def test_kill_9_then_resume_loses_nothing(site, collection, tmp_path):
    db_path = tmp_path / "archive.db"
    command = [sys.executable, "-m", "scraper", "crawl", site.base + "/cz/", "--db", str(db_path), "--delay", "0.05"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while site.count() < 9 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(article_urls(tmp_path)) < 16, "the kill came too late to test anything"
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert article_urls(tmp_path) == sorted(site.base + s.path for s in collection.all_stories())
    for path in warc_files(tmp_path):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout
    assert not list((tmp_path / "archive").glob("*.open"))
