"""Checks that an archive is whole: every WARC passes warcio's checker, every capture row points at its record."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from pathlib import Path
from types import SimpleNamespace

from warcio.archiveiterator import ArchiveIterator
from warcio.checker import Checker

from pipelines.item import Article, Capture, Kind, Outcome
from pipelines.run import Run
from pipelines.warc import read_record, whole_members_end


def warc_problems(directory: Path) -> list[str]:
    """What `warcio check` says about each WARC file (digests, framing), plus leftovers of a killed run: *.open
    files, and bytes after the last whole record."""
    problems = [f"{p.name}: left open" for p in directory.glob("*.open")]
    for path in sorted(directory.glob("*.warc.gz")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = Checker(SimpleNamespace(inputs=[str(path)], verbose=False)).process_all()
        if status:
            problems.append(f"{path.name}: warcio check: {out.getvalue().strip()}")
        if whole_members_end(path) != path.stat().st_size:
            problems.append(f"{path.name}: ends in a partial record")
    return problems


def capture_problems(db_path: Path, directory: Path) -> list[str]:
    """Every capture row's (warc_file, offset) must read back a record of the same URL and record id."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute("select url, warc_file, warc_offset, record_id from captures where warc_file is not null")
    problems = []
    for url, warc_file, offset, record_id in rows:
        path = directory / warc_file
        if not path.exists():
            problems.append(f"{url}: {warc_file} is missing")
            continue
        if offset >= path.stat().st_size:
            problems.append(f"{url}: offset {offset} is past the end of {warc_file}")
            continue
        uri = read_record(path, offset).capture.url
        if uri != url:
            problems.append(f"{url}: the record at {warc_file}:{offset} is for {uri}")
        with open(path, "rb") as f:
            f.seek(offset)
            found = next(iter(ArchiveIterator(f))).rec_headers.get_header("WARC-Record-ID")
        if found != record_id:
            problems.append(f"{url}: record id {found} at {warc_file}:{offset}, expected {record_id}")
    conn.close()
    return problems


def stored_articles(db_path: Path) -> dict[str, tuple]:
    """url → (title, body, content hash, authors) of every article: what must survive a failure unchanged."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "select url, title, body, content_hash, (select group_concat(au.name) from article_authors aa "
        "join authors au on au.id = aa.author_id where aa.article_id = a.id) from articles a").fetchall()
    conn.close()
    return {url: tuple(rest) for url, *rest in rows}


def integrity(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("pragma integrity_check").fetchone()[0]
    finally:
        conn.close()


def store(db, article: Article, capture: Capture) -> str:
    """Store one parsed article through the pipelines, as every job does (without a runs row): new, updated,
    unchanged, or dropped (it failed validation)."""
    stored = Run(db, None, None).record(Outcome(Kind.ARTICLE, article=article), [capture])
    return stored.value if stored else "dropped"
