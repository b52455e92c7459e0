"""A full disk or a read-only database in the middle of a crawl: the run stops with one clear line and exit code 1,
and nothing stored before is damaged; after the cause is fixed, the next run completes.

The full disks are real: tiny tmpfs mounts (this needs root, as CI runs; elsewhere the tests say why they skip).
A database made read-only mid-run is SQLite's own read-only error, raised by `PRAGMA query_only` on the crawl's
connection (a file's mode cannot change what an open descriptor may do); a database that is read-only from the
start is a real one: a file of mode 0444, the crawl run without root's power to write any file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import pipelines.run
from scraper.cli import cli
from tests.archive_checks import capture_problems, integrity, stored_articles, warc_problems
from tests.collection import Collection
from tests.fault_server import FaultServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site():
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 8)
    with FaultServer() as server:
        coll.publish(server)
        server.collection = coll
        yield server


def tiny_disk(path: Path, size: str = "4m") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up here (needs root): {done.stderr.strip()}")
    return path


@pytest.fixture
def disks(tmp_path):
    mounted = []

    def make(name: str) -> Path:
        mounted.append(tiny_disk(tmp_path / name))
        return mounted[-1]

    yield make
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros until the file system is full."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


def break_after(monkeypatch, articles: int, breaking, snapshot):
    """After `articles` articles are stored, call breaking(db) once, just before the next article is stored."""
    real = pipelines.run.store_article
    count = {"n": 0}

    def store_article(db, *args, **kwargs):
        if count["n"] == articles:
            snapshot.append(stored_articles(Path(db.execute("pragma database_list").fetchone()[2])))
            breaking(db)
        count["n"] += 1
        return real(db, *args, **kwargs)

    monkeypatch.setattr(pipelines.run, "store_article", store_article)


def run_cli(*args):
    return CliRunner().invoke(cli, ["crawl", *args, "--delay", "0", "--no-drift-check"])


def error_lines(output: str) -> list[str]:
    assert "Traceback" not in output, output
    return [line for line in output.splitlines() if line.startswith("Error:")]


def resume_and_check(site, db: Path, warc_dir: Path, stored_before: dict[str, tuple]) -> None:
    assert integrity(db) == "ok"
    assert stored_before.items() <= stored_articles(db).items(), "articles stored before the failure changed"
    assert warc_problems(warc_dir) == []
    assert capture_problems(db, warc_dir) == []
    again = run_cli(site.base + "/cz/", "--db", str(db), "--warc-dir", str(warc_dir))
    assert again.exit_code == 0, again.output
    assert len(stored_articles(db)) == len(site.collection.all_stories())
    assert warc_problems(warc_dir) == []
    assert capture_problems(db, warc_dir) == []


def test_database_disk_full_mid_run(site, disks, tmp_path, monkeypatch):
    disk = disks("dbdisk")
    db, warc_dir = disk / "archive.db", tmp_path / "warc"
    snapshot = []
    break_after(monkeypatch, 3, lambda _db: fill(disk), snapshot)
    result = run_cli(site.base + "/cz/", "--db", str(db), "--warc-dir", str(warc_dir))
    assert result.exit_code == 1, result.output
    [line] = error_lines(result.output)
    assert "full" in line and str(db) in line, line
    monkeypatch.undo()
    (disk / "filler").unlink()
    assert len(snapshot[0]) == 3 and stored_articles(db) == snapshot[0], "the article in flight was half-stored"
    resume_and_check(site, db, warc_dir, snapshot[0])


def test_warc_disk_full_mid_run(site, disks, tmp_path, monkeypatch):
    warc_dir = disks("warcdisk")
    db = tmp_path / "archive.db"
    snapshot = []
    break_after(monkeypatch, 3, lambda _db: fill(warc_dir), snapshot)
    result = run_cli(site.base + "/cz/", "--db", str(db), "--warc-dir", str(warc_dir))
    assert result.exit_code == 1, result.output
    [line] = error_lines(result.output)
    assert "WARC" in line and "No space left" in line, line
    monkeypatch.undo()
    (warc_dir / "filler").unlink()
    resume_and_check(site, db, warc_dir, snapshot[0])


def test_warc_disk_full_when_a_new_file_starts(site, disks, tmp_path, monkeypatch):
    # Full before the first record of the run: the new file cannot even take its warcinfo record.
    warc_dir = disks("warcdisk")
    fill(warc_dir)
    result = run_cli(site.base + "/cz/", "--db", str(tmp_path / "archive.db"), "--warc-dir", str(warc_dir))
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "WARC" in line, line
    assert [p.name for p in warc_dir.iterdir()] == ["filler"], "a half-made WARC file was left"


def test_database_made_read_only_mid_run(site, tmp_path, monkeypatch):
    db, warc_dir = tmp_path / "archive.db", tmp_path / "warc"
    snapshot = []
    break_after(monkeypatch, 3, lambda conn: conn.execute("pragma query_only = 1"), snapshot)
    result = run_cli(site.base + "/cz/", "--db", str(db), "--warc-dir", str(warc_dir))
    assert result.exit_code == 1, result.output
    [line] = error_lines(result.output)
    assert "readonly" in line and "read-only" in line, line
    monkeypatch.undo()
    resume_and_check(site, db, warc_dir, snapshot[0])


def without_file_privileges() -> list[str]:
    """The command prefix that makes a read-only file read-only for the child: root's CAP_DAC_OVERRIDE writes any
    file whatever its mode, so as root the child runs without capabilities (still root, still owner of the files
    and of the checkout, so nothing depends on who may enter the folders above it)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv (util-linux) to run the crawl as root without capabilities")
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]


