"""An article's identity is its canonical URL: a redirect's target, its rel=canonical within its site and
collection, and for the URL patterns a template declares the path without the query. <base href> is obeyed.

Each test failed before its fix (issue 12).
"""

import sqlite3

from click.testing import CliRunner

from scraper.cli import cli
from scraper.parse import parse_article
from tests.collection import Collection, article_html, listing_html
from tests.site_server import Reply

BASE = "https://gdxk.southcn.com"


def test_an_archived_article_that_moves_behind_a_301_stays_one_article(site, crawl, query):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    assert crawl(site).counts.new == 1
    old, new = story.path, story.path.replace("/content/", "/content/moved/")
    site.route(new, site.routes[old][0])
    site.route(old, Reply(301, headers={"Location": new}))
    second = crawl(site, site.base + old)
    assert second.counts.new == 0
    assert query("select url from articles") == [(site.base + new,)]
    assert query("select count(*) from article_versions") == [(0,)]


def test_an_import_of_the_crawls_warc_moves_the_article_as_the_crawl_did(site, crawl, query, tmp_path):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    crawl(site)
    old, new = story.path, story.path.replace("/content/", "/content/moved/")
    site.route(new, site.routes[old][0])
    site.route(old, Reply(301, headers={"Location": new}))
    crawl(site, site.base + old)
    warcs = sorted(str(p) for p in (tmp_path / "archive").glob("*.warc.gz"))
    other = tmp_path / "imported.db"
    result = CliRunner().invoke(cli, ["import", "--db", str(other), *warcs])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(other) as conn:
        assert conn.execute("select url from articles").fetchall() == [(site.base + new,)]


def test_a_query_on_a_declared_article_url_names_the_same_article(site, crawl, query):
    coll = Collection(per_page=5)
    story = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    listing = listing_html("llwzllzz", [story], 1, 1)
    post = f"content/post_{story.post_id}.html"
    listing = listing.replace("</body>", f'<a href="{post}?t=1">a</a><a href="{post}?t=2&amp;x=y">b</a></body>')
    site.route("/cz/llwzllzz/", Reply.html(listing))
    result = crawl(site)
    assert result.counts.new == 1
    assert query("select url from articles") == [(site.base + story.path,)]
    assert [h.path for h in site.hits if "post_" in h.path] == [story.path]


def test_rel_canonical_that_spells_the_same_page_names_the_article():
    coll = Collection()
    story = coll.add("llwzllzz", 1)[0]
    page = article_html(story).replace(
        "</head>", f'<link rel="canonical" href="{story.path}"></head>').encode()
    assert parse_article(page, BASE + story.path + "?from=app&t=9").url == BASE + story.path
    undeclared = "/cz/special/view.html"  # no template's pattern: the same path is the same page
    page = article_html(story).replace(
        "</head>", f'<link rel="canonical" href="{undeclared}?id=7"></head>').encode()
    for url in (BASE + undeclared + "?id=7&mode=night", BASE + undeclared + "?mode=print&id=7"):
        assert parse_article(page, url).url == BASE + undeclared + "?id=7"


def test_rel_canonical_to_another_page_site_collection_or_a_listing_is_ignored():
    coll = Collection()
    story = coll.add("llwzllzz", 1)[0]
    url = BASE + story.path
    for target in ("https://elsewhere.example" + story.path, "/zh/llwzllzz/content/post_1.html", "/cz/",
                   "/cz/llwzllzz/", "/cz/llwzllzz/index_2.html", "javascript:void(0)", "/cz/index.shtml",
                   "/cz/llwzllzz/content/post_999.html", "/cz/private/content/post_1.html"):
        page = article_html(story).replace("</head>", f'<link rel="canonical" href="{target}"></head>').encode()
        assert parse_article(page, url).url == url, target


def test_two_articles_that_name_one_canonical_stay_two(site, crawl, query):
    coll = Collection(per_page=5)
    first, second = coll.add("llwzllzz", 2)
    coll.publish(site)
    for story in (first, second):  # a template that copied one canonical into every page
        site.route(story.path, Reply.html(article_html(story).replace(
            "</head>", f'<link rel="canonical" href="{second.path}"></head>')))
    crawl(site)
    crawl(site)
    assert sorted(query("select url, title from articles")) == sorted(
        [(site.base + s.path, s.title) for s in (first, second)])
    assert query("select count(*) from article_versions") == [(0,)]


def test_base_href_resolves_listing_links_and_images(site, crawl, query):
    coll = Collection(per_page=5)
    stories = coll.add("llwzllzz", 3)
    coll.publish(site)
    links = "".join(f'<li><a href="post_{s.post_id}.html">{s.title}</a></li>' for s in stories)
    listing = ('<!DOCTYPE html><html><head><meta charset="utf-8"><base href="/cz/llwzllzz/content/">'
               f"<title>理论文章_潮州库</title></head><body><ul>{links}</ul></body></html>")
    site.route("/cz/llwzllzz/", Reply.html(listing))
    result = crawl(site, site.base + "/cz/llwzllzz/")
    assert result.counts.new == 3
    page = article_html(stories[0]).replace("<head>", '<head><base href="https://img.example/pics/">').replace(
        "</p>", '<img src="a.jpg" alt="图"></p>', 1).encode()
    article = parse_article(page, BASE + stories[0].path)
    assert [i.url for i in article.images] == ["https://img.example/pics/a.jpg"]
    assert article.url == BASE + stories[0].path  # <base> moves links, never the page's own identity


def test_a_temporary_redirect_or_a_move_onto_another_article_keeps_both(site, crawl, query):
    coll = Collection(per_page=5)
    first, other = coll.add("llwzllzz", 2)
    coll.publish(site)
    crawl(site)
    site.route(first.path, Reply(302, headers={"Location": other.path}))  # a notice, for now
    crawl(site, site.base + first.path)
    site.route(first.path, Reply(301, headers={"Location": other.path}))  # for good, but onto another article
    crawl(site, site.base + first.path)
    assert sorted(query("select url, title from articles")) == sorted(
        [(site.base + s.path, s.title) for s in (first, other)])


def test_an_import_of_a_redirect_loop_stays_small(tmp_path):
    import io
    import subprocess
    import sys

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    warc = tmp_path / "loop.warc.gz"
    a, b = "http://h.example/cz/a/", "http://h.example/cz/b/"
    with open(warc, "wb") as f:  # what a crawl keeps of a redirect loop retried run after run
        writer = WARCWriter(f, gzip=True)
        for i in range(200):
            src, dst = (a, b) if i % 2 == 0 else (b, a)
            headers = StatusAndHeaders("301 Moved Permanently", [("Location", dst), ("Content-Length", "0")],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(src, "response", payload=io.BytesIO(b""),
                                                          http_headers=headers))
    # A child, so that a run that grew without bound (it did: each target's list took its source's again) is cut
    # by the timeout instead of taking the test runner with it.
    done = subprocess.run([sys.executable, "-m", "scraper", "import", "--db", str(tmp_path / "a.db"), str(warc)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "redirects 200" in done.stdout + done.stderr
