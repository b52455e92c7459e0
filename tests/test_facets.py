"""The articles page's facets (browse/facets.py), checked against counts made here from the rows themselves.

Four of them (collection, column, source, year) come from one grouped query and the author facet from a join table,
so each is compared, value by value, with a Counter over the articles the same page lists, for filters that match
every article, most of them, a few and none; each value's link must lead to a page of exactly that many articles.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
from collections import Counter
from urllib.parse import urlsplit

import lxml.html
import pytest
from datasette.app import Datasette
from datasette.tracer import capture_traces

from pipelines.item import Article, Capture
from pipelines.schema import open_archive
from pipelines.search import escape_fts
from scraper.sites import place
from tests.archive_checks import store

COLUMNS = {"llwzllzz": ["首页", "潮州库", "理论文章、理论著作"], "dsj": ["首页", "潮州库", "大事记"],
           "rw": ["首页", "潮州库", "人物"]}
SOURCES = ["潮州日报", "南方日报", "潮州市委党校", None]
AUTHORS = [f"作者{n}" for n in range(30)]
WORDS = ["党建", "文化", "乡村振兴", "侨乡"]


def make_article(n: int, rng: random.Random) -> Article:
    code = rng.choice(list(COLUMNS))
    # Some articles on another site: no collection, a column from the breadcrumb (or none).
    url = (f"https://gdxk.southcn.com/cz/{code}/content/post_{n}.html" if n % 7 else
           f"https://www.southcn.com/node_{n}/content_{n}.htm")
    year = rng.randint(1990, 2025)
    published = rng.choice([f"{year}-03-0{rng.randint(1, 9)}T08:00:00+08:00", f"{year}-05-01", None])
    words = [w for w in WORDS if rng.random() < {"党建": 0.95, "文化": 0.5, "乡村振兴": 0.1, "侨乡": 0.0}[w]]
    collection, column = place(url, COLUMNS[code])  # as the parser places an article
    return Article(url=url, title=f"第{n}篇" + "".join(words), source=rng.choice(SOURCES), published_at=published,
                   authors=rng.sample(AUTHORS, rng.choice([0, 1, 1, 2, 3])), breadcrumb=COLUMNS[code],
                   collection=collection, column=column,
                   paragraphs=[f"这是第{n}篇文章。" + "，".join(words or ["其他"]) + "。"])


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("facets") / "archive.db"
    db = open_archive(path)
    rng = random.Random(7)
    for n in range(1, 301):
        capture = Capture(record_id=f"<urn:facets:{n}>", url=f"https://example.test/{n}", fetched_at="2026-01-01")
        store(db, make_article(n, rng), capture)
    db.close()
    return path


def fetch(path, *urls: str, traces: list | None = None) -> list[dict]:
    async def run():
        ds = Datasette([str(path)])
        pages = []
        for url in urls:
            with capture_traces(traces if traces is not None else []):
                response = await ds.client.get(url)
            assert response.status_code == 200, response.text
            pages.append(response.json())
        return pages
    return asyncio.run(run())


def expected_counts(path, ids: list[int]) -> dict[str, Counter]:
    conn = sqlite3.connect(path)
    marks = ",".join("?" * len(ids))
    counts = {name: Counter() for name in ("collection", "column", "source_id", "year", "author")}
    for collection, column, source_id, published in conn.execute(
            f"select collection, [column], source_id, published_at from articles where id in ({marks})", ids):
        for name, value in (("collection", collection), ("column", column), ("source_id", source_id),
                            ("year", published[:4] if published else None)):
            if value is not None:
                counts[name][value] += 1
    for (author_id,) in conn.execute(f"select author_id from article_authors where article_id in ({marks})", ids):
        counts["author"][author_id] += 1
    conn.close()
    return counts


FILTERS = ["", "_search=党建", "_search=文化", "_search=乡村振兴", "_search=侨乡", "source_id=1",
           "column=大事记", "published_at__startswith=2001", "_author=3", "_search=党建&source_id=2"]


@pytest.mark.parametrize("query", FILTERS)
def test_facet_counts_match_the_rows_listed(archive, query):
    base = "/archive/articles.json?" + query
    page, rows = fetch(archive, base, base + "&_nofacet=1&_size=max&_shape=objects&_col=id")
    ids = [row["id"] for row in rows["rows"]]
    assert len(ids) == rows["filtered_table_rows_count"]
    facets, expected = page["facet_results"], expected_counts(archive, ids)
    names = dict(sqlite3.connect(archive).execute("select id, name from authors").fetchall())
    for name in ("collection", "column", "source_id", "year", "author"):
        shown = [(r["value"], r["count"]) for r in facets[name]["results"]]
        if name == "year":  # newest first, as the table is
            ordered = sorted(expected[name].items(), reverse=True)
        elif name == "author":  # most articles first, then by name
            ordered = sorted(expected[name].items(), key=lambda item: (-item[1], names[item[0]]))
        else:  # as Datasette's column facets: most articles first, then by value
            ordered = sorted(expected[name].items(), key=lambda item: (-item[1], item[0]))
        assert shown == ordered[:20], name
        assert facets[name]["truncated"] == (len(ordered) > 20), name
        if name == "author":
            assert [r["label"] for r in facets[name]["results"]] == [names[v] for v, _ in shown]


def test_each_facet_value_links_to_exactly_its_articles(archive):
    base = "/archive/articles.json?_search=党建"
    (page,) = fetch(archive, base)
    for name in ("collection", "column", "source_id", "year", "author"):
        for result in page["facet_results"][name]["results"][:3]:
            target = urlsplit(result["toggle_url"])
            (filtered,) = fetch(archive, f"{target.path}?{target.query}")
            assert filtered["filtered_table_rows_count"] == result["count"], (name, result["value"])
            again = {str(r["value"]): r for r in filtered["facet_results"][name]["results"]}
            assert again[str(result["value"])]["selected"] is True
            back = urlsplit(again[str(result["value"])]["toggle_url"])  # a selected value's link takes it off
            (unfiltered,) = fetch(archive, f"{back.path}?{back.query}")
            assert unfiltered["filtered_table_rows_count"] == page["filtered_table_rows_count"]


def test_source_facet_shows_names(archive):
    (page,) = fetch(archive, "/archive/articles.json")
    labels = {r["label"] for r in page["facet_results"]["source_id"]["results"]}
    assert labels == {"潮州日报", "南方日报", "潮州市委党校"}


def plans(path, traces: list) -> list[str]:
    """SQLite's query plan of each traced query on the archive (Datasette's own bookkeeping queries left out)."""
    conn = sqlite3.connect(path)
    conn.create_function("escape_fts", 1, escape_fts)
    found = []
    for trace in traces:
        try:
            rows = conn.execute("explain query plan " + trace["sql"], trace.get("params") or {}).fetchall()
        except sqlite3.Error:
            continue  # Datasette's internal database, or a statement that is not a query
        found.append(" | ".join(row[3] for row in rows))
    conn.close()
    return found


def reads_articles(plan: str) -> bool:
    """The plan reads the articles table through an index (not only the search index, articles_fts)."""
    return re.search(r"\b(?:SCAN|SEARCH) articles USING\b", plan) is not None


def test_four_facets_take_one_query_over_one_index(archive):
    """The design behind the search page's speed: one grouped query, answered from the facet index."""
    traces: list = []
    fetch(archive, "/archive/articles.json?_search=党建", traces=traces)
    found = plans(archive, traces)
    # The rows, their count and the four facets: three passes over the articles, one of them the facet index's.
    assert len([p for p in found if reads_articles(p)]) == 3, found
    assert len([p for p in found if "INDEX idx_articles_facets" in p]) == 1, found
    authors = [p for p in found if "article_authors" in p]
    assert len(authors) == 1 and "INDEX idx_article_authors_author_article" in authors[0], authors
    # The search is the only filter: the article ids are the index's matches, not a pass over the articles.
    assert not reads_articles(authors[0]) and "articles_fts" in authors[0], authors


