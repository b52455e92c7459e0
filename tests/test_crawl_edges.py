"""Crawl edge cases a reviewer found: each test failed before its fix."""

import sqlite_utils
from click.testing import CliRunner

from scraper.cli import cli
from tests.collection import BLOCK_PAGE, Collection, article_html, home_html
from tests.site_server import Reply, SiteServer


def db(tmp_path):
    return sqlite_utils.Database(tmp_path / "archive.db")


def titles(tmp_path) -> dict[str, str]:
    return {r["url"]: r["title"] for r in db(tmp_path).query("select url, title from articles")}


def test_the_same_block_page_twice_is_never_taken_for_an_unchanged_article(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 3)[1]
    coll.publish(site)
    real = site.routes[story.path][0]
    site.route(story.path, Reply.html(BLOCK_PAGE))
    crawl(site, backoff_start=0.01)
    second = crawl(site, backoff_start=0.01)
    assert second.counts.unchanged == 0
    state = next(db(tmp_path).query("select state from frontier where url = ?", [site.base + story.path]))
    assert state["state"] == "pending"
    site.route(story.path, real)
    archive = db(tmp_path)
    archive.execute("update frontier set next_try = '2000-01-01T00:00:00Z' where next_try is not null")  # time passes
    archive.conn.commit()
    crawl(site, backoff_start=0.01)
    assert titles(tmp_path)[site.base + story.path] == story.title


def test_articles_first_seen_on_the_home_page_still_count_as_new(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 10)
    coll.publish(site)
    crawl(site)
    fresh = coll.add("llwzllzz", 7)  # more than a page: the walk must reach page 2
    coll.publish(site)
    newest = "".join(f'<a href="{s.path}" title="{s.title}">{s.title}</a>' for s in fresh[-3:])
    site.route("/cz/", Reply.html(home_html().replace("</ul>", f"</ul>{newest}")))
    stats = crawl(site)
    assert stats.counts.new == 7
    assert {site.base + s.path for s in fresh} <= set(titles(tmp_path))


def test_an_article_that_was_gone_is_fetched_again_while_it_is_listed(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 3)[0]
    coll.publish(site)
    real = site.routes[story.path][0]
    site.route(story.path, Reply(404, b"not found", {"Content-Type": "text/plain"}))
    crawl(site)
    assert site.base + story.path not in titles(tmp_path)
    site.route(story.path, real)
    crawl(site)
    assert titles(tmp_path)[site.base + story.path] == story.title


def test_a_redirect_into_a_disallowed_path_is_never_requested(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 2)[0]
    coll.publish(site)  # robots.txt disallows /cz/private/
    site.route(story.path, Reply(302, headers={"Location": "/cz/private/content/post_1.html"}))
    site.route("/cz/private/content/post_1.html", Reply.html(article_html(story)))
    stats = crawl(site)
    assert site.count("/cz/private/content/post_1.html") == 0
    assert stats.counts.robots == 1
    state = next(db(tmp_path).query("select state from frontier where url = ?", [site.base + story.path]))
    assert state["state"] == "robots"


def test_a_short_article_that_merely_loads_a_captcha_script_is_stored(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    story = coll.add("dsj", 1)[0]
    coll.publish(site)
    page = article_html(story).replace("</head>", '<script src="/static/js/tencent-captcha.js"></script></head>')
    site.route(story.path, Reply.html(page))
    stats = crawl(site)
    assert stats.exit_code == 0 and stats.counts.new == 1


def test_robots_txt_redirected_to_another_host_is_followed(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 2)
    coll.publish(site)
    with SiteServer() as shared:
        shared.route("/robots-shared.txt", Reply(200, b"User-agent: *\nDisallow: /cz/dsj/\n",
                                                 {"Content-Type": "text/plain"}))
        site.route("/robots.txt", Reply(301, headers={"Location": shared.base + "/robots-shared.txt"}))
        stats = crawl(site)
        assert shared.count("/robots-shared.txt") == 1
    assert stats.exit_code == 0 and stats.counts.new == 2


def test_import_never_stores_a_block_page_over_an_article(site, tmp_path, crawl):
    coll = Collection(per_page=5)
    stories = coll.add("llwzllzz", 5)  # a listing page of five: a listing, not an article
    story = stories[2]
    coll.publish(site)
    crawl(site)
    site.route(story.path, Reply.html(BLOCK_PAGE))
    crawl(site, backoff_start=0.01, recheck_days=100000)  # re-asks for it: the block page is kept
    warcs = sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz"))
    fresh = tmp_path / "fresh.db"
    result = CliRunner().invoke(cli, ["import", *warcs, "--db", str(fresh), "--no-drift-check"])
    assert result.exit_code == 0, result.output
    stored = {r["url"]: r["title"] for r in sqlite_utils.Database(fresh).query("select url, title from articles")}
    assert stored == {site.base + s.path: s.title for s in stories}
