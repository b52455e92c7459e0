"""Chinese search through Datasette's own search box, in-process, on a real archive file."""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.utils import escape_fts as datasette_escape_fts

from pipelines.item import Article, Capture
from pipelines.schema import open_archive
from pipelines.search import escape_fts, index_article, search_text, unindex_article
from scraper.parse import parse_article
from tests.archive_checks import store
from tests.warc_helpers import HTML, REFERENCE_URL, reference_html

OTHER_URL = "https://gdxk.southcn.com/cz/dsj/content/post_595493.html"


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "archive.db"
    db = open_archive(path)
    reference = parse_article(reference_html(), REFERENCE_URL, HTML)
    other = Article(url=OTHER_URL, title="潮州市召开文化工作会议", source="潮州日报", collection="潮州库",
                    column="大事记", paragraphs=["会议研究部署全市文化和旅游工作。", "Chaozhou 2031年度报告。"])
    for n, article in enumerate((reference, other)):
        capture = Capture(record_id=f"<urn:test:{n}>", url=article.url, fetched_at="2026-01-01T00:00:00Z")
        store(db, article, capture)
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
    assert conn.execute(sql, [datasette_escape_fts("政治建设")]).fetchall() == []
    assert conn.execute(sql, [escape_fts("政治建设")]).fetchall() == [(1,)]


def test_plugin_wins_over_datasettes_escape_fts(archive, tmp_path):
    """Our escape_fts is the one registered on archive databases; other databases keep Datasette's."""
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()

    async def run():
        ds = Datasette([str(archive), str(other)])
        ours = await ds.client.get("/archive.json?sql=select+escape_fts('政治建设')+as+q&_shape=array")
        theirs = await ds.client.get("/other.json?sql=select+escape_fts('政治建设')+as+q&_shape=array")
        plugins = await ds.client.get("/-/plugins.json")
        return ours.json()[0]["q"], theirs.json()[0]["q"], [p["name"] for p in plugins.json()]

    ours, theirs, plugins = asyncio.run(run())
    assert ours == '"政治 治建 建设"'
    assert theirs == '"政治建设"'
    assert "chaozhou-archive" in plugins  # registered by the package's `datasette` entry point


def test_table_page_has_search_box_and_metadata(archive):
    async def run():
        ds = Datasette([str(archive)])
        page = await ds.client.get("/archive/articles", params={"_search": "政治建设"})
        meta = ds.table_metadata("archive", "articles")
        return page, meta

    page, meta = asyncio.run(run())
    assert page.status_code == 200
    assert 'name="_search" value="政治建设"' in page.text
    assert "发挥政治统领作用" in page.text
    assert "fts_table" not in meta  # the plugin's filter serves the search box, not Datasette's (no double filter)


