"""Export: every article, streamed from the archive as CSV, a JSON array or newline-delimited JSON.

One SQL query walks the articles in publication order (the ``published_at`` index gives the order, so SQLite
never sorts the bodies) and rows are written as the cursor yields them: memory stays flat however large the
archive. Authors and images come with each row (JSON arrays; in CSV one per line within the cell, as the
body's paragraphs are). ``story_id`` is shared by the copies of one text at several addresses (``pipelines.stories``;
empty: a story of its own).

``excel=True`` writes CSV for Excel on Windows: a UTF-8 byte order mark (without it Excel reads UTF-8 Chinese as
mojibake), CRLF line ends, and cells that Excel would run as a formula (starting with = + - @) prefixed with
an apostrophe, so that a hostile page cannot put a live formula into the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from typing import BinaryIO

FORMATS = ("csv", "json", "ndjson")
COLUMNS = ("id", "url", "title", "subtitle", "published_at", "source", "authors", "collection", "column",
           "story_id", "editor", "char_count", "paragraph_count", "headings", "breadcrumb", "images", "first_seen",
           "last_seen", "gone_at", "body")
LIST_COLUMNS = ("authors", "headings", "breadcrumb", "images")
# YYYY, YYYY-MM or YYYY-MM-DD: compared with published_at as text, which is ISO 8601 in China time.
SINCE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_SELECT = """
select a.id, a.url, a.title, a.subtitle, a.published_at, s.name as source,
  (select json_group_array(name) from (select au.name from article_authors aa join authors au on au.id = aa.author_id
     where aa.article_id = a.id order by aa.position)) as authors,
  a.collection, a.column, a.story_id, a.editor, a.char_count, a.paragraph_count, a.headings, a.breadcrumb,
  (select json_group_array(url) from (select url from images where article_id = a.id order by position)) as images,
  a.first_seen, a.last_seen, a.gone_at, a.body
from articles a left join sources s on s.id = a.source_id
{where}
order by a.published_at, a.id
"""


class ExportError(ValueError):
    """A bad export request (unknown format, malformed date): the message says what to give instead."""


def where_sql(since: str | None) -> tuple[str, list]:
    if since is None:
        return "", []
    if not SINCE.match(since):
        raise ExportError(f"--since {since!r}: give a date as YYYY-MM-DD (or YYYY-MM, or YYYY)")
    # The dates are compared as text, so 2020-13 would quietly pick some rows: the date must be one.
    year, month, day = (since.split("-") + ["01", "01"])[:3]
    try:
        datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ExportError(f"--since {since!r}: there is no such date (a month is 01-12, a day 01-31 and in "
                          "its month)") from None
    return "where a.published_at >= ?", [since]


def count_articles(conn: sqlite3.Connection, since: str | None = None) -> int:
    where, params = where_sql(since)
    return conn.execute(f"select count(*) from articles a {where}", params).fetchone()[0]


def iter_articles(conn: sqlite3.Connection, since: str | None = None) -> Iterator[dict]:
    """Each article as a dict of COLUMNS, lists decoded, in publication order (undated first)."""
    where, params = where_sql(since)
    cursor = conn.execute(_SELECT.format(where=where), params)
    for row in cursor:
        record = dict(zip(COLUMNS, row, strict=True))
        for key in LIST_COLUMNS:
            record[key] = json.loads(record[key]) if record[key] else []
        yield record


def neutralise_formula(text: str) -> str:
    """A cell's text as Excel will show it and never run: one that starts like a formula (= + - @, or a tab or
    CR before one) gets a leading apostrophe, as OWASP's CSV-injection advice says. The one rule for every CSV
    written for Excel: ``scraper export --excel`` and Datasette's "CSV for Excel" (browse.csv_bom)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value, excel: bool) -> str:
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    text = "" if value is None else str(value)
    return neutralise_formula(text) if excel else text


class _Utf8Writer:
    """csv.writer wants text; the output is bytes (a file or stdout's buffer)."""

    def __init__(self, out: BinaryIO):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))


def export_articles(conn: sqlite3.Connection, out: BinaryIO, fmt: str = "csv", *, excel: bool = False,
                    since: str | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write every article (published on or after ``since``) to ``out`` as ``fmt``; returns how many."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if excel and fmt != "csv":
        raise ExportError("--excel writes CSV for Excel; it does not apply to JSON")
    count = 0
    if fmt == "csv":
        if excel:
            out.write("\ufeff".encode())
        writer = csv.writer(_Utf8Writer(out), lineterminator="\r\n" if excel else "\n")
        writer.writerow(COLUMNS)
    elif fmt == "json":
        out.write(b"[")
    for record in iter_articles(conn, since):
        if fmt == "csv":
            writer.writerow([csv_cell(record[c], excel) for c in COLUMNS])
        else:
            line = json.dumps(record, ensure_ascii=False)
            if fmt == "json":
                line = ("\n" if count == 0 else ",\n") + line
            else:
                line += "\n"
            out.write(line.encode("utf-8"))
        count += 1
        if progress:
            progress(1)
    if fmt == "json":
        out.write(b"\n]\n" if count else b"]\n")
    return count
