"""A long article over several pages (post_N.html → post_N_2.html … via 下一页) is stored as one, by every job.

The pages are reconstructions in the shape gdxk's templates declare (issue 12); each test failed before its fix.
"""

import sqlite3

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.collection import Collection, Story, article_html
from tests.site_server import Reply


def pages_of(story: Story, count: int) -> dict[str, str]:
    """Path → HTML of each page: page k holds its own two paragraphs and a pager to the others."""
    base = story.path.removesuffix(".html")
    paths = [story.path] + [f"{base}_{k}.html" for k in range(2, count + 1)]
    out = {}
    for k, path in enumerate(paths, start=1):
        page = Story(story.column, story.post_id, story.title, story.published,
                     [f"第{k}页第一段。潮州文化研究的第{k}部分，讲述韩江两岸的历史变迁。",
                      f"第{k}页第二段。这一部分说明了潮州古城的保护与传承，编号{k}。"], story.author)
        pager = " ".join(f'<a href="{p.rsplit("/", 1)[1]}">{n}</a>' for n, p in enumerate(paths, start=1))
        if k < count:
            pager += f' <a href="{paths[k].rsplit("/", 1)[1]}">下一页</a>'
        out[path] = article_html(page).replace("</div>\n<div class=\"related\">",
                                               f'<div class="pager">{pager}</div></div>\n<div class="related">')
    return out


def publish_long(site, count: int = 3) -> tuple[Collection, Story, dict[str, str]]:
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    pages = pages_of(story, count)
    for path, html in pages.items():
        site.route(path, Reply.html(html))
    return coll, story, pages


