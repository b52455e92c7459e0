"""Stories: the copies of one text at several addresses linked as one (pipelines.stories), shown and exported."""

from __future__ import annotations

import io
import json
import random
import sqlite3
from contextlib import closing
from dataclasses import replace

import lxml.html
import pytest
from click.testing import CliRunner

import pipelines.stories as stories
from pipelines.export import export_articles
from pipelines.item import Article, Capture
from pipelines.schema import open_archive
from pipelines.stories import MIN_SHINGLES, band_keys, compare, fold, link_unsigned, shingles, sign
from scraper.cli import cli
from scraper.parse import parse_article
from tests.archive_checks import store
from tests.browse_helpers import get
from tests.story_pages import PAGES, story_copies
from tests.warc_helpers import HTML, reference_html

# Short 大事记 entries of one column: the same set phrases, different events.
NOTICES = ["4月23日，中共潮州市委召开市直机关党建工作座谈会，传达全省机关党建工作会议精神，部署下一阶段工作。",
           "5月8日，中共潮州市委召开市直机关党建工作座谈会，传达全省机关党建工作会议精神，总结一季度工作。"]


def copies() -> list[Article]:
    return [parse_article(page, url, content_type) for url, content_type, page in story_copies()]


def reference() -> Article:
    return copies()[0]


def capture(n: int, url: str, when: str = "2026-01-02T03:04:05Z") -> Capture:
    return Capture(record_id=f"<urn:test:story:{n}>", url=url, fetched_at=when, status=200, content_type=HTML)


def theory(url: str, paragraphs: list[str], title: str) -> Article:
    """Another theory article of the reference's column: same site, template and column, other text."""
    return replace(reference(), url=url, title=title, paragraphs=paragraphs, headings=[])


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def story_ids(db) -> dict[str, int | None]:
    return dict(db.execute("SELECT url, story_id FROM articles ORDER BY id").fetchall())


# --- shingles and verification ---

def test_fold_keeps_letters_and_digits_only_in_one_width():
    assert fold("Ａｂ，Ｃ １２。\n“潮州”") == "abc12潮州"


def test_shingles_ignore_spacing_punctuation_and_line_breaks():
    text = "开展机关党建工作，一定要把党的政治建设摆在首位。"
    assert shingles(text) == shingles(" 开展机关党建工作\n一定要把党的政治建设摆在首位！")
    assert all(len(s) == stories.SHINGLE_SIZE for s in shingles(text))


def test_the_three_copies_verify_as_one_story_each_pair():
    sets = [shingles(a.body) for a in copies()]
    for i in range(3):
        for j in range(i + 1, 3):
            assert compare(sets[i], sets[j]).same_story(), (i, j)
    cut = compare(sets[0], sets[1])
    assert cut.containment == 1.0 and cut.jaccard < 0.95  # the 南方+ copy lacks a paragraph


def test_articles_that_share_a_quoted_paragraph_are_not_one_story():
    body = reference().paragraphs
    a = shingles("\n".join(body[:2] + body[3:6]))
    b = shingles("\n".join(body[:2] + body[12:15]))
    similarity = compare(a, b)
    assert similarity.shared >= stories.MIN_SHARED  # the shared opening is long enough to count …
    assert not similarity.same_story()  # … but it is a small part of each


def test_short_notices_with_the_columns_set_phrases_are_not_one_story():
    a, b = (shingles(n) for n in NOTICES)
    assert compare(a, b).jaccard > 0.5  # mostly the same words …
    assert not compare(a, b).same_story()  # … and too short to tell
    assert len(a) < MIN_SHINGLES


def test_signature_and_band_keys_are_stable_and_close_texts_share_bands():
    sets = [shingles(a.body) for a in copies()]
    assert sign(sets[0]) == sign(set(sets[0]))
    keys = [set(band_keys(sign(s))) for s in sets]
    assert len(keys[0]) == stories.PERMUTATIONS // stories.ROWS_PER_BAND
    assert keys[0] & keys[1] and keys[0] & keys[2]


# --- at store time ---

def test_three_copies_stored_are_one_story(db):
    for n, article in enumerate(copies()):
        assert store(db, article, capture(n, article.url)) == "new"
    ids = set(story_ids(db).values())
    assert len(ids) == 1 and None not in ids
    (story_id,) = ids
    row = db.execute("SELECT title, published_at, article_count FROM stories").fetchall()
    assert row == [("发挥政治统领作用 强化机关政治建设", "2020-10-13T11:13:14+08:00", 3)]
    assert db.execute("SELECT count(*) FROM story_signatures WHERE signature IS NOT NULL").fetchone()[0] == 3
    assert story_id == db.execute("SELECT id FROM stories").fetchone()[0]


