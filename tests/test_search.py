"""Chinese search through Datasette's own search box, in-process, on a real archive file."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.utils import escape_fts as datasette_escape_fts

from pipelines.importer import process_article
from pipelines.schema import open_archive
from pipelines.search import escape_fts, search_sql, search_text
from pipelines.store import Capture
from scraper.article import Article
from scraper.parse import parse_article
from tests.warc_helpers import HTML, REFERENCE_URL, reference_html

OTHER_URL = "https://gdxk.southcn.com/cz/dsj/content/post_595493.html"


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "archive.db"
    db = open_archive(path)
    reference = parse_article(reference_html(), REFERENCE_URL, HTML)
    other = Article(url=OTHER_URL, title="潮州市召开文化工作会议", source="潮州日报",
                    paragraphs=["会议研究部署全市文化和旅游工作。", "Chaozhou 2031年度报告。"])
    for n, article in enumerate((reference, other)):
        capture = Capture(record_id=f"<urn:test:{n}>", url=article.url, fetched_at="2026-01-01T00:00:00Z")
        process_article(db, article, capture, None)
    db.close()
    return path


def search(path, query: str) -> list[int]:
    async def run():
        ds = Datasette([str(path)])
        response = await ds.client.get("/archive/articles.json", params={"_search": query, "_shape": "objects"})
        assert response.status_code == 200, response.text
        return sorted(row["id"] for row in response.json()["rows"])
    return asyncio.run(run())


@pytest.mark.parametrize("query", ["疫", "党建", "总书记", "政治建设", "党的政治建设", "魏界亮"])
def test_chinese_queries_find_the_reference_article(archive, query):
    assert search(archive, query) == [1]


@pytest.mark.parametrize(("query", "expected"), [
    ("量子计算机", []),          # no such word
    ("建党", []),               # both characters occur, but never in this order
    ("潮州 文化", [2]),          # words are ANDed, as in Datasette
    ("\"文化工作\"", [2]),       # a quoted phrase
    ("chaozhou", [2]),          # Latin words are whole words, case-folded
    ("2031", [2]),              # numbers too, even glued to Chinese (2031年)
    ("Ｃｈａｏｚｈｏｕ", [2]),    # full-width Latin matches ASCII
    ("chao", []),               # no prefix matching
])
def test_other_queries(archive, query, expected):
    assert search(archive, query) == expected


def test_plain_fts5_query_finds_nothing_without_the_plugin(archive):
    """Guard for field-notes' trap: the same query unescaped, with Datasette's own escaping, finds nothing."""
    conn = sqlite3.connect(archive)
    sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
    assert conn.execute(sql, [datasette_escape_fts("党建")]).fetchall() == []
    assert conn.execute(sql, [escape_fts("党建")]).fetchall() == [(1,)]


def test_plugin_wins_over_datasettes_escape_fts(archive, tmp_path):
    """Our escape_fts is the one registered on archive databases; other databases keep Datasette's."""
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()

    async def run():
        ds = Datasette([str(archive), str(other)])
        ours = await ds.client.get("/archive.json?sql=select+escape_fts('党建')+as+q&_shape=array")
        theirs = await ds.client.get("/other.json?sql=select+escape_fts('党建')+as+q&_shape=array")
        plugins = await ds.client.get("/-/plugins.json")
        return ours.json()[0]["q"], theirs.json()[0]["q"], [p["name"] for p in plugins.json()]

    ours, theirs, plugins = asyncio.run(run())
    assert ours == '"党 建"'
    assert theirs == '"党建"'
    assert "chaozhou-archive" in plugins  # registered by the package's `datasette` entry point


def test_table_page_has_search_box_and_metadata(archive):
    async def run():
        ds = Datasette([str(archive)])
        page = await ds.client.get("/archive/articles", params={"_search": "政治建设"})
        meta = ds.table_metadata("archive", "articles")
        return page, meta

    page, meta = asyncio.run(run())
    assert page.status_code == 200
    assert 'name="_search"' in page.text
    assert "发挥政治统领作用" in page.text
    assert meta["fts_table"] == "articles_fts"


def test_escape_fts():
    assert escape_fts("党建") == '"党 建"'
    assert escape_fts("政治建设 Xi") == '"政 治 建 设" "Xi"'
    assert escape_fts('"政治 建设"') == '"政 治 建 设"'
    assert escape_fts('unbalanced "quote') == '"unbalanced" "quote"'
    assert escape_fts('say"hi') == '"say" "hi"'
    assert escape_fts("") == ""
    # Without Chinese it quotes exactly as Datasette does.
    for query in ("hello world", '"a phrase" word', "AND OR NOT", "x*"):
        assert escape_fts(query) == datasette_escape_fts(query)


def test_search_text():
    assert search_text("机关党建工作2017年5G网络") == "机 关 党 建 工 作 2017 年 5G 网 络"
    assert search_text("二〇二〇年") == "二 〇 二 〇 年"
    assert search_text(None) == ""


def test_ranked_search_sql(archive):
    conn = sqlite3.connect(archive)
    conn.create_function("escape_fts", 1, escape_fts)
    rows = conn.execute(search_sql(), {"search": "潮州"}).fetchall()
    assert [r[0] for r in rows] == [2, 1]  # title and body hits rank first


def test_facet_suggestions_are_off_on_articles_only(archive, tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, kind TEXT)")
        conn.executemany("INSERT INTO articles (kind) VALUES (?)", [("a",), ("b",), ("a",)])
    conn.close()

    async def run():
        ds = Datasette([str(archive), str(other)])
        ours = await ds.client.get("/archive/articles.json", params={"_search": "党建"})
        theirs = await ds.client.get("/other/articles.json")
        return ours.json(), theirs.json(), ds.table_metadata("other", "articles")

    ours, theirs, other_meta = asyncio.run(run())
    assert ours["suggested_facets"] == []
    assert set(ours["facet_results"]) >= {"collection", "column", "source_id"}
    assert theirs["suggested_facets"]  # an ordinary database keeps Datasette's behaviour
    assert "fts_table" not in other_meta
