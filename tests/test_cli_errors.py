"""Every command, every kind of bad input: one line saying what is wrong, the documented exit code, no traceback.

Exit codes: 2 for usage errors (click's: unknown options, bad values, a directory where a file belongs, a URL that
is not http(s)) and for a page that is not an article; 1 for storage errors (a missing or damaged database, a WARC
that is not one). Click prints its usage lines above the error; the error itself is one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "pages" / "gdxk-dsj-bare-date.html"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "notadb.db").write_text("this is not an SQLite database\n" * 100)
    (tmp_path / "garbage.warc.gz").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "binary.html").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 16)
    page = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>x</p></body></html>"
    (tmp_path / "no-uri.warc").write_bytes(  # a response record that names no WARC-Target-URI
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
        b"WARC-Date: 2020-10-13T03:13:14Z\r\nContent-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(page)).encode() + b"\r\n\r\n" + page + b"\r\n\r\n")
    return tmp_path


CASES = [
    # (name, args, exit code, words the error line holds); {t} is the temporary folder
    ("unknown option", ["crawl", "--bogus"], 2, ["No such option", "--bogus"]),
    ("unknown option on the group", ["--bogus"], 2, ["No such option"]),
    ("unknown command", ["crawll"], 2, ["No such command"]),
    ("a URL that is not http(s)", ["crawl", "ftp://gdxk.southcn.com/cz/", "--db", "{t}/a.db"], 2,
     ["ftp://", "not an http(s) URL"]),
    ("a URL that is no URL", ["crawl", "gdxk.southcn.com/cz/", "--db", "{t}/a.db"], 2, ["not an http(s) URL"]),
    ("a URL with no host", ["crawl", "http:///cz/", "--db", "{t}/a.db"], 2, ["not an http(s) URL"]),
    ("a javascript: URL", ["crawl", "javascript:alert(1)", "--db", "{t}/a.db"], 2, ["not an http(s) URL"]),
    ("a URL urlsplit refuses", ["crawl", "http://[::1/cz/", "--db", "{t}/a.db"], 2, ["not an http(s) URL"]),
    ("a URL with a port out of range", ["crawl", "http://127.0.0.1:99999/cz/", "--db", "{t}/a.db"], 2,
     ["not an http(s) URL"]),
    ("a --url urlsplit refuses (import)", ["import", str(PAGE), "--url", "http://[::1/x", "--db", "{t}/a.db"], 2,
     ["--url", "not a URL"]),
    ("a --url with a port out of range (parse)", ["parse", str(PAGE), "--url", "http://127.0.0.1:99999/x"], 2,
     ["--url", "not a URL"]),
    ("a negative delay", ["crawl", "--delay", "-1", "--db", "{t}/a.db"], 2, ["--delay"]),
    ("zero max-articles", ["crawl", "--max-articles", "0", "--db", "{t}/a.db"], 2, ["--max-articles"]),
    ("a folder as the database (crawl)", ["crawl", "http://127.0.0.1:9/cz/", "--db", "{t}/folder"], 2,
     ["is a directory"]),
    ("a folder as the database (reparse)", ["reparse", "--db", "{t}/folder"], 2, ["is a directory"]),
    ("a folder as the database (import)", ["import", "--sample", "--db", "{t}/folder"], 2, ["is a directory"]),
    ("a folder as the page (parse)", ["parse", "{t}/folder"], 2, ["is a directory"]),
    ("a folder as the page (doctor)", ["doctor", "{t}/folder"], 2, ["is a directory"]),
    ("a folder to import", ["import", "{t}/folder", "--db", "{t}/a.db"], 2, ["is a directory"]),
    ("a missing file to import", ["import", "{t}/missing.warc", "--db", "{t}/a.db"], 2, ["does not exist"]),
    ("a missing page to parse", ["parse", "{t}/missing.html"], 2, ["cannot read"]),
    ("a missing database (reparse)", ["reparse", "--db", "{t}/missing.db"], 1, ["does not exist"]),
    ("a WARC record without its URL", ["import", "{t}/no-uri.warc", "--db", "{t}/a.db", "--no-drift-check"], 1,
     ["no-uri.warc", "damaged"]),
    ("a missing database (export)", ["export", "--db", "{t}/missing.db"], 1, ["does not exist"]),
    ("a file that is not a database (reparse)", ["reparse", "--db", "{t}/notadb.db"], 1, ["not a database"]),
    ("a file that is not a database (import)", ["import", "--sample", "--db", "{t}/notadb.db"], 1,
     ["not a database"]),
    ("a file that is not a database (crawl)", ["crawl", "http://127.0.0.1:9/cz/", "--db", "{t}/notadb.db"], 1,
     ["not a database"]),
    ("a WARC that is not one", ["import", "{t}/garbage.warc.gz", "--db", "{t}/a.db", "--no-drift-check"], 1,
     ["garbage.warc.gz"]),
    ("a binary file as a page", ["parse", "{t}/binary.html"], 2, ["binary"]),
    ("a missing page and no --sample", ["parse"], 2, ["PAGE"]),
    ("a bad --format", ["parse", "--sample", "--format", "xml"], 2, ["--format"]),
]


@pytest.mark.parametrize("name,args,code,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_and_the_exit_code(files, name, args, code, words):
    args = [a.replace("{t}", str(files)) for a in args]
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.output
    for word in words:
        assert word in errors[0], errors[0]


@pytest.mark.parametrize("args,code", [
    (["crawl", "ftp://x/cz/"], 2),
    (["reparse", "--db", "missing.db"], 1),
    (["crawl", "--bogus"], 2),
    (["crawl", "http://127.0.0.1:9/cz/", "--db", "folder"], 2),
])
def test_the_installed_command_says_the_same_without_a_traceback(files, args, code):
    # A real process: nothing that only CliRunner would catch.
    done = subprocess.run([sys.executable, "-m", "scraper", *args], cwd=files, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == code
    assert "Traceback" not in done.stderr + done.stdout
    assert len([line for line in done.stderr.splitlines() if line.startswith("Error")]) == 1, done.stderr


def test_a_refused_missing_database_leaves_no_lock_file(files):
    result = CliRunner().invoke(cli, ["reparse", "--db", str(files / "missing.db")])
    assert result.exit_code == 1
    assert not (files / "missing.db.lock").exists() and not (files / "missing.db").exists()