@pytest.mark.parametrize("share", [1, 10**9])  # 1: rowid look-ups (a rare word); 10**9: index scans (a common one)
def test_both_search_plans_give_the_same_page(archive, monkeypatch, share):
    import browse.search as plugin

    monkeypatch.setattr(plugin, "DENSE_SHARE", share)

    async def run(params):
        ds = Datasette([str(archive)])
        response = await ds.client.get("/archive/articles.json", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    for params, ids in [({"_search": "潮州"}, [1, 2]), ({"_search": "政治建设"}, [1]), ({"_search": "量子"}, []),
                        ({"_search_title": "会议"}, [2]), ({"_search": "党建", "_searchmode": "raw"}, [1])]:
        page = asyncio.run(run({**params, "_shape": "objects"}))
        assert sorted(row["id"] for row in page["rows"]) == ids, params
        assert page["filtered_table_rows_count"] == len(ids)
        dense = share > 1 and bool(ids)
        assert looks_up_each_match(archive, page["query"]) == (not dense), params
        key = next(iter(params))
        column = key[len("_search_"):] if key.startswith("_search_") else None
        said = f'search column "{column}" matches' if column else "search matches"
        assert f'{said} "{params[key]}"' in page["human_description_en"]  # as Datasette words it
        if ids:
            assert page["facet_results"]["collection"]["results"][0]["count"] == len(ids)
    with pytest.raises(AssertionError, match="Cannot search by that column"):
        asyncio.run(run({"_search_url": "潮州"}))


def test_escape_fts():
    assert escape_fts("党建") == '"党建"'
    assert escape_fts("疫") == '"疫" *'  # every occurrence of a character starts a token (bigram or itself)
    assert escape_fts("政治建设 Xi") == '"政治 治建 建设" "Xi"'
    assert escape_fts('"政治 建设"') == '"政治 治建 建设"'  # punctuation and spaces between characters are skipped
    assert escape_fts("2031年") == '"2031 年" *'
    assert escape_fts("党建2017") == '"党建 建 2017"'  # the text's run of characters ends where the number starts
    assert escape_fts('unbalanced "quote') == '"unbalanced" "quote"'
    assert escape_fts('say"hi') == '"say" "hi"'
    assert escape_fts("") == ""
    # Without Chinese it quotes exactly as Datasette does.
    for query in ("hello world", '"a phrase" word', "AND OR NOT", "x*"):
        assert escape_fts(query) == datasette_escape_fts(query)


def test_search_text():
    def tokens(text):  # as unicode61 reads them: runs of letters and digits
        return re.findall(r"[^\W_]+", search_text(text))

    assert tokens("机关党建工作2017年5G网络") == ["机关", "关党", "党建", "建工", "工作", "作", "2017", "年", "5G",
                                               "网络", "络"]
    assert tokens("二〇二〇年") == ["二〇", "〇二", "二〇", "〇年", "年"]
    assert tokens("开展，机关。") == ["开展", "展机", "机关", "关"]  # punctuation is no token, as in unicode61
    assert search_text(None) == ""


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


def test_search_one_column(archive):
    """Datasette's ``?_search_title=`` searches one column of the index: 1-character queries too."""
    async def run(params):
        ds = Datasette([str(archive)])
        response = await ds.client.get("/archive/articles.json", params={**params, "_shape": "objects"})
        return sorted(row["id"] for row in response.json()["rows"])

    assert asyncio.run(run({"_search_title": "政治建设"})) == [1]
    assert asyncio.run(run({"_search_title": "会"})) == [2]
    assert asyncio.run(run({"_search_authors": "魏界亮"})) == [1]


def _reference_text(text: str) -> str:
    """The phrase-of-characters index search.py replaced: a space around every CJK character."""
    import unicodedata

    cjk = "[\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
    return re.sub(f"({cjk})", r" \1 ", unicodedata.normalize("NFKC", text))


def _reference_query(query: str) -> str:
    """The query for that index: words (or "quoted phrases") ANDed, each the phrase of its characters."""
    if query.count('"') % 2:
        query += '"'
    phrases = []
    for bit in re.split(r'\s+|(".*?")', query):
        if bit and bit != '""':
            inner = bit[1:-1] if bit.startswith('"') and bit.endswith('"') and len(bit) > 1 else bit
            phrases.append('"' + _reference_text(inner).strip().replace('"', '""') + '"')
    return " ".join(phrases)


def archive_index_sql(directory) -> str:
    """The search index's CREATE statement, as an archive has it."""
    open_archive(directory / "fresh.db").close()
    conn = sqlite3.connect(directory / "fresh.db")
    try:
        return conn.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()[0]
    finally:
        conn.close()


def test_bigram_queries_match_exactly_the_phrase_of_characters(tmp_path):
    """Any query finds the rows where its characters occur in a row (punctuation skipped): the unigram phrase."""
    rng = random.Random(3)
    alphabet = ["党", "建", "政", "疫", "x", "y", "1", " ", "，", "。", "Ｘ", "_", "〇", "党", "建", "\""]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(300)]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE reference USING fts5(body)")
    conn.execute(archive_index_sql(tmp_path).replace("articles_fts", "bigram"))
    for n, text in enumerate(texts):
        conn.execute("INSERT INTO reference (rowid, body) VALUES (?, ?)", [n, _reference_text(text)])
        conn.execute("INSERT INTO bigram (rowid, title, body) VALUES (?, '', ?)", [n, search_text(text)])
    for _ in range(2000):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
        if not re.search(r"[^\W_]", query):
            continue  # no token: FTS5 rejects the empty query either way
        want = conn.execute("SELECT rowid FROM reference WHERE reference MATCH ?", [_reference_query(query)]).fetchall()
        got = conn.execute("SELECT rowid FROM bigram WHERE bigram MATCH ?", [escape_fts(query)]).fetchall()
        assert got == want, (query, escape_fts(query))


def looks_up_each_match(path, query: dict) -> bool:
    """The page's query looks up each matching article by its id (the plan for a rare word), rather than scanning
    an index it already has and testing each entry against the matches (the plan for a common one)."""
    conn = sqlite3.connect(path)
    conn.create_function("escape_fts", 1, escape_fts)
    try:
        plan = " | ".join(r[3] for r in conn.execute("explain query plan " + query["sql"], query["params"]))
    finally:
        conn.close()
    return "SEARCH articles USING INTEGER PRIMARY KEY" in plan


def test_updates_remove_the_old_tokens(archive):
    """The index stores no text: a changed article must lose the tokens of its old text and authors."""
    db = open_archive(archive)
    newer = Article(url=OTHER_URL, title="潮州市召开陶瓷产业会议", source="潮州日报", authors=["林小梅"],
                    paragraphs=["会议研究部署陶瓷产业工作。"])
    store(db, newer, Capture(record_id="<urn:test:9>", url=OTHER_URL,
                                       fetched_at="2026-02-01T00:00:00Z"))
    renamed = Article(**{**newer.__dict__, "authors": ["陈大文"]})  # same text, new byline: a metadata refresh
    store(db, renamed, Capture(record_id="<urn:test:10>", url=OTHER_URL,
                                         fetched_at="2026-03-01T00:00:00Z"))
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)")
    db.close()
    assert search(archive, "陶瓷") == [2]
    assert search(archive, "陈大文") == [2]
    assert search(archive, "林小梅") == []
    assert search(archive, "旅游") == []  # only in the old text
    assert search(archive, "chaozhou") == []
    assert search(archive, "政治建设") == [1]


def test_indexing_an_indexed_article_again_is_refused(archive):
    db = open_archive(archive)
    with pytest.raises(RuntimeError, match="unindex_article"):
        index_article(db, 1, "标题", None, [], "正文")
    unindex_article(db, 1)
    index_article(db, 1, "标题", None, [], "正文")
    db.close()
    assert search(archive, "正文") == [1]
    assert search(archive, "政治建设") == []


@pytest.mark.parametrize("query", ["", " ", '""', "\u3000"])
def test_an_empty_search_box_lists_every_article(archive, query):
    """Submitting the box empty shows the table (FTS5 rejects an empty query: it was a 400 error page)."""
    assert search(archive, query) == [1, 2]
