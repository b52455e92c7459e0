"""A crawl, imports and `scraper serve` on one archive at once, in real processes on a real SQLite file.

The overlap is made certain, not left to timing: the crawl is held mid-run at one article (the loopback server
keeps the response until the test lets it go), and the test itself holds SQLite's write lock (BEGIN IMMEDIATE)
while every job is at a write. A job that gave up on the lock at once (a deferred BEGIN that reads, then writes,
gets SQLITE_BUSY in WAL mode without waiting) would be seen to end while the lock is held; a job that waits
carries on when it is released.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines import schema
from pipelines.errors import ArchiveBusy
from pipelines.lock import archive_lock
from pipelines.schema import open_archive
from scraper.cli import cli
from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy
from tests.collection import Collection, article_html
from tests.fault_server import Conn, FaultServer, html
from tests.site_server import SiteServer

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
POLICY = FetchPolicy(backoff=0.01, retries=1, connect_timeout=2, read_timeout=10, deadline=20)
HOLD = 1.0  # seconds the test keeps SQLite's write lock while every job is at a write: well under the busy timeout
WAIT = 60  # seconds any step may take before the test gives up (never reached when all is well)


def make_collection(columns: dict[str, int]) -> Collection:
    coll = Collection(per_page=5)
    for column, count in columns.items():
        coll.add(column, count)
    return coll


def warc_of(server, coll: Collection, folder: Path) -> tuple[list[str], list[str]]:
    """A crawl of ``coll`` on ``server`` into its own archive: (its WARC files, the article URLs they hold)."""
    coll.publish(server)
    folder.mkdir()
    db = folder / "source.db"
    result = run_crawl(CrawlOptions([server.base + "/cz/"], db_path=str(db), delay=0, policy=POLICY,
                                    drift_check=False))
    assert result.exit_code == 0
    return sorted(str(p) for p in (folder / "archive").glob("*.warc.gz")), urls_of(server, coll)


def urls_of(server, coll: Collection) -> list[str]:
    return sorted(server.base + s.path for s in coll.all_stories())


def start(*args: str, quiet: bool = False) -> subprocess.Popen:
    """``scraper ARGS`` in a process of its own; ``quiet``: its output is not kept (a server's request log)."""
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen([sys.executable, "-m", "scraper", *args], env=ENV, stdout=output, stderr=output,
                            text=True)


def finished(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, out + err


def has_open(proc: subprocess.Popen, path: Path) -> bool:
    """Whether the process has ``path`` open: a job has opened the archive and is about to write to it."""
    try:
        return any(os.readlink(f"/proc/{proc.pid}/fd/{fd}") == str(path)
                   for fd in os.listdir(f"/proc/{proc.pid}/fd"))
    except OSError:  # the process ended, or closed a descriptor while we looked
        return False


def wait_for(condition, what: str, *procs: subprocess.Popen) -> None:
    """Wait until ``condition()``; fail at once, with what it said, if one of ``procs`` ends first."""
    deadline = time.monotonic() + WAIT
    while not condition():
        for proc in procs:
            if proc.poll() is not None:
                code, output = finished(proc)
                pytest.fail(f"{proc.args[3]} ended (exit {code}) before {what}: {output[-600:]}")
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


@contextmanager
def write_lock_held(db: Path) -> Iterator[None]:
    """SQLite's write lock on ``db``, as another writer holds it mid-transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def hold_while_waiting(db: Path, *procs: subprocess.Popen, ready) -> float:
    """Hold the write lock until every job is at a write (``ready()``), then HOLD seconds more (``all_waited``).
    Returns the seconds held."""
    with write_lock_held(db):
        held = time.monotonic()
        wait_for(ready, "every job was at a write", *procs)
        all_waited(*procs)
    return time.monotonic() - held


def all_waited(*procs: subprocess.Popen) -> None:
    """HOLD seconds more with the lock held: every job must still be running (one that did not wait has ended)."""
    time.sleep(HOLD)
    ended = [(p.args[3], *finished(p)) for p in procs if p.poll() is not None]
    assert not ended, f"a job gave up while another held the write lock: {ended}"


def stored(db: Path, sql: str = "select url from articles order by url") -> list:
    conn = sqlite3.connect(db)
    try:
        return [row[0] if len(row) == 1 else row for row in conn.execute(sql)]
    finally:
        conn.close()


class Gate:
    """The n-th article the crawl asks for is answered only once the test lets it: the crawl is held mid-run, in a
    fetch, whichever article that is."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reached, self.release, self.sent = threading.Event(), threading.Event(), threading.Event()


def gate_articles(server: FaultServer, coll: Collection, *gates: Gate) -> None:
    """Serve every article of ``coll``, counting the requests for them, each gate holding the one it numbers."""
    asked = iter(range(1, 10_000))
    lock = threading.Lock()

    def behaviour(page: str):
        def run(conn: Conn) -> None:
            with lock:
                number = next(asked)
            gate = next((g for g in gates if g.n == number), None)
            if gate is not None:
                gate.reached.set()
                if not gate.release.wait(WAIT):
                    return
            html(page)(conn)
            if gate is not None:
                gate.sent.set()
        return run

    for story in coll.all_stories():
        server.route(story.path, behaviour(article_html(story)))


def crawl_and_import(tmp_path: Path, site: SiteServer, reads=None) -> dict:
    """A crawl held mid-run at its 8th article; an import of another site's WARC starts; the test holds the write
    lock until both are at a write, then lets both go; the crawl is held again at its 20th article until the
    import has finished. ``reads(db)``: a reader run alongside (Datasette)."""
    imported, import_urls = warc_of(site, make_collection({"llwzllzz": 12, "dsj": 4}), tmp_path / "source")
    db = tmp_path / "archive.db"
    live = make_collection({"llwzllzz": 20, "dsj": 10})
    first, second = Gate(8), Gate(20)
    figures: dict = {}
    with FaultServer() as server:
        live.publish(server)
        gate_articles(server, live, first, second)
        started = time.monotonic()
        crawl = start("crawl", server.base + "/cz/", "--db", str(db), "--delay", "0", "--no-drift-check")
        wait_for(first.reached.is_set, "the crawl was mid-run", crawl)
        reader = reads(db) if reads else None
        before = server.count()
        with write_lock_held(db):
            held = time.monotonic()
            importing = start("import", *imported, "--db", str(db), "--no-drift-check")
            wait_for(lambda: has_open(importing, db), "the import opened the archive", crawl, importing)
            first.release.set()  # the crawl reads the article and goes to store it
            wait_for(first.sent.is_set, "the held article was sent", crawl, importing)
            all_waited(crawl, importing)
            assert server.count() <= before + 1, "the crawl went on without storing what it read"
        figures["held"] = (held, time.monotonic())
        import_code, import_out = finished(importing)
        # The crawl is still running (held at its 20th article at the latest): its row must say so, not be taken
        # for one a killed process left.
        assert crawl.poll() is None and not second.sent.is_set()
        assert stored(db, "select kind, status, error from runs order by id") == [("crawl", "running", None),
                                                                                  ("import", "ok", None)]
        second.release.set()
        crawl_code, crawl_out = finished(crawl)
        figures["seconds"] = time.monotonic() - started
        figures["requests"] = server.count()
        if reader:
            figures["reads"] = reader()
        crawl_urls = urls_of(server, live)
    assert (crawl_code, import_code) == (0, 0), crawl_out + import_out
    assert stored(db) == sorted(crawl_urls + import_urls)
    assert stored(db, "select kind, status from runs order by id") == [("crawl", "ok"), ("import", "ok")]
    assert stored(db, "pragma integrity_check") == ["ok"]
    return figures


def test_a_crawl_and_an_import_at_once_both_finish(tmp_path, site):
    figures = crawl_and_import(tmp_path, site)
    held, let_go = figures["held"]
    print(f"crawl + import: held {let_go - held:.2f} s, both done in {figures['seconds']:.2f} s, "
          f"{figures['requests']} requests")


@pytest.mark.parametrize("archive", ["current", "release 1"])
def test_two_imports_at_once_both_finish(tmp_path, site, archive):
    # "release 1": both find an archive of schema step 001 and upgrade it at once; each step must run once.
    first, first_urls = warc_of(site, make_collection({"llwzllzz": 12, "dsj": 4}), tmp_path / "one")
    with FaultServer() as other:
        second, second_urls = warc_of(other, make_collection({"llwzllzz": 10, "dsj": 10}), tmp_path / "two")
    db = tmp_path / "archive.db"
    if archive == "current":
        open_archive(db).close()
    else:
        shutil.copy(ROOT / "tests" / "data" / "archive-schema-001.db", db)
    already, runs = stored(db), stored(db, "select kind, status from runs order by id")
    imports = [start("import", *files, "--db", str(db), "--no-drift-check") for files in (first, second)]
    started = time.monotonic()
    held = hold_while_waiting(db, *imports, ready=lambda: all(has_open(p, db) for p in imports))
    results = [finished(p) for p in imports]
    seconds = time.monotonic() - started
    assert [code for code, _ in results] == [0, 0], [out for _, out in results]
    assert stored(db) == sorted(already + first_urls + second_urls)
    assert stored(db, "select kind, status from runs order by id") == [*runs, ("import", "ok"), ("import", "ok")]
    assert stored(db, "select name from _sqlite_migrations") == schema.known_migrations()
    print(f"two imports ({archive}): held {held:.2f} s, both done in {seconds:.2f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


ALL_WHOLE = ("select count(*) as articles, sum(body is null or (select count(*) from captures c "
             "where c.id = a.capture_id) = 0) as broken from articles a")


@pytest.mark.slow
def test_a_crawl_an_import_and_serve_at_once_all_finish(tmp_path, site):
    port = free_port()
    serving: list[subprocess.Popen] = []

    def reads(db: Path):
        """`scraper serve` on the archive, asked again and again over HTTP while the jobs run."""
        serve = start("serve", "--db", str(db), "--port", str(port), quiet=True)
        serving.append(serve)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base + "/-/versions.json"), "Datasette answered", serve)
        done, log = threading.Event(), {"reads": [], "problems": [], "slowest": 0.0, "counts": set()}

        def loop():
            query = urllib.parse.quote(" ".join(ALL_WHOLE.split()))
            while not done.is_set():
                for path in ("/archive/articles.json?_size=5", f"/archive.json?_shape=array&sql={query}"):
                    asked = time.monotonic()
                    try:
                        with urllib.request.urlopen(base + path, timeout=WAIT) as response:
                            body = json.loads(response.read())
                    except Exception as exc:  # noqa: BLE001 - every failure is a finding, reported below
                        log["problems"].append(f"{path}: {exc}")
                        continue
                    log["slowest"] = max(log["slowest"], time.monotonic() - asked)
                    log["reads"].append((asked, time.monotonic()))
                    if isinstance(body, list):
                        log["counts"].add(body[0]["articles"])
                        if body[0]["broken"]:
                            log["problems"].append(f"a half-stored article: {body}")

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()

        def stop() -> dict:
            done.set()
            thread.join(WAIT)
            return {**log, "counts": len(log["counts"])}
        return stop

    try:
        figures = crawl_and_import(tmp_path, site, reads)
    finally:
        for serve in serving:
            serve.terminate()
            serve.wait(WAIT)
    reads, (held, let_go) = figures.pop("reads"), figures["held"]
    assert reads["problems"] == [], reads["problems"][:5]
    assert reads["counts"] >= 3, reads  # the reads overlapped the writes
    while_held = [(asked, answered) for asked, answered in reads["reads"] if held <= asked and answered <= let_go]
    assert while_held, reads  # readers never wait, even for a writer holding the lock
    print(f"crawl + import + serve: held {let_go - held:.2f} s, done in {figures['seconds']:.2f} s, "
          f"{figures['requests']} requests, {len(reads['reads'])} reads ({len(while_held)} while the write lock "
          f"was held), slowest {reads['slowest']:.2f} s, {reads['counts']} different article counts seen")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_write_that_waits_too_long_is_one_line_and_loses_nothing(tmp_path, site, monkeypatch):
    files, urls = warc_of(site, make_collection({"llwzllzz": 6}), tmp_path / "source")
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", "--sample", "--db", str(db)]).exit_code == 0
    before = stored(db, "select url, title, body from articles order by url")
    monkeypatch.setattr(schema, "BUSY_TIMEOUT", 0.2)
    with write_lock_held(db):
        result = CliRunner().invoke(cli, ["import", *files, "--db", str(db), "--no-drift-check"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "database is locked" in errors[0] and "another process is writing" in errors[0]
    assert "Traceback" not in result.output
    assert stored(db, "select url, title, body from articles order by url") == before
    assert stored(db, "pragma integrity_check") == ["ok"]


def refusal(db: str, job: str, **how: bool) -> str:
    """What ``archive_lock`` says when it refuses a run of ``job`` ('' if it does not)."""
    try:
        with archive_lock(db, job, **how):
            return ""
    except ArchiveBusy as exc:
        return str(exc)


def test_which_runs_share_an_archive(tmp_path):
    db = str(tmp_path / "archive.db")
    with archive_lock(db, "crawl", one_at_a_time=True) as alone:
        assert alone
        with archive_lock(db, "import") as first_import, archive_lock(db, "import") as second_import:
            assert not first_import and not second_import  # a crawl and imports write at once
        assert re.search(r"being written by pid \d+ \(crawl\); wait for that crawl",
                         refusal(db, "crawl", one_at_a_time=True))
        assert "a reparse needs the archive to itself" in refusal(db, "reparse", alone=True)
    with archive_lock(db, "reparse", alone=True) as alone:
        assert alone
        assert re.search(r"being written by pid \d+ \(reparse\)", refusal(db, "crawl", one_at_a_time=True))
        assert re.search(r"being written by pid \d+ \(reparse\)", refusal(db, "import"))
    assert refusal(db, "crawl", one_at_a_time=True) == ""  # every refusal let go of what it took


def test_every_transaction_takes_the_write_lock_as_it_begins(site, collection, db_path, monkeypatch):
    # A deferred BEGIN anywhere (ours or the libraries') is a write that cannot wait for another writer.
    begun: list[str] = []
    connect = schema.connect

    def traced(path: str) -> sqlite3.Connection:
        conn = connect(path)
        conn.set_trace_callback(lambda sql: begun.append(" ".join(sql.upper().split()))
                                if sql.lstrip().upper().startswith("BEGIN") else None)
        return conn

    monkeypatch.setattr(schema, "connect", traced)
    for args in (["crawl", site.base + "/cz/", "--delay", "0"], ["import", "--sample"], ["reparse"]):
        result = CliRunner().invoke(cli, [*args, "--db", str(db_path)])
        assert result.exit_code == 0, result.output
    assert len(begun) > len(collection.all_stories()) and set(begun) == {"BEGIN IMMEDIATE"}, set(begun)


def test_an_archive_reached_through_a_link_is_locked_as_itself(tmp_path):
    db = tmp_path / "archive.db"
    db.touch()
    (tmp_path / "current").mkdir()
    link = tmp_path / "current" / "archive.db"
    link.symlink_to(db)
    with archive_lock(str(db), "crawl", one_at_a_time=True):
        assert "a reparse needs the archive to itself" in refusal(str(link), "reparse", alone=True)
        assert "wait for that crawl" in refusal(str(link), "crawl", one_at_a_time=True)


def test_a_warc_file_being_written_is_never_taken_for_one_a_killed_run_left(tmp_path):
    from datetime import UTC, datetime

    from pipelines.warc import Exchange, WarcArchive, read_warc, recover_open_files
    from tests.warc_helpers import reference_html
    folder = tmp_path / "archive"
    exchange = Exchange(url="https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html", request_headers=[],
                        status=200, reason="OK", response_headers=[("Content-Type", "text/html")],
                        body=reference_html(), fetched_at=datetime.now(UTC))
    left = folder / "left-by-a-killed-run.warc.gz.open"
    with WarcArchive(folder, {}) as live:  # another crawl, writing to the same folder
        live.write_exchange(exchange)
        folder.joinpath(left.name).write_bytes(b"")  # and a file nobody holds
        open_now = sorted(p.name for p in folder.glob("*.open"))
        recovered = recover_open_files(folder)
        assert [name for name, _ in recovered] == ["left-by-a-killed-run.warc.gz"]
        assert sorted(p.name for p in folder.glob("*.open")) == [n for n in open_now if n != left.name]
        live.write_exchange(exchange)
    [written] = [p for p in folder.glob("*.warc.gz") if p.name != "left-by-a-killed-run.warc.gz"]
    assert len(list(read_warc(written))) == 2


def test_a_killed_runs_name_is_not_given_as_the_holder(tmp_path):
    import subprocess
    import sys
    db = str(tmp_path / "archive.db")
    # A reparse that was killed: its name stays in the lock file, which nobody holds any more.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with open(f"{db}.lock", "w") as f:
        f.write(f"pid {dead.stdout.strip()} (reparse)")
    with archive_lock(db, "import"):
        said = refusal(db, "reparse", alone=True)
    assert "(reparse)" not in said and "a crawl or an import" in said