def test_two_articles_of_one_column_on_one_topic_are_not_one_story(db):
    body = reference().paragraphs
    base = "https://gdxk.southcn.com/cz/llwzllzz/content/post_00000{}.html"
    store(db, theory(base.format(2), body[:2] + body[3:6], "坚持政治机关站位"), capture(1, base.format(2)))
    store(db, theory(base.format(3), body[:2] + body[12:15], "压实党建政治责任"), capture(2, base.format(3)))
    for n, notice in enumerate(NOTICES):
        url = f"https://gdxk.southcn.com/cz/dsj/content/post_10000{n}.html"
        store(db, theory(url, [notice], f"大事记 {n}"), capture(10 + n, url))
    assert set(story_ids(db).values()) == {None}
    assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 0


def test_a_changed_text_leaves_its_story_and_a_corrected_one_joins_again(db):
    first, second, _ = copies()
    store(db, first, capture(1, first.url))
    store(db, second, capture(2, second.url))
    assert len(set(story_ids(db).values()) - {None}) == 1
    other = json.loads((PAGES / "nfapp-date-text-photo.expected.json").read_text("utf-8"))["expected"]["paragraphs"]
    store(db, replace(second, paragraphs=other), capture(3, second.url, "2026-02-01T00:00:00Z"))
    assert set(story_ids(db).values()) == {None}  # left; a story of one copy is none
    assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 0
    store(db, second, capture(4, second.url, "2026-03-01T00:00:00Z"))
    assert len(set(story_ids(db).values()) - {None}) == 1
    assert db.execute("SELECT article_count FROM stories").fetchall() == [(2,)]


def test_the_storys_date_follows_its_earliest_copy_when_a_date_is_read_again(db):
    first, _, third = copies()
    store(db, first, capture(1, first.url))
    store(db, third, capture(2, third.url))
    assert db.execute("SELECT published_at FROM stories").fetchall() == [("2020-10-13T11:13:14+08:00",)]
    # The same text, its date read anew (a newer parser, a later capture): the story's date is the earliest again.
    store(db, replace(first, published_at="2021-01-01T00:00:00+08:00"), capture(3, first.url, "2026-02-01T00:00:00Z"))
    assert db.execute("SELECT published_at, article_count FROM stories").fetchall() == [
        ("2020-10-14T08:45:12+08:00", 2)]


