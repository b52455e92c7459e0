"""Crash and concurrency: kill -9 at random moments, twenty times over one crawl, and Datasette reading while a
crawl writes.

The kills are seeded (KILL_SEED): each round waits for a drawn number of requests of the new process, then a
drawn pause, then SIGKILL; the test checks that every kill found the crawl running. The end state must be exactly
what one uninterrupted crawl gives: the expected articles, once each, whole WARC files, and capture rows that all
point at their records.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy
from tests.archive_checks import capture_problems, integrity, warc_problems
from tests.collection import Collection
from tests.fault_server import FaultServer

ROOT = Path(__file__).resolve().parent.parent
KILL_SEED = 20260516
KILLS = 20

pytestmark = pytest.mark.slow


def big_collection() -> Collection:
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 90)
    coll.add("dsj", 60)
    return coll


def test_kill_9_twenty_times_loses_nothing_and_duplicates_nothing(tmp_path):
    rng = random.Random(KILL_SEED)
    coll = big_collection()
    db_path, warc_dir = tmp_path / "archive.db", tmp_path / "archive"
    started = time.monotonic()
    with FaultServer() as server:
        coll.publish(server)
        command = [sys.executable, "-m", "scraper", "crawl", server.base + "/cz/", "--db", str(db_path),
                   "--delay", "0.02", "--no-drift-check"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        kills = []
        for _ in range(KILLS):
            requests, pause = rng.randint(3, 12), rng.uniform(0.0, 0.04)
            before = server.count()
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while server.count() < before + requests and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(pause)
            running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            assert running and proc.returncode == -signal.SIGKILL, \
                f"kill {len(kills) + 1} came after the crawl had ended ({server.count() - before} requests)"
            kills.append(server.count() - before)
        stored = _count(db_path, "select count(*) from articles")
        assert stored < len(coll.all_stories()) - 10, "the kills came too late: the crawl was nearly complete"
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stdout + final.stderr
        expected = sorted(server.base + s.path for s in coll.all_stories())
    assert time.monotonic() - started < 90
    conn = sqlite3.connect(db_path)
    urls = sorted(u for (u,) in conn.execute("select url from articles"))
    assert urls == expected  # exactly these: none lost, none extra, none twice
    titles = dict(conn.execute("select url, title from articles"))
    assert all(titles[server.base + s.path] == s.title for s in coll.all_stories())
    assert conn.execute("select count(*) from article_versions").fetchone() == (0,), "a re-fetch made a version"
    assert conn.execute("select count(*) - count(distinct record_id) from captures").fetchone() == (0,)
    assert conn.execute("select count(*) from frontier where kind = 'article' and state != 'done'").fetchone() == \
        (0,)
    assert conn.execute("select count(*) from runs").fetchone() == (KILLS + 1,)
    # Each killed run was closed by the one after it; only the last one finished.
    statuses = [s for (s,) in conn.execute("select status from runs order by id")]
    assert statuses == ["interrupted"] * KILLS + ["ok"], statuses
    conn.close()
    assert integrity(db_path) == "ok"
    assert warc_problems(warc_dir) == []
    assert capture_problems(db_path, warc_dir) == []


def _count(db_path: Path, sql: str) -> int:
    if not db_path.exists():
        return 0
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # killed before the schema was made
        return 0
    finally:
        conn.close()


# -- Datasette reading while a crawl writes ----------------------------------------------------------------------
WHOLE_ARTICLES = """
select a.id, length(a.body) as body_length,
  (select count(*) from articles_fts f where f.rowid = a.id) as indexed,
  (select count(*) from captures c where c.id = a.capture_id) as captured,
  (select count(*) from article_authors aa where aa.article_id = a.id) as authors
from articles a
"""


def test_datasette_reads_while_a_crawl_writes(tmp_path):
    from datasette.app import Datasette

    coll = big_collection()
    db_path = tmp_path / "archive.db"
    policy = FetchPolicy(backoff=0.01, retries=1, connect_timeout=2, read_timeout=3, deadline=10)
    with FaultServer() as server:
        coll.publish(server)
        options = CrawlOptions([server.base + "/cz/"], db_path=str(db_path), delay=0, policy=policy,
                               drift_check=False)
        # The schema first, so that Datasette opens a database that has the tables; then the crawl in a thread.
        run_crawl(CrawlOptions([server.base + "/cz/"], db_path=str(db_path), delay=0, policy=policy,
                               max_articles=1, drift_check=False))
        outcome: dict = {}

        def crawl():
            try:
                outcome["stats"] = run_crawl(options)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = exc

        writer = threading.Thread(target=crawl)
        writer.start()
        reads = asyncio.run(read_while(Datasette([str(db_path)]), writer))
        writer.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["stats"].exit_code == 0
    assert reads["requests"] >= 20 and reads["distinct_counts"] >= 3, reads  # the reads overlapped the writes
    assert reads["problems"] == [], reads["problems"][:5]
    conn = sqlite3.connect(db_path)
    assert conn.execute("select count(*) from articles").fetchone() == (len(coll.all_stories()),)
    conn.close()


async def read_while(ds, writer: threading.Thread) -> dict:
    problems, counts, requests = [], set(), 0
    while writer.is_alive() or requests < 20:
        for path in ("/archive/articles.json?_size=5", "/archive.json?_shape=array&sql=" + _quote(WHOLE_ARTICLES)):
            response = await ds.client.get(path)
            requests += 1
            if response.status_code != 200 or "locked" in response.text:
                problems.append(f"{path}: HTTP {response.status_code}: {response.text[:200]}")
                continue
            if path.startswith("/archive.json"):
                rows = response.json()
                counts.add(len(rows))
                problems += [f"article {r['id']} is not whole: {r}" for r in rows
                             if not (r["body_length"] and r["indexed"] == 1 and r["captured"] == 1
                                     and r["authors"] == 1)]
        await asyncio.sleep(0.005)
    return {"problems": problems, "requests": requests, "distinct_counts": len(counts)}


def _quote(sql: str) -> str:
    from urllib.parse import quote

    return quote(" ".join(sql.split()))
