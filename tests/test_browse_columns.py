"""The articles table's columns (browse.columns), in-process: the reader's by default, all a click away, exports
whole unless the reader chose columns."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing

import lxml.html
import pytest

from browse.columns import READER_COLUMNS
from tests.browse_helpers import get


def shown(response) -> list[str]:
    page = lxml.html.fromstring(response.text)
    return [th.get("data-column") for th in page.cssselect("table.rows-and-columns th")]


def link(response, css: str) -> str:
    return lxml.html.fromstring(response.text).cssselect(css)[0].get("href")


@pytest.fixture(scope="module")
def columns(sample_archive) -> list[str]:
    with closing(sqlite3.connect(sample_archive)) as conn:
        return [r[1] for r in conn.execute("pragma table_info(articles)")]


def test_default_is_the_readers_columns_with_a_link_to_all(sample_archive):
    page = get(sample_archive, "/archive/articles")
    assert page.status_code == 200
    assert shown(page) == ["id", *[c for c in shown(page) if c != "id"]]
    assert set(shown(page)) == {"id", *READER_COLUMNS}
    assert not lxml.html.fromstring(page.text).cssselect("td.col-body, td.col-headings")  # no cells of them either
    everything = get(sample_archive, link(page, ".chaozhou-column-choice a"))
    assert everything.status_code == 200


def test_all_columns_and_datasettes_own_choices(sample_archive, columns):
    everything, hidden, chosen, hidden_from_all = get(
        sample_archive, "/archive/articles?_columns=all", "/archive/articles?_nocol=authors",
        "/archive/articles?_col=title&_col=body", "/archive/articles?_columns=all&_nocol=body")
    assert shown(everything) == columns
    # "Hide this column" on the reader's columns hides it from them, not from every column
    assert set(shown(hidden)) == {"id", *READER_COLUMNS} - {"authors"}
    assert shown(chosen) == ["id", "title", "body"]
    assert shown(hidden_from_all) == [c for c in columns if c != "body"]
    # each links back to the reader's columns
    back = get(sample_archive, link(everything, ".chaozhou-column-choice a"))
    assert set(shown(back)) == {"id", *READER_COLUMNS}


def test_exports_have_every_column_unless_columns_were_chosen(sample_archive, columns):
    page = get(sample_archive, "/archive/articles")
    json_url = link(page, "p.export-links a")
    csv_url = next(a.get("href") for a in lxml.html.fromstring(page.text).cssselect("p.export-links a")
                   if a.text == "CSV")
    as_json, as_csv, chosen = get(sample_archive, json_url, csv_url, "/archive/articles.json?_col=title")
    assert as_json.json()["columns"] == columns
    assert next(csv.reader(io.StringIO(as_csv.text)))[:2] == ["id", "url"]
    assert "body" in next(csv.reader(io.StringIO(as_csv.text)))
    assert chosen.json()["columns"] == ["id", "title"]


def test_the_column_menu_script_is_only_on_an_archives_articles(sample_archive, tmp_path):
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.executescript("create table articles (id integer primary key, title text, body text);"
                           "insert into articles (title, body) values ('x', 'y');")
    ours, sources, theirs = get(sample_archive, "/archive/articles", "/archive/sources", "/other/articles",
                                files=[str(other)])
    assert "_columns" in ours.text and "dropdown-show-all-columns" in ours.text
    assert "chaozhou-column-choice" not in sources.text and "_columns" not in sources.text
    assert shown(theirs) == ["id", "title", "body"] and "chaozhou-column-choice" not in theirs.text
