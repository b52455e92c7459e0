"""A run always ends: an endless pager or calendar is walked only so far, articles are fetched between listing
pages, and --max-articles / --max-requests bound the whole run. Against a loopback site that never runs out of
listing pages (each with new article links)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from pipelines.run import Status
from scraper.cli import cli
from tests.collection import Story, article_html
from tests.site_server import Reply

# The old code walked the pager until the site ran out; the imitation runs out here, so that a crawl without
# bounds ends too (and its test fails instead of hanging).
SITE_END = 300
PAGER = re.compile(r"^/cz/llwzllzz/(?:index(?:_(\d+))?\.html)?$")
DAY = re.compile(r"^/cz/dsj/(\d{8})/$")
ARTICLE = re.compile(r"^/cz/(llwzllzz|dsj)/content/post_(\d+)\.html$")
LINKS_PER_PAGE = 2
FIRST_DAY = date(2026, 1, 1)


def page(links: str) -> Reply:
    return Reply.html(f"<!DOCTYPE html><html><head><meta charset=utf-8><title>列表_潮州库</title></head><body>"
                      f"<ul>{links}</ul></body></html>")


def endless(path: str) -> Reply | None:
    """An endless pager (index_N.html, each with new articles and 下一页) and an endless calendar (a page per
    day, each linking to the next day and to that day's articles)."""
    if m := PAGER.match(path):
        n = int(m.group(1) or 1)
        if n > SITE_END:
            return None
        posts = "".join(f'<li><a href="/cz/llwzllzz/content/post_{n * 10 + i}.html">文章{n}-{i}</a></li>'
                        for i in range(LINKS_PER_PAGE))
        return page(f'{posts}<a href="/cz/llwzllzz/index_{n + 1}.html">下一页</a>')
    if m := DAY.match(path):
        day = date(int(m.group(1)[:4]), int(m.group(1)[4:6]), int(m.group(1)[6:]))
        n = (day - FIRST_DAY).days + 1
        if not 0 < n <= SITE_END:
            return None
        later = day + timedelta(days=1)
        posts = "".join(f'<li><a href="/cz/dsj/content/post_{n * 10 + i}.html">大事{n}-{i}</a></li>'
                        for i in range(LINKS_PER_PAGE))
        return page(f'{posts}<a href="/cz/dsj/{later:%Y%m%d}/">{later:%Y-%m-%d}</a>')
    if m := ARTICLE.match(path):
        post = int(m.group(2))
        return Reply.html(article_html(Story(m.group(1), post, f"潮州理论文章第{post}篇的标题", "2020-10-13 11:13:14",
                                             [f"第{post}篇文章的正文，潮州的历史与文化源远流长，值得细细品读。" * 12])))
    return None


@pytest.fixture
def endless_site(site):
    site.fallback = endless
    return site


def hits(server, pattern: re.Pattern) -> list[str]:
    return [h.path for h in server.hits if pattern.match(h.path)]


def stored(query) -> int:
    return query("select count(*) from articles")[0][0]


def test_an_endless_pager_is_walked_so_far_and_the_next_run_goes_on(endless_site, crawl, query):
    first = crawl(endless_site, endless_site.base + "/cz/llwzllzz/", max_pages_per_listing=5, drift_check=False)
    assert len(hits(endless_site, PAGER)) == 5
    assert stored(query) == 5 * LINKS_PER_PAGE, "the articles of every page walked are stored"
    assert first.exit_code == 0 and first.counts.deferred == 1
    assert any("--max-pages-per-listing" in note and "index_6.html" in note for note in first.notes), first.notes
    assert query("select state from frontier where url like '%index_6.html'") == [("pending",)]

    second = crawl(endless_site, endless_site.base + "/cz/llwzllzz/", max_pages_per_listing=5, drift_check=False)
    walked = hits(endless_site, PAGER)[5:]
    assert "/cz/llwzllzz/index_6.html" in walked and "/cz/llwzllzz/index_10.html" in walked
    assert "/cz/llwzllzz/index_11.html" not in walked
    assert stored(query) == 10 * LINKS_PER_PAGE and second.counts.new == 5 * LINKS_PER_PAGE


def test_an_endless_calendar_ends_at_the_runs_listing_bound(endless_site, crawl, query):
    stats = crawl(endless_site, endless_site.base + "/cz/dsj/20260101/", max_listing_pages=8, drift_check=False)
    assert len(hits(endless_site, DAY)) == 8
    assert stored(query) == 8 * LINKS_PER_PAGE, "articles are fetched between the listing pages"
    assert stats.exit_code == 0 and stats.counts.deferred == 1
    assert any("--max-listing-pages" in note for note in stats.notes), stats.notes
    assert query("select count(*) from frontier where state = 'pending' and kind = 'listing'") == [(1,)]


def test_a_chain_of_ever_new_listings_is_bounded_as_a_pager(endless_site, crawl, query):
    stats = crawl(endless_site, endless_site.base + "/cz/dsj/20260101/", max_pages_per_listing=3, drift_check=False)
    assert len(hits(endless_site, DAY)) == 3
    assert stats.exit_code == 0 and stats.counts.deferred == 1
    assert any("--max-pages-per-listing" in note for note in stats.notes), stats.notes


def test_a_listing_of_a_hundred_thousand_links_is_read_so_far_and_said(site, crawl, query):
    from scraper.discover import MAX_LINKS
    links = "".join(f'<li><a href="/cz/llwzllzz/content/post_{n}.html">文章</a></li>' for n in range(100_000))
    site.route("/robots.txt", Reply(404))
    site.route("/cz/llwzllzz/", page(links))
    stats = crawl(site, site.base + "/cz/llwzllzz/", max_requests=5, drift_check=False)
    assert query("select count(*) from frontier where kind = 'article'") == [(MAX_LINKS,)]
    assert any(f"more than {MAX_LINKS:,} links" in note for note in stats.notes), stats.notes


def test_a_chain_cut_by_the_bound_goes_on_in_the_next_run(endless_site, crawl, query):
    start = endless_site.base + "/cz/dsj/20260101/"
    crawl(endless_site, start, max_pages_per_listing=3, drift_check=False)
    assert len(hits(endless_site, DAY)) == 3
    before = len(endless_site.hits)
    crawl(endless_site, start, max_pages_per_listing=3, drift_check=False)
    walked = {h.path for h in endless_site.hits[before:] if DAY.match(h.path)}
    assert {"/cz/dsj/20260104/", "/cz/dsj/20260106/"} <= walked and "/cz/dsj/20260107/" not in walked


def test_articles_come_between_listing_pages(endless_site, crawl):
    crawl(endless_site, endless_site.base + "/cz/llwzllzz/", max_pages_per_listing=3, drift_check=False)
    kinds = ["listing" if PAGER.match(h.path) else "article" for h in endless_site.hits if h.path != "/robots.txt"]
    assert kinds == (["listing"] + ["article"] * LINKS_PER_PAGE) * 3


def test_max_articles_bounds_a_run_on_an_endless_site(endless_site, crawl, query):
    stats = crawl(endless_site, endless_site.base + "/cz/llwzllzz/", max_articles=10, drift_check=False)
    assert stats.stopped is Status.MAX_ARTICLES and stats.exit_code == 0
    assert stored(query) == 10
    assert len(hits(endless_site, PAGER)) == 10 // LINKS_PER_PAGE


def test_max_requests_bounds_every_request(endless_site, crawl, query):
    stats = crawl(endless_site, endless_site.base + "/cz/llwzllzz/", max_requests=20, drift_check=False)
    assert endless_site.count() == 20, "robots.txt, listings and articles: 20 requests in all"
    assert stats.stopped is Status.MAX_REQUESTS and stats.exit_code == 0
    assert any("--max-requests" in note for note in stats.notes)
    assert stored(query) > 0


@pytest.mark.slow  # 301 requests: about 16 s here
def test_the_default_bounds_end_a_run_on_an_endless_pager(endless_site, crawl, query):
    stats = crawl(endless_site, endless_site.base + "/cz/llwzllzz/", drift_check=False)
    assert len(hits(endless_site, PAGER)) == 100 and stats.counts.deferred == 1
    assert stored(query) == 100 * LINKS_PER_PAGE


def test_the_command_reports_the_bound_on_one_line(endless_site, tmp_path):
    result = CliRunner().invoke(cli, ["crawl", endless_site.base + "/cz/llwzllzz/", "--db", str(tmp_path / "a.db"),
                                      "--delay", "0", "--max-pages-per-listing", "2", "--no-drift-check"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "--max-pages-per-listing" in line]
    assert len(lines) == 1 and "next run" in lines[0]
    assert "listing pages left for the next run 1" in result.output


def test_rechecks_never_crowd_out_the_listings_that_find_new_articles(site, crawl, query):
    from tests.collection import Collection
    coll = Collection(per_page=20)
    coll.add("llwzllzz", 8)
    coll.publish(site)
    # Every article is "recent" and rechecked on each run: more of them than either bound allows.
    crawl(site, recheck_days=100_000, drift_check=False)
    new = coll.add("llwzllzz", 1)[0]
    coll.publish(site)
    hits = len(site.hits)
    stats = crawl(site, recheck_days=100_000, max_articles=3, drift_check=False)
    assert new.path in [h.path for h in site.hits[hits:]], "the new article was found"
    assert stats.counts.new == 1
    hits = len(site.hits)
    crawl(site, recheck_days=100_000, max_requests=4, drift_check=False)
    asked = [h.path for h in site.hits[hits:]]
    assert asked[:2] == ["/robots.txt", "/cz/"], asked  # the start listing before any recheck


def test_max_requests_counts_a_body_read_again(tmp_path):
    from scraper.crawl import CrawlOptions, run_crawl
    from scraper.fetch import FetchPolicy
    from tests.collection import Collection
    from tests.fault_server import FaultServer, reset_mid_body
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 6)
    with FaultServer() as server:
        coll.publish(server)
        for story in coll.all_stories():
            server.route(story.path, reset_mid_body())  # every article breaks off mid-body: read again, twice
        result = run_crawl(CrawlOptions([server.base + "/cz/llwzllzz/"], db_path=str(tmp_path / "a.db"), delay=0,
                                        max_requests=5, policy=FetchPolicy(backoff=0.01, retries=1),
                                        drift_check=False))
        assert server.count() <= 5 and result.stopped is Status.MAX_REQUESTS
