"""Bad `--db` files and paths, and bad `-o` files: another application's database is never written unless
`--init` says so, a path with `#`, `?` or `%` is that file and no other, and an output that cannot be written is
one line. Real SQLite files, a real loopback site, real Datasette, a real process for the output errors."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from datasette.app import Datasette

from pipelines.schema import DatabaseKind, connect_readonly, database_kind, open_archive
from scraper.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def other_application(path: Path) -> Path:
    """A notes application's database: a table, a row, an index."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("create table notes (id integer primary key, text text)")
        conn.execute("create index notes_text on notes (text)")
        conn.execute("insert into notes (text) values ('keep me')")
    conn.close()
    return path


def state(path: Path) -> tuple[str, list[str], list[str]]:
    """The file's checksum, its tables, and every file in its folder."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master order by name")]
    finally:
        conn.close()
    return hashlib.sha256(path.read_bytes()).hexdigest(), tables, sorted(os.listdir(path.parent))


def cli_run(*args: str):
    return CliRunner().invoke(cli, list(args))


def one_error_line(result) -> str:
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def notes(tmp_path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    return other_application(folder / "notes.db")


COMMANDS = {
    "reparse": ["reparse"],
    "serve": ["serve", "--get", "/.json"],
    "export": ["export"],
    "import": ["import", "--sample", "--no-drift-check"],
    "crawl": ["crawl", "{site}/cz/", "--delay", "0", "--no-drift-check"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_another_applications_database_is_refused_and_left_as_it_was(command, notes, site):
    before = state(notes)
    args = [a.replace("{site}", site.base) for a in COMMANDS[command]]
    result = cli_run(*args, "--db", str(notes))
    assert result.exit_code == 1, result.output
    line = one_error_line(result)
    assert str(notes) in line and "not an archive" in line and "notes" in line
    assert ("--init" in line) == (command in ("import", "crawl"))  # only a writer can be told to go on
    assert state(notes) == before  # same bytes, same tables, no lock file, WAL or journal beside it
    assert site.count() == 0  # the crawl asked the site nothing


def test_init_adds_the_archive_to_another_applications_database(notes):
    result = cli_run("import", "--sample", "--no-drift-check", "--init", "--db", str(notes))
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(notes)
    assert conn.execute("select text from notes").fetchall() == [("keep me",)]
    assert conn.execute("select count(*) from articles").fetchone()[0] > 0
    conn.close()
    # From now on it is an archive: every command takes it without --init.
    assert cli_run("reparse", "--db", str(notes)).exit_code == 0
    assert cli_run("import", "--sample", "--no-drift-check", "--db", str(notes)).exit_code == 0


def test_a_new_or_empty_file_becomes_an_archive_but_is_no_archive_to_read(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    before = state(empty)
    for args in (["reparse"], ["export"], ["serve", "--get", "/.json"]):
        result = cli_run(*args, "--db", str(empty))
        assert result.exit_code == 1 and "empty database, not an archive" in one_error_line(result)
    assert state(empty) == before
    assert cli_run("import", "--sample", "--no-drift-check", "--db", str(empty)).exit_code == 0
    assert cli_run("import", "--sample", "--no-drift-check", "--db", str(tmp_path / "new.db")).exit_code == 0


def test_the_one_test_of_an_archive(tmp_path, notes):
    archive = tmp_path / "archive.db"
    open_archive(archive).close()
    old = ROOT / "tests" / "data" / "archive-schema-001.db"  # release 1's schema: an archive to upgrade
    claimed = tmp_path / "claimed.db"
    conn = sqlite3.connect(claimed)
    conn.execute("pragma user_version = 7")  # claimed by an application, no table yet
    conn.close()
    (tmp_path / "nothing.db").touch()
    kinds = {}
    for path in (archive, old, notes, claimed, tmp_path / "nothing.db"):
        conn = connect_readonly(path)
        kinds[Path(path).name] = database_kind(conn)
        conn.close()
    assert kinds == {"archive.db": DatabaseKind.ARCHIVE, "archive-schema-001.db": DatabaseKind.ARCHIVE,
                     "notes.db": DatabaseKind.OTHER, "claimed.db": DatabaseKind.OTHER,
                     "nothing.db": DatabaseKind.EMPTY}


def test_a_blog_with_articles_and_a_search_index_is_no_archive_to_the_plugins(tmp_path):
    # What sqlite-utils makes of any blog: the table names the plugins once took for an archive.
    blog = tmp_path / "blog.db"
    db = sqlite_utils.Database(blog)
    db["articles"].insert({"id": 1, "title": "hello", "body": "text"}, pk="id")
    db["articles"].enable_fts(["title", "body"])
    db.close()

    async def visit():
        ds = Datasette([str(blog)])
        await ds.get_database("blog").execute_write("insert into articles (id, title) values (2, 'still writable')")
        return await ds.client.get("/blog/articles/1/read"), await ds.client.get("/blog.json")

    read, queries = asyncio.run(visit())
    assert read.status_code == 404
    assert queries.json()["queries"] == []
    assert sqlite3.connect(blog).execute("select count(*) from articles").fetchone()[0] == 2


# -- paths that mean something in a file: URI ------------------------------------------------------------------

NAMES = ["a#b.db", "what?.db", "100%25.db", "plain.db"]


@pytest.mark.parametrize("name", NAMES)
def test_serve_shows_exactly_the_file_named(name, tmp_path, sample_archive, monkeypatch):
    folder = tmp_path / f"dir{name[:-3]}"  # the folder's name has the character too
    folder.mkdir()
    db = folder / name
    db.write_bytes(sample_archive.read_bytes())
    links = tmp_path / "tmp"
    links.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(links))
    served = name[:-3].replace("#", "_").replace("?", "_").replace("%", "_")
    result = cli_run("serve", "--db", str(db), "--get", f"/{served}/articles.json?_shape=array&_size=2")
    assert result.exit_code == 0, result.output
    assert '"title"' in result.output  # the archive's articles, not an empty database
    assert name in os.listdir(folder) and set(os.listdir(folder)) <= {name, f"{name}-shm", f"{name}-wal"}
    assert sorted(os.listdir(tmp_path)) == sorted(["tmp", folder.name])
    assert os.listdir(links) == []  # the link is gone with the server


@pytest.mark.parametrize("name", NAMES[:3])
def test_every_command_works_on_exactly_the_file_named(name, tmp_path, site, collection):
    folder = tmp_path / f"dir{name[:-3]}"
    folder.mkdir()
    db = folder / name
    assert cli_run("crawl", site.base + "/cz/", "--db", str(db), "--delay", "0", "--max-articles", "2",
                   "--no-drift-check").exit_code == 0
    assert cli_run("import", "--sample", "--no-drift-check", "--db", str(db)).exit_code == 0
    assert cli_run("reparse", "--db", str(db)).exit_code == 0
    exported = cli_run("export", "--db", str(db), "--format", "ndjson")
    assert exported.exit_code == 0
    stored = sqlite3.connect(db).execute("select count(*) from articles").fetchone()[0]
    assert stored >= 7 and len(exported.stdout.splitlines()) == stored
    assert sorted(os.listdir(folder)) == sorted([name, f"{name}-shm", f"{name}-wal", f"{name}.lock",
                                                 f"{name}.crawl.lock", "archive"])
    assert sorted(os.listdir(tmp_path)) == [folder.name]


# -- export's output -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("output", ["/no/such/dir/x.csv", "/dev/full", "-"])
def test_an_output_that_cannot_be_written_is_one_line(output, sample_archive):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:  # standard output is the full device too
        done = subprocess.run([sys.executable, "-m", "scraper", "export", "--db", str(sample_archive),
                               "-o", output], stdout=full, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    shown = "standard output" if output == "-" else output
    assert lines[0].startswith(f"Error: cannot write {shown}: "), lines[0]


def test_export_will_not_overwrite_the_archive(tmp_path, sample_archive):
    db = tmp_path / "archive.db"
    db.write_bytes(sample_archive.read_bytes())
    before = db.read_bytes()
    result = cli_run("export", "--db", str(db), "-o", str(db))
    assert result.exit_code == 1 and "the archive itself" in one_error_line(result)
    assert db.read_bytes() == before
