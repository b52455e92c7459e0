"""What Datasette serves cannot change the archive, and `scraper serve` listens on this machine only."""

import asyncio
import sqlite3

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

import scraper.cli
from scraper.cli import cli


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["import", "--sample", "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_datasette_cannot_write_to_the_archive(archive):
    async def attempt():
        ds = Datasette([str(archive)])
        db = ds.get_database("archive")
        page = await ds.client.get("/archive/articles.json?_shape=array")
        assert page.status_code == 200 and page.json()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.execute_write("insert into sources (name) values ('改写')")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.execute_write("delete from articles")

    asyncio.run(attempt())
    conn = sqlite3.connect(archive)
    assert conn.execute("select count(*) from sources where name = '改写'").fetchone()[0] == 0
    assert conn.execute("select count(*) from articles").fetchone()[0] > 0


def test_other_databases_stay_writable(tmp_path):
    other = tmp_path / "notes.db"
    sqlite3.connect(other).execute("create table notes (text)")

    async def attempt():
        ds = Datasette([str(other)])
        await ds.get_database("notes").execute_write("insert into notes values ('ok')")

    asyncio.run(attempt())
    assert sqlite3.connect(other).execute("select count(*) from notes").fetchone()[0] == 1


def test_serve_listens_on_loopback_by_default(archive, monkeypatch):
    seen = {}
    monkeypatch.setattr(scraper.cli, "run_datasette",
                        lambda db, host, port, extra: seen.update(host=host, port=port) or 0)
    result = CliRunner().invoke(cli, ["serve", "--db", str(archive)])
    assert result.exit_code == 0, result.output
    assert seen == {"host": "127.0.0.1", "port": 8001}
