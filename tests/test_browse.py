"""The archive in Datasette, in-process: metadata, the article page, canned queries, charts, feed, facets, CSV."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import xml.etree.ElementTree as ET

import lxml.html
import pytest

from browse.metadata import TABLES
from scraper.importer import import_files
from tests.browse_helpers import HOSTILE_URL, PWNED, REFERENCE_URL, article_id, get
from tests.warc_helpers import reference_html, write_warc

ATOM = "{http://www.w3.org/2005/Atom}"
BILINGUAL = re.compile(r"[\u4e00-\u9fff].*·.*[A-Za-z]")


@pytest.fixture(scope="session")
def archive(sample_archive):
    return sample_archive


@pytest.fixture(scope="module")
def reference_id(archive):
    return article_id(archive, REFERENCE_URL)


@pytest.fixture(scope="module")
def hostile_id(archive):
    return article_id(archive, HOSTILE_URL)


def test_every_table_and_column_is_described_in_both_languages(archive):
    conn = sqlite3.connect(archive)
    tables = [r[0] for r in conn.execute(
        "select name from sqlite_master where type = 'table' and name not like 'articles_fts_%'")]
    for table in tables:
        assert table in TABLES, f"table {table} has no description in browse/metadata.py"
        description, columns = TABLES[table]
        assert BILINGUAL.search(description), description
        for (column,) in conn.execute(f"select name from pragma_table_info('{table}')"):
            assert column in columns, f"column {table}.{column} has no description in browse/metadata.py"
            assert BILINGUAL.search(columns[column]), f"{table}.{column}: {columns[column]}"
    conn.close()


def test_metadata(archive):
    meta = get(archive, "/-/metadata.json").json()
    assert meta["title"] == "潮州库档案 · Chaozhou Archive"
    assert meta["source_url"] == "https://gdxk.southcn.com/cz/"
    assert "版权" in meta["license"]
    tables = meta["databases"]["archive"]["tables"]
    articles = tables["articles"]
    assert articles["sort_desc"] == "published_at"
    assert articles["label_column"] == "title"
    assert articles["facets"] == [{"article": "collection"}, {"article": "column"}, {"article": "source_id"},
                                 {"article": "year"}, {"author": "id"}]
    assert tables["sources"]["label_column"] == "name" and tables["authors"]["label_column"] == "name"
    assert articles["columns"]["published_at"].startswith("发布时间 · ")
    for hidden in ("frontier", "_sqlite_migrations", "articles_fts"):
        assert tables[hidden]["hidden"] is True


def test_internal_tables_are_hidden_and_articles_newest_first(archive):
    database, articles = get(archive, "/archive.json", "/archive/articles.json?_shape=objects")
    visible = {t["name"] for t in database.json()["tables"] if not t["hidden"]}
    assert "frontier" not in visible and not any(name.startswith("articles_fts") for name in visible)
    assert {"articles", "sources", "authors", "images", "captures"} <= visible
    dates = [row["published_at"] for row in articles.json()["rows"] if row["published_at"]]
    assert dates == sorted(dates, reverse=True)


def test_foreign_keys_read_as_names(archive):
    page = get(archive, "/archive/articles?source_id=1")
    assert "潮州日报" in page.text
    rows = get(archive, "/archive/articles.json?_labels=on&_shape=objects&source_id=1").json()["rows"]
    assert rows[0]["source_id"] == {"value": 1, "label": "潮州日报"}


def test_facets_on_source_column_year_and_author(archive):
    data = get(archive, "/archive/articles.json").json()
    facets = data["facet_results"]
    assert {"collection", "column", "source_id", "year", "author"} <= set(facets)
    years = {r["value"]: r["count"] for r in facets["year"]["results"]}
    assert years["2020"] == 3 and years["1992"] == 1
    authors = {r["label"]: r for r in facets["author"]["results"]}
    assert authors["魏界亮"]["count"] == 3
    sources = {r["label"]: r["count"] for r in facets["source_id"]["results"]}
    assert sources["潮州日报"] >= 3


def test_year_and_author_facets_filter(archive):
    year = get(archive, "/archive/articles.json?published_at__startswith=1992&_shape=objects").json()
    assert [r["title"] for r in year["rows"]] == ["潮州市召开市直机关党建工作座谈会"]
    author_id = sqlite3.connect(archive).execute("select id from authors where name = '魏界亮'").fetchone()[0]
    by_author = get(archive, f"/archive/articles.json?_author={author_id}&_shape=objects").json()
    assert len(by_author["rows"]) == 3
    assert by_author["human_description_en"].startswith('where author is "魏界亮"')
    selected = get(archive, f"/archive/articles.json?_author={author_id}").json()["facet_results"]["author"]
    assert [r["label"] for r in selected["results"] if r["selected"]] == ["魏界亮"]


def test_article_page(archive, reference_id):
    page = get(archive, f"/archive/articles/{reference_id}/read")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    article = doc.cssselect("article.chaozhou-article")[0]
    assert article.cssselect("h1")[0].text_content() == "发挥政治统领作用 强化机关政治建设"
    byline = article.cssselect(".byline")[0].text_content()
    assert "2020-10-13 11:13:14" in byline and "潮州日报" in byline and "魏界亮" in byline
    assert [li.text_content() for li in article.cssselect(".breadcrumb li")] == ["首页", "潮州库", "理论文章、理论著作"]
    headings = [h.text_content() for h in article.cssselect(".chaozhou-body h2")]
    assert headings == ["一、坚持政治机关站位，落实政治要求", "二、着力打造政治机关，发挥表率作用",
                        "三、压实党建政治责任，推动融合发展"]
    paragraphs = article.cssselect(".chaozhou-body p")
    assert paragraphs[0].text_content().startswith("开展机关党建工作，一定要把党的政治建设摆在首位")
    count = sqlite3.connect(archive).execute("select paragraph_count from articles where id = ?", [reference_id])
    assert len(paragraphs) + len(headings) == count.fetchone()[0]
    links = {a.text_content(): a.get("href") for a in article.cssselect(".chaozhou-links a")}
    assert links[REFERENCE_URL] == REFERENCE_URL
    assert re.fullmatch(r"/archive/captures/\d+/replay", links["存档网页 · Archived capture"])
    assert "script-src 'none'" in page.headers["content-security-policy"]


def test_article_page_shows_images(archive):
    url = "https://cz.southcn.com/node_3a9c1f0e2b/7d52e8a4c6.shtml"
    page = get(archive, f"/archive/articles/{article_id(archive, url)}/read")
    figure = lxml.html.fromstring(page.text).cssselect(".chaozhou-images figure")[0]
    assert figure.cssselect("img")[0].get("src") == "https://img.southcn.com/cz/2020/10/14/e3b1c9a0.jpg"
    assert figure.cssselect("img")[0].get("referrerpolicy") == "no-referrer"
    assert figure.cssselect("figcaption")[0].text_content() == "潮州市直机关党建工作现场"


def test_hostile_article_page_has_nothing_executable(archive, hostile_id):
    page = get(archive, f"/archive/articles/{hostile_id}/read")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    article = doc.cssselect("article.chaozhou-article")[0]
    assert article.cssselect("script, iframe, svg, object, embed") == []
    for element in article.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            assert not value.strip().lower().startswith("javascript:"), (element.tag, name, value)
    # The text is there, as text: a reader sees what the page said.
    assert "<img src=x onerror=" in article.cssselect("h1")[0].text_content()
    assert "<script>window.__pwned=1;document.title='PWNED'</script>" in article.text_content()
    # The only scripts on the whole page are Datasette's own, and none mentions the page's code.
    for script in doc.cssselect("script"):
        assert "__pwned" not in (script.text or "") and PWNED not in (script.text or "")
    images = article.cssselect(".chaozhou-images img")
    assert [img.get("src") for img in images] == ['http://127.0.0.1:9/a.jpg" onerror="window.__pwned=1']


@pytest.mark.parametrize(("fragment", "expected"), [
    ("<p>正文<script>window.x=1</script></p>", "<p>正文</p>"),
    ('<p onclick="x()">正文</p>', "<p>正文</p>"),
    ('<a href="javascript:x()">链接</a>', '<a rel="noopener noreferrer nofollow">链接</a>'),
    ('<img src="javascript:x()" onerror="x()" alt="图">', '<img alt="图" loading="lazy" referrerpolicy="no-referrer">'),
    ('<img src="data:image/svg+xml,<svg onload=x()>">', '<img loading="lazy" referrerpolicy="no-referrer">'),
    ("<iframe src=\"https://example.org\"></iframe><svg onload=x()></svg><style>*{}</style>", ""),
    ('<a href="/archive/articles?_author=1">作者</a>',
     '<a href="/archive/articles?_author=1" rel="noopener noreferrer nofollow">作者</a>'),
])
def test_sanitise_is_the_last_word(fragment, expected):
    """Whatever reaches the page passes nh3: even markup the page builder itself would never write."""
    from browse.article import sanitise

    assert shape(str(sanitise(fragment))) == shape(expected)


def shape(html: str) -> list:
    """Elements, attributes (in any order) and text of a fragment: nh3 does not keep attribute order."""
    if not html:
        return []
    return [(e.tag, sorted(e.attrib.items()), e.text_content()) if not isinstance(e, str) else e
            for e in lxml.html.fragments_fromstring(html)]


def test_titles_link_to_the_article_page(archive, reference_id):
    table = lxml.html.fromstring(get(archive, "/archive/articles").text)
    hrefs = [a.get("href") for a in table.cssselect("td.col-title a")]
    assert f"/archive/articles/{reference_id}/read" in hrefs
    row = get(archive, f"/archive/articles/{reference_id}")
    assert f'href="/archive/articles/{reference_id}/read"' in row.text


def test_capture_replay_runs_nothing(archive, hostile_id, reference_id):
    conn = sqlite3.connect(archive)
    capture = conn.execute("select capture_id from articles where id = ?", [hostile_id]).fetchone()[0]
    reference_capture = conn.execute("select capture_id from articles where id = ?", [reference_id]).fetchone()[0]
    conn.close()
    page, reference, missing = get(archive, f"/archive/captures/{capture}/replay",
                                   f"/archive/captures/{reference_capture}/replay", "/archive/captures/999/replay")
    assert page.status_code == 200 and "<script>window.__pwned" in page.text  # the page as fetched...
    assert page.headers["content-security-policy"].startswith("sandbox;")  # ...with scripts off
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert reference.status_code == 200 and "发挥政治统领作用" in reference.text
    assert missing.status_code == 404


def test_capture_replay_names_the_charset_the_parser_read_it_with(tmp_path):
    """A GBK page served as bare text/html, no <meta charset> either: a browser guesses (mojibake in Chromium); the
    replay names the encoding the parser chose, and a header that named another is corrected the same way."""
    html = re.sub(rb"<meta[^>]*charset[^>]*>", b"", reference_html()).decode("utf-8").encode("gbk")
    lying = REFERENCE_URL.replace("000001", "000002")
    warc = write_warc(tmp_path / "gbk.warc.gz", [(REFERENCE_URL, "text/html", html),
                                                  (lying, "text/html; charset=utf-8", html)])
    path = tmp_path / "archive.db"
    assert not import_files(str(path), [str(warc)], drift_check=False).errors
    conn = sqlite3.connect(path)
    captures = conn.execute("select a.capture_id, a.encoding from articles a order by a.url").fetchall()
    conn.close()
    assert [encoding for _, encoding in captures] == ["gb18030", "gb18030"]
    bare, lied = get(path, *(f"/archive/captures/{capture}/replay" for capture, _ in captures))
    for response in (bare, lied):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=gb18030"
        assert "发挥政治统领作用".encode("gbk") in response.content  # the bytes as fetched, not re-encoded


@pytest.mark.parametrize(("query", "first_title"), [
    ("党建", "潮州市召开市直机关党建工作座谈会"),
    ("疫", "发挥政治统领作用 强化机关政治建设"),
    ("政治建设", "发挥政治统领作用 强化机关政治建设"),
    ("政治生日", "潮州市直机关党员过“政治生日” 重温入党誓词"),
])
def test_search_canned_query_ranks_and_snips(archive, query, first_title):
    response = get(archive, f"/archive/search.json?_shape=objects&q={query}")
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert rows and rows[0]["title"] == first_title
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))  # a place in the list, no raw bm25 score
    assert f"【{query}】" in rows[0]["snippet"]
    page = get(archive, f"/archive/search?q={query}")
    assert f'href="/archive/articles/{rows[0]["article_id"]}/read"' in page.text  # titles link to the article


def test_search_canned_query_without_a_query_is_empty(archive):
    for q in ("", "%20", "%22", "%E3%80%80"):
        response = get(archive, f"/archive/search.json?_shape=array&q={q}")
        assert response.status_code == 200 and response.json() == []
    page = get(archive, "/archive/search")
    assert page.status_code == 200 and 'name="q"' in page.text


def test_ordinary_search_box_finds_chinese(archive):
    for query in ("疫", "党建", "总书记", "政治建设"):
        rows = get(archive, f"/archive/articles.json?_search={query}&_shape=objects").json()["rows"]
        assert REFERENCE_URL in [r["url"] for r in rows], query


def test_counting_canned_queries(archive):
    month, source, author = get(archive, "/archive/articles_per_month.json?_shape=array",
                                "/archive/articles_per_source.json?_shape=array",
                                "/archive/articles_per_author.json?_shape=array")
    months = {r["month"]: r["articles"] for r in month.json()}
    assert months["2020-10"] == 3 and months["1992-04"] == 1 and list(months) == sorted(months, reverse=True)
    assert {r["source"]: r["articles"] for r in source.json()}["潮州日报"] == 3
    assert author.json()[0] == {"author_id": author.json()[0]["author_id"], "author": "魏界亮", "articles": 3}


def test_front_page_has_search_charts_and_feed(archive):
    page = get(archive, "/")
    doc = lxml.html.fromstring(page.text)
    form = doc.cssselect("form.chaozhou-search")[0]
    assert form.get("action") == "/archive/-/search" and form.cssselect("input[name=q]")  # browse.reader_search
    assert doc.cssselect('a[href="/archive/articles"]')  # the table view stays a link away
    images = [img.get("src") for img in doc.cssselect("figure.chaozhou-chart img")]
    assert images == ["/-/chaozhou/archive/per-month.svg", "/-/chaozhou/archive/per-column.svg"]
    assert doc.cssselect('a[href="/archive/articles.atom"]')
    # Nothing on the page is fetched from another machine.
    for element in doc.iter():
        for attribute in ("src", "href"):
            value = element.get(attribute) or ""
            fetched = element.tag in ("img", "script", "iframe") or element.get("rel") == "stylesheet"
            if fetched and value.startswith(("http:", "https:", "//")):
                pytest.fail(f"{element.tag} loads {value}")


def test_charts_are_svg_drawn_here(archive):
    month, column, unknown = get(archive, "/-/chaozhou/archive/per-month.svg", "/-/chaozhou/archive/per-column.svg",
                                 "/-/chaozhou/archive/nope.svg")
    assert month.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(month.content)
    bars = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    assert "2020-10: 3" in bars and "1992-04: 1" in bars
    assert "<script" not in month.text and "href" not in month.text
    assert "潮州库 / 理论文章、理论著作: 3" in column.text  # the reference article, its copy, the hostile page
    assert unknown.status_code == 404


def test_atom_feed(archive, reference_id):
    response = get(archive, "/archive/articles.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    published = [e.findtext(f"{ATOM}published") for e in entries]
    assert published == sorted(published, reverse=True)
    reference = next(e for e in entries if e.findtext(f"{ATOM}id") == REFERENCE_URL)
    assert reference.findtext(f"{ATOM}title") == "发挥政治统领作用 强化机关政治建设"
    assert reference.findtext(f"{ATOM}author/{ATOM}name") == "魏界亮"
    assert reference.findtext(f"{ATOM}updated") == "2020-10-13T11:13:14+08:00"
    links = {link.get("rel"): link.get("href") for link in reference.findall(f"{ATOM}link")}
    assert links["alternate"] == f"http://localhost/archive/articles/{reference_id}/read"
    assert links["related"] == REFERENCE_URL
    assert reference.findtext(f"{ATOM}summary").startswith("开展机关党建工作")
    dated = next(e for e in entries if e.findtext(f"{ATOM}title") == "潮州市召开市直机关党建工作座谈会")
    assert dated.findtext(f"{ATOM}updated") == "1992-04-23T00:00:00+08:00"


def test_csv_keeps_chinese_and_bom_variant_adds_only_the_bom(archive):
    plain, bom, streamed = get(
        archive, "/archive/articles.csv?_labels=on&_size=max", "/archive/articles.csv?_labels=on&_size=max&_bom=1",
        "/archive/articles.csv?_stream=on&_size=1&_bom=1&_dl=1")
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    assert bom.content == b"\xef\xbb\xbf" + plain.content
    rows = list(csv.DictReader(io.StringIO(bom.content.decode("utf-8-sig"))))
    assert "发挥政治统领作用 强化机关政治建设" in [r["title"] for r in rows]
    assert "潮州日报" in [r["source_id_label"] for r in rows]
    assert b"\r\n" in bom.content  # Excel's line ends
    assert streamed.headers["content-disposition"] == 'attachment; filename="articles.csv"'
    streamed_rows = list(csv.DictReader(io.StringIO(streamed.content.decode("utf-8-sig"))))
    assert len(streamed_rows) == len(rows) == 6  # _stream=on: every row, past the page size


def test_bom_link_in_table_view(archive):
    page = get(archive, "/archive/articles?column=大事记&_size=5")
    doc = lxml.html.fromstring(page.text)
    actions = {a.text_content().strip(): a.get("href") for a in doc.cssselect(".actions-menu-links a")}
    url = actions["CSV for Excel (UTF-8 with BOM)"]
    assert url.startswith("/archive/articles.csv?") and "_bom=1" in url and "_stream=on" in url
    assert "column=%E5%A4%A7%E4%BA%8B%E8%AE%B0" in url and "_size=5" not in url
    assert '"CSV for Excel"' in page.text and "p.export-links" in page.text  # the link beside "CSV"
    rows = list(csv.DictReader(io.StringIO(get(archive, url).content.decode("utf-8-sig"))))
    assert [r["column"] for r in rows] == ["大事记"]


def test_other_databases_keep_datasettes_defaults(archive, tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("create table articles (id integer primary key, title text)")
        conn.execute("insert into articles (title) values ('x')")
    conn.close()
    csv_bom, read, feed, queries = get(archive, "/other/articles.csv?_bom=1", "/other/articles/1/read",
                                       "/other/articles.atom", "/other.json", files=[str(other)])
    assert not csv_bom.content.startswith(b"\xef\xbb\xbf")
    assert read.status_code == 404 and feed.status_code == 404
    assert queries.json()["queries"] == []


@pytest.mark.parametrize(("stored", "atom"), [
    ("2020", "2020-01-01T00:00:00+08:00"),
    ("2020-05", "2020-05-01T00:00:00+08:00"),
    ("1992-04-23", "1992-04-23T00:00:00+08:00"),
    ("2020-10-13T11:13", "2020-10-13T11:13:00+08:00"),
    ("2020-10-13T11:13:14+08:00", "2020-10-13T11:13:14+08:00"),
    ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
])
def test_feed_dates_are_rfc3339(stored, atom):
    from browse.feed import rfc3339

    assert rfc3339(stored) == atom


def test_readme_screenshots_exist():
    """Every image the README shows is in the repository (docs/screenshots/, taken by `python -m tests.screenshots`)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", (root / "README.md").read_text(encoding="utf-8"))
    assert len(images) >= 5
    for image in images:
        assert (root / image).is_file(), image


