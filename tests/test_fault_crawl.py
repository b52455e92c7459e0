"""The fault matrix, part 2: whole crawls through each fault, and the faults that are about the run.

Each crawl is the reconstructed collection on tests.fault_server with one article (or robots.txt, or a listing)
misbehaving. Whatever the fault, the crawl ends with its documented exit code, every other article is stored, the
faulty one is stored only when the fault allowed a whole page, and the WARC files and capture rows are whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy
from tests import fault_server as fs
from tests.archive_checks import capture_problems, warc_problems
from tests.collection import BLOCK_PAGE, Collection, Story, article_html

POLICY = FetchPolicy(connect_timeout=1, read_timeout=0.5, deadline=1.5, retries=2, body_retries=1, backoff=0.01,
                     retry_after_max=2, max_bytes=2 * 1024 * 1024)
OPTIONS = {"policy": POLICY, "drift_check": False}
GBK_PAGE = """<!DOCTYPE html><html><head><title>潮州工夫茶的历史_潮州库</title></head><body>
<div class="location"><a href="/">首页</a> &gt; <a href="/cz/">潮州库</a> &gt;
<a href="/cz/llwzllzz/">理论文章</a></div>
<h1>潮州工夫茶的历史</h1><div class="info">2021-05-06 09:10:11 来源：潮州日报</div>
<div class="content"><p>　　潮州工夫茶是潮州的传统饮茶习俗，讲究茶具、水和冲泡的方法，代代相传。</p>
<p>　　每逢佳节，家家户户围坐品茶，谈论家常，这是潮州人生活中不可缺少的一部分。</p></div></body></html>"""
# Unclosed and misnested tags, a NUL byte and broken entities in the body, cut off mid-sentence. (A NUL in the
# first 2 kB makes the page count as binary: a row of its own below.)
MALFORMED = ("<html><head><title>残缺的页面_潮州库</title><body><h1>残缺的页面<div class=info>2021-05-06 来源：潮州日报"
             "<div class=content><p>　　第一段没有结束标签，<b>粗体也没有，<i>斜体交错</b>关闭。" + "潮州" * 400 +
             "<p>　　第二段里有\x00空字节和&#0;实体，还有&nbsp;&amp没有分号的实体，以及未闭合的<a href='x"
             "<p>　　第三段在文件末尾被截断，内容依然可以读出来，这是最后一句话")


@dataclass
class CrawlFault:
    name: str
    behaviours: list  # what the faulty article's path serves
    state: str  # its frontier state after the run
    stored: bool  # whether it ends up as an article
    exit_code: int
    title: str | None = None  # the stored title, where the fault is about decoding


def collection() -> Collection:
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 4)
    return coll


def stored_urls(query) -> set[str]:
    return {url for (url,) in query("select url from articles")}


def assert_archive_whole(tmp_path):
    assert warc_problems(tmp_path / "archive") == []
    assert capture_problems(tmp_path / "archive.db", tmp_path / "archive") == []


def page(story: Story):
    return fs.html(article_html(story))


FAULTS = [
    CrawlFault("503 burst, then the page", [fs.respond(503), fs.respond(503), "page"], "done", True, 0),
    CrawlFault("429 with Retry-After, then the page", [fs.respond(429, headers={"Retry-After": "1"}), "page"],
               "done", True, 0),
    CrawlFault("persistent 500", [fs.respond(500)], "pending", False, 1),
    CrawlFault("404 for a new article", [fs.respond(404, b"not found")], "gone", False, 0),
    CrawlFault("410 for a new article", [fs.respond(410, b"gone")], "gone", False, 0),
    CrawlFault("connection reset before the response", [fs.refuse_connection()], "pending", False, 1),
    CrawlFault("headers that never come", [fs.stall_headers()], "pending", False, 1),
    CrawlFault("a body that stalls", [fs.stall_body()], "pending", False, 1),
    CrawlFault("a body dripped slower than the deadline", [fs.drip(b"<p>" + b"x" * 100, every=0.1)], "pending",
               False, 1),
    CrawlFault("connection reset mid-body, then whole", [fs.reset_mid_body(), "page"], "done", True, 0),
    CrawlFault("connection reset mid-body, always", [fs.reset_mid_body()], "pending", False, 1),
    CrawlFault("Content-Length longer than the body",
               [fs.respond(200, b"<p>short</p>", {"Content-Type": "text/html"}, content_length=9000)],
               "pending", False, 1),
    CrawlFault("broken chunked encoding", [fs.broken_chunked()], "pending", False, 1),
    CrawlFault("a huge body", [fs.endless()], "pending", False, 1),
    CrawlFault("a gzip bomb", [fs.gzip_bomb()], "pending", False, 1),
    CrawlFault("Content-Encoding gzip on a plain body", [fs.lying_gzip()], "pending", False, 1),
    CrawlFault("a status line that is not HTTP", [fs.raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")], "pending", False, 1),
    CrawlFault("a non-HTML content type", [fs.respond(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})],
               "not-article", False, 0),
    CrawlFault("a GBK page with no charset anywhere", [fs.html(GBK_PAGE, charset=None, encoding="gbk")], "done",
               True, 0, title="潮州工夫茶的历史"),
    CrawlFault("a header charset that lies (says UTF-8, body is GBK)",
               [fs.html(GBK_PAGE, charset="utf-8", encoding="gbk")], "done", True, 0, title="潮州工夫茶的历史"),
    CrawlFault("a header charset that lies (says ISO-8859-1, body is UTF-8)",
               [fs.html(GBK_PAGE, charset="iso-8859-1", encoding="utf-8")], "done", True, 0,
               title="潮州工夫茶的历史"),
    CrawlFault("malformed HTML (unclosed, truncated, NUL bytes)", [fs.html(MALFORMED)], "done", True, 0,
               title="残缺的页面"),
    CrawlFault("NUL bytes at the top of a page (binary)", [fs.html("\x00\x00<html><p>x" + MALFORMED)], "not-article",
               False, 0),
    CrawlFault("a redirect off-site", [fs.redirect("http://127.0.0.2:9/cz/llwzllzz/content/post_1.html")],
               "out-of-scope", False, 0),
    CrawlFault("a redirect to the cloud metadata address", [fs.redirect("http://169.254.169.254/latest/")],
               "out-of-scope", False, 0),
    CrawlFault("a redirect to a private address", [fs.redirect("http://10.0.0.1/cz/llwzllzz/x.html")],
               "out-of-scope", False, 0),
    CrawlFault("a redirect loop", [fs.redirect("/cz/llwzllzz/content/loop.html")], "pending", False, 1),
    CrawlFault("one block page (captcha, status 200), then the page", [fs.html(BLOCK_PAGE), "page"], "pending",
               False, 1),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_crawl_survives(tmp_path, fault, crawl, query):
    coll = collection()
    faulty, *others = coll.stories["llwzllzz"]
    with fs.FaultServer(max_wait=10) as server:
        coll.publish(server)
        server.route("/cz/llwzllzz/content/loop.html", fs.redirect(faulty.path))
        server.route(faulty.path, *[page(faulty) if b == "page" else b for b in fault.behaviours])
        stats = crawl(server, **OPTIONS)
        assert server.count("/latest/") == 0
    assert stats.exit_code == fault.exit_code, stats.counts.summary()
    urls = stored_urls(query)
    assert {server.base + s.path for s in others} <= urls, "a healthy article was lost"
    assert (server.base + faulty.path in urls) is fault.stored
    assert query("select state from frontier where url = ?", server.base + faulty.path) == [(fault.state,)]
    if fault.title:
        assert query("select title from articles where url = ?", server.base + faulty.path) == \
            [(fault.title,)]
    assert_archive_whole(tmp_path)


# -- faults that are about the run ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", [404, 410])
def test_an_archived_article_that_is_gone_is_marked_and_kept(tmp_path, status, crawl, query):
    coll = collection()
    story = coll.stories["llwzllzz"][1]
    url_path = story.path
    with fs.FaultServer() as server:
        coll.publish(server)
        crawl(server, **OPTIONS)
        url = server.base + url_path
        story.paragraphs[0] += "（修订）"  # a second version, so the article has history to keep
        server.route(url_path, page(story))
        crawl(server, url, **OPTIONS)
        before = query("select id, title, body, content_hash from articles where url = ?", url)
        versions = query("select count(*) from article_versions")
        assert versions == [(1,)]
        server.route(url_path, fs.respond(status, b"<html><title>Not found</title></html>",
                                          {"Content-Type": "text/html"}))
        stats = crawl(server, url, **OPTIONS)  # the article asked for again, as a recheck would
        assert stats.exit_code == 0
        assert query("select state from frontier where url = ?", url) == [("gone",)]
        row = query("select gone_at is not null, gone_status from articles where url = ?", url)
        assert row == [(1, status)]
        assert query("select id, title, body, content_hash from articles where url = ?", url) == before
        assert query("select count(*) from article_versions") == versions
        # Back after a maintenance window: no longer gone, nothing duplicated.
        server.route(url_path, page(story))
        crawl(server, url, **OPTIONS)
        assert query("select gone_at, gone_status from articles where url = ?", url) == [(None, None)]
        assert query("select count(*) from articles where url = ?", url) == [(1,)]
    assert_archive_whole(tmp_path)


def test_recently_published_gone_article_is_found_by_the_recheck(tmp_path, crawl, query):
    import time

    coll = collection()
    story = coll.stories["llwzllzz"][0]
    story.published = time.strftime("%Y-%m-%d 08:00:00")
    with fs.FaultServer() as server:
        coll.publish(server)
        crawl(server, **OPTIONS)
        server.route(story.path, fs.respond(410, b"gone"))
        crawl(server, **OPTIONS)  # no start URL names it: the recent-article recheck asks for it
        url = server.base + story.path
        assert query("select gone_status from articles where url = ?", url) == [(410,)]


def test_block_pages_are_not_stored_and_the_run_backs_off_then_exits_3(tmp_path, crawl, query):
    coll = collection()
    coll.add("llwzllzz", 4)
    with fs.FaultServer() as server:
        coll.publish(server)
        for story in coll.stories["llwzllzz"]:
            server.route(story.path, fs.html(BLOCK_PAGE))
        stats = crawl(server, backoff_start=0.3, **OPTIONS)
        article_hits = sorted(h.at for h in server.hits if "/content/" in h.path)
        assert stats.exit_code == 3 and stats.stopped == "refusing"
        assert len(article_hits) == 3, "the run stops after three refusals in a row"
        gaps = [b - a for a, b in zip(article_hits, article_hits[1:], strict=False)]
        assert gaps[0] >= 0.25 and gaps[1] >= 0.5 and gaps[1] > 1.5 * gaps[0], f"no back-off: {gaps}"
        assert stored_urls(query) == set()
        states = query("select state, last_error from frontier where kind = 'article' and attempts > 0")
        assert states and all(s == "pending" and "block page" in e for s, e in states)
        # The site relents: the next run stores everything, nothing was lost to the refusals.
        coll.publish(server)
        conn = sqlite3.connect(tmp_path / "archive.db")  # as if the retry time had come
        conn.execute("update frontier set next_try = null")
        conn.commit()
        conn.close()
        stats = crawl(server, **OPTIONS)
        assert stats.exit_code == 0
        assert stored_urls(query) == {server.base + s.path for s in coll.all_stories()}
    assert_archive_whole(tmp_path)


def test_persistent_429_exits_3(tmp_path, crawl, query):
    coll = collection()
    with fs.FaultServer() as server:
        coll.publish(server)
        for story in coll.stories["llwzllzz"]:
            server.route(story.path, fs.respond(429, headers={"Retry-After": "0"}))
        stats = crawl(server, **OPTIONS)
    assert stats.exit_code == 3 and stored_urls(query) == set()


def test_a_block_page_instead_of_a_listing_is_a_refusal(tmp_path, crawl, query):
    coll = collection()
    with fs.FaultServer() as server:
        coll.publish(server)
        server.route("/cz/", fs.html(BLOCK_PAGE))
        crawl(server, **OPTIONS)
        row = query("select state, last_error from frontier where url = ?", server.base + "/cz/")
    assert row[0][0] == "pending" and "block page" in row[0][1]


@pytest.mark.parametrize("name,behaviour,exit_code,stored", [
    ("robots.txt 404: everything allowed", fs.respond(404, b"nope"), 0, 4),
    ("robots.txt 503: nothing fetched, exit 3", fs.respond(503), 3, 0),
    ("robots.txt timeout: nothing fetched, exit 5 (the site gave no answer)", fs.stall_headers(), 5, 0),
])
def test_robots_faults_in_a_crawl(tmp_path, name, behaviour, exit_code, stored, crawl, query):
    coll = collection()
    with fs.FaultServer(max_wait=10) as server:
        coll.publish(server)
        server.route("/robots.txt", behaviour)
        stats = crawl(server, **OPTIONS)
        assert stats.exit_code == exit_code
        assert len(stored_urls(query)) == stored
        if stored == 0:
            assert {h.path for h in server.hits} == {"/robots.txt"}, "a page was fetched without robots.txt"


def test_a_huge_listing_and_a_gzip_bombed_listing_do_not_stop_the_run(tmp_path, crawl, query):
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 2)
    coll.add("dsj", 2)
    with fs.FaultServer() as server:
        coll.publish(server)
        server.route("/cz/dsj/", fs.gzip_bomb())
        stats = crawl(server, **OPTIONS)
    assert stats.exit_code == 1  # the bombed listing waits for a later try; the rest is done
    assert stored_urls(query) == {server.base + s.path for s in coll.stories["llwzllzz"]}
    assert_archive_whole(tmp_path)


def test_a_site_that_refuses_connections_stops_the_run_with_exit_5(tmp_path, query):
    # Nothing listens: robots.txt cannot be asked for, so nothing else is; the start page waits for the next run.
    port = fs.closed_port()
    stats = run_crawl(CrawlOptions([f"http://127.0.0.1:{port}/cz/"], db_path=str(tmp_path / "archive.db"), delay=0,
                                   policy=POLICY, drift_check=False))
    assert stats.exit_code == 5 and "connection refused" in stats.reason
    assert query("select state, attempts from frontier") == [("pending", 0)]
