"""The readers' search page (browse/reader_search.py) through Datasette's own client, on tests/search_archive.py."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import lxml.html
import pytest

from tests.browse_helpers import get

PAGE = "/archive/-/search"


def page(archive, query: str = "", **params):
    args = "&".join(f"{k}={quote(str(v))}" for k, v in {"q": query, **params}.items() if v != "")
    response = get(archive[0], f"{PAGE}?{args}" if args else PAGE)
    return response, lxml.html.fromstring(response.text)


def hit_ids(doc) -> list[int]:
    return [int(a.get("href").split("/")[-2]) for a in doc.cssselect("li.search-hit h2 a")]


def count(doc) -> int:
    found = doc.cssselect("p.search-count strong")
    return int(found[0].text_content().replace(",", "")) if found else 0


def facet(doc, name: str) -> dict[str, tuple[int, str]]:
    """label -> (stories, link) of one facet."""
    out = {}
    for li in doc.cssselect(f"section.facet-{name} li"):
        links = li.cssselect("a")
        if links:
            out[links[0].text_content()] = (int(li.cssselect(".count")[0].text_content().replace(",", "")),
                                            links[0].get("href"))
    return out


def test_a_word_finds_its_stories_with_a_marked_snippet(search_archive):
    response, doc = page(search_archive, "疫情")
    assert response.status_code == 200
    _, ids = search_archive
    assert set(hit_ids(doc)) == {ids["story_a"], ids["epidemic"]}  # the story once, by its best copy
    assert count(doc) == 2
    marks = [m.text_content() for m in doc.cssselect("li.search-hit .hit-snippet mark")]
    assert marks and set(marks) == {"疫情"}
    first = doc.cssselect("li.search-hit")[0]
    assert first.cssselect("h2 a")[0].get("href") == f"/archive/articles/{hit_ids(doc)[0]}/read"
    assert first.cssselect("time") and first.cssselect(".hit-source") and first.cssselect(".hit-column")


def test_several_words_are_all_required(search_archive):
    _, ids = search_archive
    _, both = page(search_archive, "政治 建设")
    assert set(hit_ids(both)) == {ids["story_a"], ids["phrase"], ids["apart"]}
    _, none = page(search_archive, "疫情 乡村振兴")
    assert count(none) == 0 and hit_ids(none) == []


def test_a_quoted_phrase_keeps_its_words_together(search_archive):
    _, ids = search_archive
    _, doc = page(search_archive, '"政治建设"')
    assert set(hit_ids(doc)) == {ids["story_a"], ids["phrase"]}  # not 建设与政治, where both words stand apart
    assert {m.text_content() for m in doc.cssselect(".hit-snippet mark")} == {"政治建设"}


def test_a_one_character_word(search_archive):
    _, ids = search_archive
    _, doc = page(search_archive, "疫")
    assert set(hit_ids(doc)) == {ids["story_a"], ids["epidemic"]}
    assert {m.text_content() for m in doc.cssselect(".hit-snippet mark")} == {"疫"}


def test_full_width_text_is_found_and_marked_as_printed(search_archive):
    _, ids = search_archive
    _, doc = page(search_archive, "abc2020")
    assert hit_ids(doc) == [ids["fullwidth"]]
    assert [m.text_content() for m in doc.cssselect(".hit-snippet mark")] == ["ＡＢＣ２０２０"]


def test_a_story_is_listed_once_with_its_copies(search_archive):
    _, ids = search_archive
    _, relevant = page(search_archive, "党建")
    assert hit_ids(relevant) == [ids["story_a"]]  # the copy with the word in its title ranks first
    assert count(relevant) == 1
    copies = relevant.cssselect("li.search-hit .hit-copies")[0]
    assert "3" in copies.text_content()
    assert parse_qs(urlsplit(copies.get("href")).query) == {"story_id": ["7"]}
    _, newest = page(search_archive, "党建", sort="newest")
    assert hit_ids(newest) == [ids["story_c"]]  # newest first: the story's newest copy stands for it


def test_facets_count_stories(search_archive):
    _, doc = page(search_archive, "党建")
    # one story, published in three places: each source and column counts it once, and the total is 1
    assert {k: v[0] for k, v in facet(doc, "source").items()} == {"潮州日报": 1, "南方日报": 1, "南方+": 1}
    assert {k: v[0] for k, v in facet(doc, "column").items()} == {"理论文章": 1, "理论": 1}
    assert {k: v[0] for k, v in facet(doc, "year").items()} == {"2022": 1, "2021": 1}
    assert {k: v[0] for k, v in facet(doc, "author").items()} == {"王伟": 1, "李娜": 1}
    _, wide = page(search_archive, "疫情")
    assert {k: v[0] for k, v in facet(wide, "author").items()} == {"李娜": 2, "王伟": 1}
    assert list(facet(wide, "year")) == ["2022", "2021", "2020"]  # newest year first


def test_facets_combine_and_are_removed_by_their_links(search_archive):
    _, ids = search_archive
    _, doc = page(search_archive, "疫情")
    href = facet(doc, "source")["潮州日报"][1]
    response = get(search_archive[0], href)
    by_source = lxml.html.fromstring(response.text)
    assert set(hit_ids(by_source)) == {ids["story_a"], ids["epidemic"]}
    href = facet(by_source, "column")["大事记"][1]
    both = lxml.html.fromstring(get(search_archive[0], href).text)
    assert hit_ids(both) == [ids["epidemic"]] and count(both) == 1
    chips = both.cssselect("ul.search-filters li")
    assert len(chips) == 2
    without_source = next(li for li in chips if "潮州日报" in li.text_content()).cssselect("a")[0].get("href")
    assert "source=" not in without_source and "column=" in without_source and "q=" in without_source
    back = lxml.html.fromstring(get(search_archive[0], without_source).text)
    assert hit_ids(back) == [ids["epidemic"]] and len(back.cssselect("ul.search-filters li")) == 1


def test_twenty_a_page_with_page_links(search_archive):
    _, ids = search_archive
    _, first = page(search_archive, "乡村振兴")
    assert count(first) == 25 and len(hit_ids(first)) == 20
    links = {a.text_content(): a.get("href") for a in first.cssselect("nav.search-pages a")}
    assert set(links) == {"2"}
    second = lxml.html.fromstring(get(search_archive[0], links["2"]).text)
    assert len(hit_ids(second)) == 5 and not set(hit_ids(first)) & set(hit_ids(second))
    assert second.cssselect("ol.search-results")[0].get("start") == "21"
    assert set(hit_ids(first)) | set(hit_ids(second)) == {ids[f"rural_{n}"] for n in range(25)}


def test_newest_first_and_most_relevant_first(search_archive):
    _, ids = search_archive
    _, newest = page(search_archive, "乡村振兴", sort="newest")
    assert hit_ids(newest)[:3] == [ids["rural_24"], ids["rural_23"], ids["rural_22"]]
    _, relevant = page(search_archive, "政治建设")
    assert hit_ids(relevant)[0] == ids["phrase"]  # in the title and twice in the body
    toggle = relevant.cssselect("p.search-order a")[0]
    assert "sort=newest" in toggle.get("href")
    _, by_date = page(search_archive, "政治建设", sort="newest")
    assert hit_ids(by_date) == [ids["story_c"], ids["phrase"]]  # the story by its newest copy


def test_an_empty_query_lists_the_newest(search_archive):
    _, ids = search_archive
    response, doc = page(search_archive)
    assert response.status_code == 200
    assert count(doc) == 31  # 33 articles, one story of three
    assert hit_ids(doc)[:2] == [ids["rural_24"], ids["rural_23"]]
    assert ids["story_c"] in hit_ids(doc) and not {ids["story_a"], ids["story_b"]} & set(hit_ids(doc))
    assert facet(doc, "source")["潮州日报"][0] == 29  # the story counts once, by any of its sources


def test_no_match_says_so_and_suggests_dropping_a_word(search_archive):
    _, ids = search_archive
    response, doc = page(search_archive, '疫情 乡村振兴 "不存在的短语"')
    assert response.status_code == 200
    assert doc.cssselect("p.search-none") and hit_ids(doc) == []
    suggestions = {a.text_content(): a.get("href") for a in doc.cssselect(".search-suggestions a")}
    assert set(suggestions) == {'乡村振兴 "不存在的短语"', '疫情 "不存在的短语"', "疫情 乡村振兴"}
    assert all(parse_qs(urlsplit(href).query)["q"] == [text] for text, href in suggestions.items())
    _, one = page(search_archive, "不存在")
    assert one.cssselect("p.search-none") and not one.cssselect(".search-suggestions")


@pytest.mark.parametrize("params", [
    {"q": '"'}, {"q": "。，"}, {"q": "x" * 201}, {"page": "0"}, {"page": "abc"}, {"page": "99999"},
    {"year": "20x1"}, {"source": "-1"}, {"author": "9" * 30}, {"q": "NEAR(a b"}, {"q": "党建 AND OR *"},
])
def test_a_malformed_request_is_a_message_not_an_error(search_archive, params):
    response = get(search_archive[0], f"{PAGE}?" + "&".join(f"{k}={quote(v)}" for k, v in params.items()))
    assert response.status_code in (200, 400), response.text[:300]
    doc = lxml.html.fromstring(response.text)
    assert doc.cssselect("p.search-message") or doc.cssselect("p.search-none")


def test_hostile_title_body_and_names_are_shown_as_text(search_archive):
    _, ids = search_archive
    response, doc = page(search_archive, "恶意")
    assert hit_ids(doc) == [ids["hostile"]]
    assert "<script>window.__pwned" not in response.text and "<img src=x" not in response.text
    assert "<b>来源</b>" not in response.text and "<u>作者</u>" not in response.text
    hit = doc.cssselect("li.search-hit")[0]
    assert hit.cssselect("h2 a")[0].text_content() == "<script>window.__pwned=1</script>恶意标题"
    assert not hit.cssselect("script, img, b, i, u")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    echoed, _ = page(search_archive, '"><script>alert(1)</script>')
    assert "<script>alert(1)" not in echoed.text and "&lt;script&gt;alert(1)" in echoed.text


def test_front_page_and_database_page_search_boxes_lead_here(search_archive):
    for path in ("/", "/archive"):
        doc = lxml.html.fromstring(get(search_archive[0], path).text)
        form = doc.cssselect("form.chaozhou-search")[0]
        assert form.get("action") == PAGE and form.cssselect("input[name=q]")


def test_only_archives_have_a_search_page(search_archive, tmp_path):
    import sqlite3
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table articles (id integer primary key, title text)").connection.close()
    responses = get(search_archive[0], "/other/-/search?q=x", "/nothing/-/search", files=[str(other)])
    assert [r.status_code for r in responses] == [404, 404]


def test_snippet_marks_what_the_index_matches_and_escapes_the_rest():
    from browse.queries import query_pattern
    from browse.story_search import snippet

    marked = str(snippet("<b>x</b> 会议代号ＡＢＣ，潮州\n政治、建设与abcd", query_pattern('abc "政治建设"')))
    assert marked.startswith("&lt;b&gt;x&lt;/b&gt;")
    assert "<mark>ＡＢＣ</mark>" in marked and "<mark>政治、建设</mark>" in marked
    assert "abcd" in marked and "<mark>abc</mark>d" not in marked  # a word matches whole, as the index's tokens
    far = snippet("无关。" * 200 + "党建" + "。" * 200, query_pattern("党建"), chars=40)
    assert str(far).startswith("…") and "<mark>党建</mark>" in far and str(far).endswith("…")


def test_a_search_past_the_time_limit_is_a_message(search_archive):
    """With Datasette's limit at 1 ms the page's queries are interrupted: a SearchError with a message, not an
    exception the route would turn into a 500. (Through the route, Datasette's own permission look-ups can be
    interrupted first, before any of ours.)"""
    import asyncio

    from datasette.app import Datasette

    from browse.story_search import Search, SearchError, find_stories

    async def run(search: Search):
        db = Datasette([str(search_archive[0])], settings={"sql_time_limit_ms": 1}).get_database("archive")
        try:
            await find_stories(db, search, 1)
        except SearchError as error:
            return str(error)
        return None

    for search in (Search(query="的"), Search(query="乡", newest=True), Search()):
        message = asyncio.run(run(search))
        assert message is None or "took too long" in message


def test_copies_linked_by_the_store_are_one_result(story_archive):
    """End to end: three copies imported (the store links them, nothing set by hand) are one story found."""
    import sqlite3
    conn = sqlite3.connect(story_archive)
    ids = {row[0] for row in conn.execute("SELECT id FROM articles")}
    conn.close()
    response, doc = page((story_archive, {}), "政治建设")
    assert response.status_code == 200
    assert count(doc) == 1 and len(hit_ids(doc)) == 1 and hit_ids(doc)[0] in ids
    assert "3" in doc.cssselect("li.search-hit .hit-copies")[0].text_content()
