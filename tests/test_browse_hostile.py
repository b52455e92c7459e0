"""Nothing that reads the archive can be knocked over by it: stored bombs, formula cells, permissions, odd ids.

Bodies a hostile site left in the WARC files (a gzip bomb the crawl refused, endless header lines, a chunk that
claims a gigabyte) are read by the replay in Datasette and by ``scraper import`` in a child process whose own peak
memory (VmHWM) is measured. The plugin routes are asked, through Datasette's own client, for a database the actor
may not see and for ids no row can have.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from datasette.app import Datasette
from datasette.plugins import pm

from browse.csv_bom import FormulaGuard
from pipelines.export import neutralise_formula
from pipelines.warc import MAX_BODY_BYTES
from pipelines.warc_bounds import MAX_HEADER_BYTES
from scraper.crawl import CrawlOptions, run_crawl
from tests import fault_server as fs
from tests.browse_helpers import REFERENCE_URL, article_id
from tests.collection import Collection
from tests.conftest import FAST
from tests.test_robustness import bounded

MIB = 1024 * 1024
BOMB = 256 * MIB  # inflated: 12 times the cap; as sent, about 250 kB
MEMORY_BOUND_MB = 300
HOSTILE_TITLES = ['=HYPERLINK("http://127.0.0.1:9/x","点击")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3",
                  "\t=1+1", "\r=1+1"]
RESTRICTED = {"databases": {"archive": {"allow": {"id": "alice"}}}}

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads a child's VmHWM from /proc")


# -- 1. stored bodies are read with the fetch's cap ---------------------------------------------------------------

@pytest.fixture(scope="module")
def bombed_crawl(tmp_path_factory):
    """A crawl whose one article was a gzip bomb: refused by the crawl, its record kept in the WARC as sent."""
    directory = tmp_path_factory.mktemp("bombed")
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 2)
    bombed = coll.stories["llwzllzz"][0]
    with fs.FaultServer() as server:
        coll.publish(server)
        server.route(bombed.path, fs.gzip_bomb(BOMB))
        result = run_crawl(CrawlOptions([server.base + "/cz/"], db_path=str(directory / "archive.db"), delay=0,
                                        policy=FAST, backoff_start=0.05, drift_check=False))
        url = server.base + bombed.path
    assert result.exit_code == 1 and result.counts.failed == 1, result.errors
    conn = sqlite3.connect(directory / "archive.db")
    assert "cap" in conn.execute("select last_error from frontier where url = ?", [url]).fetchone()[0]
    capture = conn.execute("select id from captures where url = ?", [url]).fetchone()[0]
    conn.close()
    return directory, capture, url


def test_replay_of_a_stored_gzip_bomb_is_refused_in_bounded_memory(bombed_crawl):
    directory, capture, _ = bombed_crawl
    seconds, megabytes, out = bounded(f"""
import asyncio
from datasette.app import Datasette
async def main():
    response = await Datasette([{str(directory / "archive.db")!r}]).client.get("/archive/captures/{capture}/replay")
    print(response.status_code, len(response.content))
    print(response.text)
asyncio.run(main())
""")
    status, size = map(int, out.splitlines()[0].split())
    assert status == 422, out[:500]
    assert f"{MAX_BODY_BYTES:,}-byte cap" in out
    assert size < 100_000
    assert megabytes < MEMORY_BOUND_MB and seconds < 30, (megabytes, seconds)


def import_in_child(db: Path, *arguments: Path | str) -> tuple[float, float, str]:
    """``scraper import`` in a fresh interpreter: its seconds, its own peak MB, and all it printed."""
    return bounded(f"""
import sys
from scraper.cli import cli
sys.stderr = sys.stdout
try:
    cli(["import", "--db", {str(db)!r}, *{[str(a) for a in arguments]!r}], prog_name="scraper")
except SystemExit as exc:
    print("exit", exc.code)
""")


def test_import_of_a_warc_holding_a_refused_gzip_bomb_is_bounded(bombed_crawl, tmp_path):
    directory, _, url = bombed_crawl
    warcs = sorted((directory / "archive").glob("*.warc.gz"))
    assert sum(w.stat().st_size for w in warcs) < 1_000_000
    seconds, megabytes, out = import_in_child(tmp_path / "imported.db", *warcs)
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {url}: decompressed body passed the {MAX_BODY_BYTES:,}-byte cap"], out
    assert out.splitlines()[-1] == "exit 1"
    assert megabytes < MEMORY_BOUND_MB and seconds < 30, (megabytes, seconds)
    # The healthy article of the same WARC is imported.
    conn = sqlite3.connect(tmp_path / "imported.db")
    assert conn.execute("select count(*) from articles").fetchone()[0] == 1
    conn.close()


def gzip_member(*pieces: tuple[bytes, int]) -> bytes:
    """One gzip member holding each piece's bytes repeated its count of times, made in a blink: a piece is
    compressed once, flushed to a byte boundary with nothing to refer back to, and its compressed bytes repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts, crc, size = [], 0, 0
    for data, times in pieces:
        parts.append((compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)) * times)
        for _ in range(times):
            crc = zlib.crc32(data, crc)
        size += len(data) * times
    parts.append(compressor.flush())
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"".join(parts) + struct.pack("<II", crc, size % 2 ** 32)