def bodies(db_path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select url, body from articles order by url").fetchall()


def test_a_crawl_stores_the_pages_of_a_long_article_as_one(site, crawl, db_path):
    _, story, _ = publish_long(site)
    result = crawl(site)
    assert result.exit_code == 0 and result.counts.new == 1
    [(url, body)] = bodies(db_path)
    assert url == site.base + story.path
    assert [line[:4] for line in body.split("\n")] == ["第1页第", "第1页第", "第2页第", "第2页第", "第3页第", "第3页第"]
    assert "下一页" not in body
    fetched = [h.path for h in site.hits if "post_" in h.path]
    assert len(fetched) == 3 and len(set(fetched)) == 3  # each page once


def test_import_and_reparse_join_the_pages_from_the_warc(site, crawl, db_path, tmp_path):
    publish_long(site)
    crawl(site)
    crawled = bodies(db_path)
    other = tmp_path / "imported.db"
    warcs = sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz"))
    result = CliRunner().invoke(cli, ["import", "--db", str(other), *warcs])
    assert result.exit_code == 0, result.output
    assert bodies(other) == crawled  # the later pages' records are no articles of their own
    assert "later pages of articles 2" in result.output
    with sqlite3.connect(db_path) as conn:
        conn.execute("update articles set body = '旧文' , content_hash = 'x'")
    result = CliRunner().invoke(cli, ["reparse", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert bodies(db_path) == crawled


def test_a_later_page_that_fails_leaves_the_article_incomplete_said_and_tried_again(site, crawl, db_path):
    _, story, pages = publish_long(site)
    third = story.path.removesuffix(".html") + "_3.html"
    site.route(third, Reply(500, b"oops"))
    first = crawl(site)
    assert first.counts.new == 1
    with sqlite3.connect(db_path) as conn:
        body, warnings = conn.execute("select body, warnings from articles").fetchone()
        state = conn.execute("select state from frontier where url like '%post_%'").fetchall()
        conn.execute("update frontier set next_try = null")  # the retry is due
    assert "第2页" in body and "第3页" not in body and "incomplete, page 3" in warnings
    assert state == [("pending",)]
    site.route(third, Reply.html(pages[third]))
    second = crawl(site)
    assert second.counts.updated == 1
    assert "第3页" in bodies(db_path)[0][1]


def test_parse_of_one_page_says_the_article_goes_on(tmp_path):
    coll = Collection()
    story = coll.add("llwzllzz", 1)[0]
    saved = tmp_path / "page.html"
    saved.write_text(pages_of(story, 2)[story.path], encoding="utf-8")
    result = CliRunner().invoke(cli, ["parse", str(saved), "--url", "https://gdxk.southcn.com" + story.path])
    assert result.exit_code == 0, result.output
    assert "incomplete, page 2" in result.output


def test_a_later_page_alone_is_read_with_its_first_never_as_an_article(site, crawl, db_path):
    _, story, _ = publish_long(site)
    second = story.path.removesuffix(".html") + "_2.html"
    result = crawl(site, site.base + second)
    assert result.counts.new == 1
    assert [url for url, _ in bodies(db_path)] == [site.base + story.path]


def test_a_change_on_a_later_page_is_found_though_the_first_is_the_same(site, crawl, db_path):
    _, story, pages = publish_long(site)
    crawl(site)
    second = story.path.removesuffix(".html") + "_2.html"
    site.route(second, Reply.html(pages[second].replace("第2页第一段", "第2页更正段")))
    again = crawl(site, site.base + story.path)
    assert again.counts.updated == 1
    assert "第2页更正段" in bodies(db_path)[0][1]


def test_a_later_page_that_is_a_block_page_is_not_joined_and_is_tried_again(site, crawl, db_path):
    from tests.collection import BLOCK_PAGE
    _, story, pages = publish_long(site)
    second = story.path.removesuffix(".html") + "_2.html"
    site.route(second, Reply.html(BLOCK_PAGE))
    first = crawl(site, backoff_start=0.01)
    [(url, body)] = bodies(db_path)
    assert "第2页" not in body and "验证" not in body and first.exit_code == 1
    with sqlite3.connect(db_path) as conn:
        assert "block page" in conn.execute("select warnings from articles").fetchone()[0]
        conn.execute("update frontier set next_try = null")
    site.route(second, Reply.html(pages[second]))
    assert crawl(site).counts.updated == 1
    assert "第3页" in bodies(db_path)[0][1]


@pytest.mark.parametrize("reply, said", [
    (lambda story, other: Reply(302, headers={"Location": story.path}), "redirects to"),
    (lambda story, other: Reply(301, headers={"Location": other.path}), "redirects to"),
    (lambda story, other: Reply(404, b"gone"), "is gone"),
], ids=["302 to page 1", "301 to another article", "404"])
def test_a_later_page_that_leads_elsewhere_or_is_gone_ends_the_article_for_good(site, crawl, db_path, reply, said):
    coll, story, pages = publish_long(site)
    other = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    for path, html in pages.items():  # publish() put the one-page article back
        site.route(path, Reply.html(html))
    second = story.path.removesuffix(".html") + "_2.html"
    site.route(second, reply(story, other))
    result = crawl(site, site.base + story.path)
    with sqlite3.connect(db_path) as conn:
        body, warnings = conn.execute("select body, warnings from articles where url = ?",
                                      [site.base + story.path]).fetchone()
        state = conn.execute("select state from frontier where url = ?", [site.base + story.path]).fetchone()
    assert body.count("第1页第一段") == 1 and "第2页" not in body and other.paragraphs[0] not in body
    assert said in warnings and state == ("done",) and result.exit_code == 0
    assert not [h for h in site.hits if h.path == other.path]  # a later page's redirect is never followed
    # The same WARC files give the same article, warning and all, to an import and a reparse.
    warcs = sorted(str(p) for p in (db_path.parent / "archive").glob("*.warc.gz"))
    imported = db_path.parent / "imported.db"
    assert CliRunner().invoke(cli, ["import", "--db", str(imported), *warcs]).exit_code == 0
    query = "select url, body, warnings from articles order by url"
    with sqlite3.connect(db_path) as crawled, sqlite3.connect(imported) as conn:
        assert conn.execute(query).fetchall() == crawled.execute(query).fetchall()
    again = CliRunner().invoke(cli, ["reparse", "--db", str(db_path)])
    assert "new 0, updated 0" in again.output


def test_a_stored_long_article_is_never_cut_by_a_later_page_that_fails(site, crawl, db_path, tmp_path):
    _, story, pages = publish_long(site)
    crawl(site)
    whole = bodies(db_path)
    second = story.path.removesuffix(".html") + "_2.html"
    for reply in (Reply(503), Reply(404), Reply(302, headers={"Location": story.path})):
        site.route(second, reply)
        with sqlite3.connect(db_path) as conn:
            conn.execute("update frontier set next_try = null")
        crawl(site, site.base + story.path)
        assert bodies(db_path) == whole
    # and the crawl, an import of its WARC files and a reparse agree
    warcs = sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz"))
    other = tmp_path / "imported.db"
    assert CliRunner().invoke(cli, ["import", "--db", str(other), *warcs]).exit_code == 0
    assert bodies(other) == whole
    assert CliRunner().invoke(cli, ["reparse", "--db", str(db_path)]).exit_code == 0
    assert bodies(db_path) == whole


def test_an_article_past_the_page_cap_is_kept_so_far_and_done(site, crawl, db_path):
    from scraper.multipage import MAX_PAGES
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    for path, html in pages_of(story, MAX_PAGES + 2).items():
        site.route(path, Reply.html(html))
    result = crawl(site)
    assert result.exit_code == 0 and result.counts.new == 1
    assert len([h for h in site.hits if "post_" in h.path]) == MAX_PAGES
    with sqlite3.connect(db_path) as conn:
        assert f"more than {MAX_PAGES} pages" in conn.execute("select warnings from articles").fetchone()[0]
        assert conn.execute("select state from frontier where url like '%post_%'").fetchall() == [("done",)]


def test_a_long_article_cut_by_max_requests_waits_for_the_next_run_without_an_error(site, crawl, db_path):
    publish_long(site)
    # robots.txt, the home page, the column, page 1: the bound is reached before page 2
    result = crawl(site, max_requests=4)
    assert result.exit_code == 0 and not result.errors
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select state, attempts from frontier where url like '%post_%'").fetchall() == [
            ("pending", 0)]
    assert crawl(site).counts.updated == 1
    assert "第3页" in bodies(db_path)[0][1]