def test_database_read_only_from_the_start(site, tmp_path):
    db = tmp_path / "archive.db"
    first = run_cli(site.base + "/cz/", "--db", str(db), "--warc-dir", str(tmp_path / "warc"), "--max-articles", "2")
    assert first.exit_code == 0, first.output
    before = stored_articles(db)
    db.chmod(0o444)
    crawl = subprocess.run(
        [*without_file_privileges(), sys.executable, "-m", "scraper", "crawl", site.base + "/cz/", "--db", str(db),
         "--warc-dir", str(tmp_path / "warc"), "--delay", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert crawl.returncode == 1, crawl.stdout + crawl.stderr
    [line] = error_lines(crawl.stderr)
    assert "readonly" in line and "read-only" in line, line
    db.chmod(0o644)
    assert integrity(db) == "ok" and stored_articles(db) == before


def test_a_database_folder_that_does_not_exist(site, tmp_path):
    result = run_cli(site.base + "/cz/", "--db", str(tmp_path / "missing" / "archive.db"))
    assert result.exit_code == 1
    [line] = error_lines(result.output)
    assert "missing" in line and "exists" in line, line


def test_a_file_in_place_of_the_warc_folder(site, tmp_path):
    (tmp_path / "warc").write_text("not a folder")
    result = run_cli(site.base + "/cz/", "--db", str(tmp_path / "archive.db"), "--warc-dir", str(tmp_path / "warc"))
    assert result.exit_code in (1, 2)
    [line] = error_lines(result.output)
    assert "warc" in line.lower(), line


def sqlite_error(name: str, text: str) -> sqlite3.Error:
    """An error as sqlite3 raises it: its message and its result code."""
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorname = name
    return exc


def test_storage_errors_say_what_to_do(tmp_path):
    from pipelines.schema import storage_error

    # Real errors where a test can cause them: a full database, a read-only one, a locked one.
    conn = sqlite3.connect(tmp_path / "a.db", timeout=0)
    conn.execute("create table t (x)")
    conn.commit()
    raised = []
    for prepare, statement in [("pragma max_page_count = 1", "insert into t values (randomblob(100000))"),
                               ("pragma query_only = 1", "insert into t values (1)")]:
        conn.execute(prepare)
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raised.append(exc)
        conn.rollback()
    conn.execute("pragma query_only = 0")
    other = sqlite3.connect(tmp_path / "a.db", timeout=0)
    other.execute("begin immediate")
    try:
        conn.execute("begin immediate")
    except sqlite3.Error as exc:
        raised.append(exc)
    other.rollback()
    raised.append(sqlite_error("SQLITE_IOERR_WRITE", "disk I/O error"))  # a failing disk, as sqlite3 reports it
    for exc, hint in zip(raised, ["disk is full", "read-only", "another process", "disk failed"], strict=True):
        message = str(storage_error(exc, "a.db"))
        assert hint in message and "\n" not in message, (exc.sqlite_errorname, message)