def foreign_warc(path: Path, *block: tuple[bytes, int]) -> Path:
    """A .warc.gz of one response record whose HTTP block is the pieces given (someone else's WARC, hand-made)."""
    length = sum(len(data) * times for data, times in block)
    head = ("WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:6d1f2c1e-0000-4000-8000-000000000001>\r\n"
            "WARC-Target-URI: https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html\r\n"
            "WARC-Date: 2026-01-02T03:04:05Z\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
    path.write_bytes(gzip_member((head, 1), *block, (b"\r\n\r\n", 1)))
    return path


STATUS = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
PAGE = b"<html><body><p>x</p></body></html>"
# Each would be held whole by warcio: hundreds of MB from a WARC file of a few hundred kB.
FOREIGN = {
    "one endless header line": ((STATUS + b"X-Pad: ", 1), (b"a" * MIB, 256), (b"\r\n\r\n" + PAGE, 1)),
    "millions of short header lines": ((STATUS, 1), (b"X-A: 1\r\n" * (MIB // 8), 20), (b"\r\n" + PAGE, 1)),
    "a chunk that claims 256 MB": ((STATUS + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % BOMB, 1),
                                   (b"\0" * MIB, 256), (b"\r\n0\r\n\r\n", 1)),
}


@pytest.mark.parametrize("name", FOREIGN)
def test_import_of_a_warc_with_endless_headers_or_chunks_is_bounded(tmp_path, name):
    warc = foreign_warc(tmp_path / "foreign.warc.gz", *FOREIGN[name])
    assert warc.stat().st_size < 1_000_000
    seconds, megabytes, out = import_in_child(tmp_path / "imported.db", warc)
    assert megabytes < MEMORY_BOUND_MB and seconds < 30, (megabytes, seconds, out)
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    if "chunk" in name:  # a body over the cap: not a page, not read
        assert "not HTML 1" in out and not errors and out.splitlines()[-1] == "exit 0", out
    else:
        assert errors == [f"Error: {warc}: damaged at byte offset 0: a record's header lines run past "
                          f"{MAX_HEADER_BYTES:,} bytes; records before it were imported"], out
        assert out.splitlines()[-1] == "exit 1"


def test_import_of_a_saved_page_over_the_cap_is_bounded(tmp_path):
    page = tmp_path / "huge.html"
    with open(page, "wb") as f:
        f.write(b"<!DOCTYPE html><html><body>")  # an HTML page by its first bytes (pipelines.filekind)...
        f.truncate(512 * MIB)  # ...and sparse: 512 MB to read, none of it on the disk
    seconds, megabytes, out = import_in_child(tmp_path / "imported.db", page,
                                              "--url", "https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html")
    assert megabytes < MEMORY_BOUND_MB and seconds < 30, (megabytes, seconds, out)
    assert "not HTML 1" in out and out.splitlines()[-1] == "exit 0", out


# -- 2. CSV for Excel runs no formula ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_titles(sample_archive, tmp_path_factory) -> Path:
    """A copy of the sample archive whose first articles have titles that Excel would run as formulas."""
    path = tmp_path_factory.mktemp("formulas") / "archive.db"
    shutil.copy(sample_archive, path)
    conn = sqlite3.connect(path)
    ids = [row[0] for row in conn.execute("select id from articles order by id limit ?", [len(HOSTILE_TITLES)])]
    with conn:
        conn.executemany("update articles set title = ? where id = ?", list(zip(HOSTILE_TITLES, ids, strict=True)))
    conn.close()
    return path


def get_all(path: Path, *paths: str, metadata: dict | None = None, actor: dict | None = None, files=()):
    async def run():
        ds = Datasette([str(path), *map(str, files)], metadata=metadata)
        cookies = {"ds_actor": ds.sign({"a": actor}, "actor")} if actor else {}
        return [await ds.client.get(p, cookies=cookies) for p in paths]
    return asyncio.run(run())


def test_csv_for_excel_neutralises_formula_cells(hostile_titles):
    excel, plain = get_all(hostile_titles, "/archive/articles.csv?_bom=1&_stream=on&_size=max&_labels=on",
                           "/archive/articles.csv?_stream=on&_size=max&_labels=on")
    assert excel.status_code == plain.status_code == 200
    assert excel.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(excel.content.decode("utf-8-sig"), newline="")))
    plain_rows = list(csv.reader(io.StringIO(plain.text, newline="")))
    assert len(rows) == len(plain_rows) > len(HOSTILE_TITLES)
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    titles = {row[plain_rows[0].index("title")] for row in rows}
    assert {"'" + title for title in HOSTILE_TITLES} <= titles
    # Every other cell is as Datasette wrote it.
    for row, plain_row in zip(rows, plain_rows, strict=True):
        assert row == [neutralise_formula(cell) for cell in plain_row]


def test_formula_guard_gives_the_same_rows_however_the_stream_is_cut(hostile_titles):
    (plain,) = get_all(hostile_titles, "/archive/articles.csv?_size=max")
    whole = FormulaGuard().feed(plain.content, final=True)
    for step in (1, 7, 4096):
        guard = FormulaGuard()
        pieces = [plain.content[i:i + step] for i in range(0, len(plain.content), step)]
        cut = b"".join(guard.feed(piece) for piece in pieces[:-1]) + guard.feed(pieces[-1], final=True)
        assert cut == whole, step
    assert b"'=HYPERLINK(" in whole


# -- 3. every plugin route asks Datasette's permissions -----------------------------------------------------------

def plugin_routes(path: Path) -> list[str]:
    """The path pattern of every route our plugins register."""
    ds = Datasette([str(path)])
    return [pattern for routes in pm.hook.register_routes(datasette=ds) for pattern, view in routes
            if view.__module__.startswith("browse.")]


def example_paths(archive: Path) -> list[str]:
    conn = sqlite3.connect(archive)
    capture = conn.execute("select capture_id from articles where url = ?", [REFERENCE_URL]).fetchone()[0]
    conn.close()
    article = article_id(archive, REFERENCE_URL)
    return ["/-/coverage", f"/archive/articles/{article}/read", f"/archive/captures/{capture}/replay",
            "/archive/articles.atom", "/-/chaozhou/archive/per-month.svg", "/-/chaozhou/archive/per-column.svg",
            "/archive/-/search"]


def test_every_plugin_route_is_asked_for_below(sample_archive):
    paths = example_paths(sample_archive)
    for pattern in plugin_routes(sample_archive):
        assert any(re.match(pattern, p) for p in paths), f"route {pattern} has no example in example_paths"


def test_every_plugin_route_answers_403_for_an_archive_the_actor_may_not_see(sample_archive):
    paths = example_paths(sample_archive) + ["/archive/articles.csv?_bom=1"]
    for path, response in zip(paths, get_all(sample_archive, *paths, metadata=RESTRICTED), strict=True):
        assert response.status_code == 403, path
        assert "Field coverage per month" not in response.text and "field_coverage" not in response.text, path
    for path, response in zip(paths, get_all(sample_archive, *paths, metadata=RESTRICTED,
                                             actor={"id": "alice"}), strict=True):
        assert response.status_code == 200, path


def test_coverage_shows_only_the_archives_the_actor_may_see(sample_archive, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(sample_archive, other)
    (page,) = get_all(sample_archive, "/-/coverage", metadata=RESTRICTED, files=[other])
    assert page.status_code == 200
    assert "<h2>other</h2>" in page.text and "<h2>archive</h2>" not in page.text


# -- 4. ids no row can have ----------------------------------------------------------------------------------------

BAD_IDS = ["99999999999999999999999", "9223372036854775808", "-1", "0", "abc", "1e3", "9" * 5000]


@pytest.mark.parametrize("template", ["/archive/articles/{}/read", "/archive/captures/{}/replay"])
def test_a_route_id_no_row_can_have_is_not_found(sample_archive, template):
    for bad, response in zip(BAD_IDS, get_all(sample_archive, *[template.format(b) for b in BAD_IDS]),
                             strict=True):
        assert response.status_code == 404, (bad[:30], response.status_code)


def test_an_author_filter_that_is_not_an_author_id_is_a_bad_request(sample_archive):
    bad = BAD_IDS + ["²", "٣", " 1", "1.0"]
    responses = get_all(sample_archive, *[f"/archive/articles.json?_author={b}" for b in bad],
                        "/archive/articles.json?_author=1&_author=x", "/archive/articles.json?_author=1")
    for value, response in zip(bad + ["1 and x"], responses, strict=False):
        assert response.status_code == 400, (value[:30], response.status_code)
        assert "_author=" in response.json()["error"]
    assert responses[-1].status_code == 200