def test_readers_tables_come_first_the_licence_once_and_facets_in_both_languages(archive):
    front, database, articles = get(archive, "/", "/archive", "/archive/articles")
    front_tables = [a.text for a in lxml.html.fromstring(front.text).cssselect("p.chaozhou-tables a, h2 ~ p a")
                    if re.fullmatch(r"/archive/\w+", a.get("href", ""))]
    database_tables = [a.text for a in lxml.html.fromstring(database.text).cssselect("div.db-table h3 a")]
    for tables in (front_tables, database_tables):
        assert tables[0] == "articles", tables
        assert {"captures", "runs", "run_health"} <= set(tables[tables.index("article_versions"):]), tables
    for page in (front, database, articles):
        assert page.text.count("本存档仅供研究与学习") == 1
    headings = [re.sub(r"\s+", " ", p.text_content()).strip() for p in
                lxml.html.fromstring(articles.text).cssselect("p.facet-info-name strong")]
    assert [h.rsplit(" ", 1)[0] for h in headings] == [
        "年份 · year", "来源 · source", "栏目 · column", "作者 · author", "文库 · collection"], headings


def test_the_front_page_links_the_coverage_page(archive):
    front, coverage = get(archive, "/", "/-/coverage")
    assert "/-/coverage" in [a.get("href") for a in lxml.html.fromstring(front.text).cssselect("a")]
    assert coverage.status_code == 200
