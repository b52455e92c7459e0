"""A crawl that cannot reach the site says what failed (name lookup, connection refused, no answer), once, exits
5, and keeps the cause in the run's row: against a name under .invalid (RFC 6761: never resolves), a loopback port
nothing listens on, and a loopback server that accepts and says nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from pipelines.run import Status
from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy, NoAnswer
from tests import fault_server as fs
from tests.collection import Collection

POLICY = FetchPolicy(connect_timeout=1, read_timeout=0.5, deadline=2, retries=1, body_retries=0, backoff=0.01)
UNRESOLVABLE = "http://chaozhou-archive.invalid/cz/"


def crawl_of(url: str, db) -> object:
    return run_crawl(CrawlOptions([url], db_path=str(db), delay=0, policy=POLICY, drift_check=False))


def run_row(db) -> tuple[str, str]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select status, error from runs order by id desc limit 1").fetchone()
    finally:
        conn.close()


def check_unreachable(stats, db, why: NoAnswer) -> None:
    assert stats.exit_code == 5 and stats.stopped is Status.UNREACHABLE
    assert stats.reason.startswith("could not reach ") and str(why) in stats.reason, stats.reason
    assert run_row(db) == (Status.UNREACHABLE.value, stats.reason)
    conn = sqlite3.connect(db)
    assert conn.execute("select state, attempts from frontier").fetchall() == [("pending", 0)], \
        "the start page waits, its tries unspent, for a run that can reach the site"
    conn.close()


def test_a_name_that_does_not_resolve(tmp_path):
    db = tmp_path / "archive.db"
    check_unreachable(crawl_of(UNRESOLVABLE, db), db, NoAnswer.NAME_LOOKUP)


def test_a_refused_connection(tmp_path):
    db = tmp_path / "archive.db"
    check_unreachable(crawl_of(f"http://127.0.0.1:{fs.closed_port()}/cz/", db), db, NoAnswer.REFUSED)


def test_a_server_that_accepts_and_says_nothing(tmp_path):
    db = tmp_path / "archive.db"
    with fs.FaultServer(max_wait=5) as server:
        server.route("/robots.txt", fs.stall_headers())
        stats = crawl_of(server.base + "/cz/", db)
    check_unreachable(stats, db, NoAnswer.TIMEOUT)


def test_a_site_lost_mid_run_stops_the_run_after_three_unanswered_requests(tmp_path):
    db = tmp_path / "archive.db"
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 6)
    with fs.FaultServer(max_wait=5) as server:
        coll.publish(server)
        stories = coll.stories["llwzllzz"]
        for story in stories:
            server.route(story.path, fs.stall_headers())
        stats = crawl_of(server.base + "/cz/llwzllzz/", db)
        asked = {h.path for h in server.hits}
    assert stats.exit_code == 5 and "timed out with no answer" in stats.reason and "3 requests in a row" in stats.reason
    assert sum(1 for s in stories if s.path in asked) == 3, "the run stopped instead of waiting on every article"
    assert run_row(db)[0] == Status.UNREACHABLE.value


def test_a_refused_robots_txt_is_still_a_refusal(tmp_path):
    db = tmp_path / "archive.db"
    with fs.FaultServer() as server:
        server.route("/robots.txt", fs.respond(503))
        stats = crawl_of(server.base + "/cz/", db)
    assert stats.exit_code == 3 and "HTTP 503" in stats.reason
    assert run_row(db) == (Status.REFUSING.value, stats.reason)


@pytest.mark.slow  # the crawl's own retries and back-off: about 15 s
def test_the_command_says_once_what_failed_and_shows_its_retries(tmp_path):
    db = tmp_path / "archive.db"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    done = subprocess.run([sys.executable, "-m", "scraper", "crawl", UNRESOLVABLE, "--db", str(db)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    stopped = [line for line in done.stderr.splitlines() if line.startswith("Stopped:")]
    assert len(stopped) == 1 and "name lookup failed" in stopped[0] and "scraper crawl --sample" in stopped[0]
    assert sum("name lookup failed" in line for line in done.stderr.splitlines()) == 1 + FetchPolicy().retries, \
        "each retry is shown as it waits, and the cause is said once at the end"
    status, error = run_row(db)
    assert status == "unreachable" and "name lookup failed" in error
    counts = json.loads(sqlite3.connect(db).execute("select counts from runs").fetchone()[0])
    assert counts["requests"] == 1