def test_a_facet_asked_for_by_url_still_works(archive):
    (page,) = fetch(archive, "/archive/articles.json?_facet_year=first_seen&_facet=editor")
    assert page["facet_results"]["year_2"]["results"][0]["value"] == "2026"  # first_seen: when imported
    assert "editor" in page["facet_results"]


@pytest.mark.parametrize(("query", "from_index"), [
    ("_search=党建", True), ("_search_title=文化", True), ("_search=乡村振兴", True),
    ("_search=党建&source_id=2", False), ("_search=党建&_author=3", False), ("source_id=1", False),
    ("_search=党建&_where=id%20%3E%2050", False)])
def test_author_facet_reads_the_search_index_only_when_the_search_is_the_only_filter(archive, query, from_index):
    traces: list = []
    fetch(archive, "/archive/articles.json?" + query, traces=traces)
    (authors,) = plans(archive, [t for t in traces if "group by author_id" in t["sql"]])  # the author facet's
    assert (not reads_articles(authors) and "articles_fts" in authors) == from_index, authors


def test_headings_name_each_facet_in_both_languages(archive):
    async def run():
        return await Datasette([str(archive)]).client.get("/archive/articles?_search=党建")
    page = asyncio.run(run())
    assert page.status_code == 200
    headings = {" ".join((e.text or "").split()) for e in lxml.html.fromstring(page.text).cssselect(
        ".facet-info strong")}
    assert {"文库 · collection", "栏目 · column", "来源 · source", "年份 · year", "作者 · author"} <= headings, headings


def test_facet_links_work_under_a_base_url(archive):
    async def run():
        ds = Datasette([str(archive)], settings={"base_url": "/pre/"})
        page = (await ds.client.get("/archive/articles.json?_search=党建")).json()
        followed = []
        for name in ("collection", "column", "source_id", "year", "author"):
            result = page["facet_results"][name]["results"][0]
            target = urlsplit(result["toggle_url"])
            assert target.path == "/pre/archive/articles.json", result["toggle_url"]
            response = await ds.client.request("GET", f"{target.path}?{target.query}", avoid_path_rewrites=True)
            assert response.status_code == 200, (name, result["toggle_url"])
            followed.append((response.json()["filtered_table_rows_count"], result["count"]))
        return followed
    for rows, count in asyncio.run(run()):
        assert rows == count


def test_a_declared_facet_asked_for_again_by_url_stays_as_declared(archive):
    (page,) = fetch(archive, "/archive/articles.json?_facet_article=collection&_facet_article=column")
    facets = page["facet_results"]
    assert "collection_2" not in facets and "column_2" not in facets
    assert facets["collection"]["hideable"] is False and facets["column"]["hideable"] is False