def test_an_article_that_links_two_stories_merges_them(db):
    body = reference().paragraphs
    halves = [body[:10], body[5:]]  # too little in common to be one story, each most of the whole
    urls = [f"https://example.org/{part}/{n}.html" for part in ("first", "second") for n in (1, 2)]
    for n, url in enumerate(urls):
        store(db, theory(url, halves[n // 2], f"half {n // 2}"), capture(n, url))
    assert len(set(story_ids(db).values())) == 2  # each half is a story of two copies
    whole = reference()
    store(db, whole, capture(9, whole.url))
    assert len(set(story_ids(db).values())) == 1 and None not in story_ids(db).values()
    assert db.execute("SELECT article_count FROM stories").fetchall() == [(5,)]


def test_when_the_bridge_of_two_stories_leaves_they_are_two_again(db):
    body = reference().paragraphs
    halves = [body[:10], body[5:]]  # too little in common to be one story, each most of the whole
    urls = [f"https://example.org/{part}/{n}.html" for part in ("first", "second") for n in (1, 2)]
    for n, url in enumerate(urls):
        store(db, theory(url, halves[n // 2], f"half {n // 2}"), capture(n, url))
    whole = reference()
    store(db, whole, capture(9, whole.url))
    assert db.execute("SELECT article_count FROM stories").fetchall() == [(5,)]
    # The page that held both halves now holds another text: nothing joins the halves any more.
    other = json.loads((PAGES / "nfapp-date-text-photo.expected.json").read_text("utf-8"))["expected"]["paragraphs"]
    assert store(db, replace(whole, paragraphs=other), capture(10, whole.url, "2026-02-01T00:00:00Z")) == "updated"
    ids = story_ids(db)
    assert ids[whole.url] is None
    assert ids[urls[0]] == ids[urls[1]] and ids[urls[2]] == ids[urls[3]]
    assert None not in (ids[urls[0]], ids[urls[2]]) and ids[urls[0]] != ids[urls[2]]
    assert sorted(db.execute("SELECT title, article_count FROM stories").fetchall()) == [("half 0", 2), ("half 1", 2)]


def test_a_disclaimer_under_many_short_captions_makes_no_big_story_and_a_copy_still_links(db):
    # 150 photo captions of 60 characters, each over the same 200-character disclaimer the parser kept: every
    # pair looks like two copies (Jaccard 0.6), and without a bound they were one story of 150.
    chars = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你能而子说过产种面后自之经"
    pick = random.Random(14)
    disclaimer = "".join(pick.choice(chars) for _ in range(200))
    captions = ["".join(pick.choice(chars) for _ in range(60)) for _ in range(150)]
    for n, caption in enumerate(captions):
        url = f"https://example.org/photo/{n}.html"
        store(db, theory(url, [caption, disclaimer], f"图片新闻 {n}"), capture(n, url))
    sizes = [r[0] for r in db.execute("SELECT article_count FROM stories")]
    assert max(sizes) <= stories.MAX_STORY_COPIES
    assert sum(sizes) < 150 / 3  # most captions stay stories of their own
    # The last caption republished elsewhere, under a header of the other site's: still its copy.
    copy_url = "https://example.net/photo/149.html"
    store(db, theory(copy_url, ["图片来源：潮州日报", captions[-1], disclaimer], "图片新闻"), capture(999, copy_url))
    ids = story_ids(db)
    assert ids[copy_url] is not None and ids[copy_url] == ids["https://example.org/photo/149.html"]


def test_a_full_story_takes_no_more_copies_and_keeps_a_copy_whose_text_is_corrected(db):
    whole = reference()
    urls = [f"https://example.org/copy/{n}.html" for n in range(stories.MAX_STORY_COPIES + 1)]
    for n, url in enumerate(urls):
        store(db, replace(whole, url=url), capture(n, url))
    ids = story_ids(db)
    assert db.execute("SELECT article_count FROM stories").fetchall() == [(stories.MAX_STORY_COPIES,)]
    assert ids[urls[-1]] is None  # one copy too many: on its own
    # A sentence of the first copy corrected: still a copy of its story, which is full; it stays in it.
    corrected = whole.paragraphs[:1] + [whole.paragraphs[1] + "（更正）"] + whole.paragraphs[2:]
    assert store(db, replace(whole, url=urls[0], paragraphs=corrected),
                 capture(99, urls[0], "2026-02-01T00:00:00Z")) == "updated"
    assert story_ids(db) == ids
    assert db.execute("SELECT article_count FROM stories").fetchall() == [(stories.MAX_STORY_COPIES,)]


# --- archives from before stories ---

def make_old_archive(path) -> None:
    """An archive as the release before step 013 left it: three copies stored, nothing signed or linked."""
    db = open_archive(path)
    for n, article in enumerate(copies()):
        store(db, article, capture(n, article.url))
    with db.conn:
        db.execute("UPDATE articles SET story_id = NULL")
        db.execute("DELETE FROM stories")
        db.execute("DROP TABLE story_signatures")
        db.execute("DROP TABLE story_bands")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '013_story_signatures'")
    db.close()


def test_an_upgraded_archive_links_its_copies_at_the_next_write_command(tmp_path):
    path = tmp_path / "archive.db"
    make_old_archive(path)
    page = PAGES / "gdxk-dsj-bare-date.html"
    result = CliRunner().invoke(cli, ["import", "--db", str(path), "--url",
                                      "https://gdxk.southcn.com/cz/dsj/content/post_9.html", str(page)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(path)
    linked = conn.execute("SELECT count(DISTINCT story_id), count(*) FROM articles WHERE story_id IS NOT NULL")
    assert linked.fetchone() == (1, 3)
    assert conn.execute("SELECT count(*) FROM story_signatures").fetchone()[0] == 4


def test_linking_an_old_archive_goes_on_where_a_stopped_run_left_it(tmp_path, monkeypatch):
    path = tmp_path / "archive.db"
    make_old_archive(path)
    db = open_archive(path)  # upgrades; opening alone links nothing (serve opens archives too)
    assert db.execute("SELECT count(*) FROM story_signatures").fetchone()[0] == 0
    real = stories.link_article
    calls = []

    def stop_at_third(db, article_id, body):
        calls.append(article_id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(db, article_id, body)

    monkeypatch.setattr(stories, "link_article", stop_at_third)
    with pytest.raises(KeyboardInterrupt):
        link_unsigned(db, batch=2)
    assert db.execute("SELECT count(*) FROM story_signatures").fetchone()[0] == 2  # the first batch kept
    monkeypatch.setattr(stories, "link_article", real)
    assert link_unsigned(db, batch=2) == 1
    assert db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0] == 1
    assert link_unsigned(db) == 0
    db.close()


# --- end to end: import, reader page, export ---

def test_three_copies_imported_at_three_hosts_are_one_story(story_archive):
    conn = sqlite3.connect(story_archive)
    rows = conn.execute("SELECT site, story_id FROM articles ORDER BY id").fetchall()
    assert len(rows) == 3 and len({s for _, s in rows}) == 1 and rows[0][1] is not None
    assert len({site for site, _ in rows}) == 3


def test_reader_page_lists_the_other_two_copies(story_archive):
    conn = sqlite3.connect(story_archive)
    articles = conn.execute("SELECT id, url FROM articles ORDER BY id").fetchall()
    first_id, first_url = articles[0]
    page = get(story_archive, f"/archive/articles/{first_id}/read")
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    (copies_nav,) = doc.cssselect("nav.copies")
    assert "也发表于 · Also published at" in copies_nav.text_content()
    links = [a.get("href") for a in copies_nav.cssselect("a")]
    for other_id, other_url in articles[1:]:
        assert f"/archive/articles/{other_id}/read" in links
        assert other_url in links
    assert f"/archive/articles/{first_id}/read" not in links and first_url not in links
    sites = [s.text_content() for s in copies_nav.cssselect(".site")]
    assert sites == ["static.nfapp.southcn.com", "cz.southcn.com"]  # earliest first
    assert "2020-10-14 08:45:12" in copies_nav.text_content()


def test_reader_page_escapes_hostile_copies_and_survives_a_url_it_cannot_split(story_archive):
    with closing(sqlite3.connect(story_archive)) as conn, conn:
        conn.execute("UPDATE articles SET title = ?, url = ?, site = ? WHERE id = 2",
                     ['<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">',
                      "javascript:window.__pwned=1", '"><b onmouseover=x>site'])
        # A row no parser gives (edited by hand, or from another tool): the copy's address urlsplit refuses.
        conn.execute("UPDATE articles SET url = 'http://[::1/copy' WHERE id = 3")
    page = get(story_archive, "/archive/articles/1/read")
    assert page.status_code == 200
    (nav,) = lxml.html.fromstring(page.text).cssselect("nav.copies")
    assert not nav.cssselect("script, img, b") and "<script>" in nav.text_content()
    hrefs = [a.get("href") for a in nav.cssselect("a")]
    assert not [h for h in hrefs if not h.startswith(("/archive/articles/", "http://", "https://"))]
    assert "/archive/articles/3/read" in hrefs and len(nav.cssselect("li")) == 2
    assert not [e for e in nav.iter() if any(name.startswith("on") for name in e.attrib)]


def test_reader_page_of_an_article_of_its_own_lists_no_copies(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    article = parse_article(reference_html(), copies()[0].url, HTML)
    store(db, article, capture(1, article.url))
    db.close()
    page = get(tmp_path / "archive.db", "/archive/articles/1/read")
    assert page.status_code == 200 and "copies" not in page.text


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_every_export_format_has_the_story_id(story_archive, fmt):
    conn = sqlite3.connect(story_archive)
    (story_id,) = conn.execute("SELECT DISTINCT story_id FROM articles").fetchone()
    out = io.BytesIO()
    assert export_articles(conn, out, fmt) == 3
    text = out.getvalue().decode("utf-8")
    if fmt == "csv":
        import csv
        records = list(csv.DictReader(io.StringIO(text)))
        assert {r["story_id"] for r in records} == {str(story_id)}
    else:
        records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert {r["story_id"] for r in records} == {story_id}


def test_a_crawl_of_the_three_copies_at_three_paths_links_them(site, crawl, query):
    from tests.site_server import Reply

    paths = [f"/{host}/story.html" for host in ("gdxk", "nfapp", "southcn")]
    for path, (_, _, page) in zip(paths, story_copies(), strict=True):
        site.route(path, Reply.html(page))
    result = crawl(site, *(site.base + p for p in paths))
    assert result.exit_code == 0
    rows = query("SELECT url, story_id FROM articles ORDER BY url")
    assert len(rows) == 3 and len({s for _, s in rows}) == 1 and rows[0][1] is not None
    assert query("SELECT article_count FROM stories") == [(3,)]
