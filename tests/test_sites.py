"""A site's URL patterns, declared once in its template and asked by discovery, import and the parser alike."""

from __future__ import annotations

import pytest

from pipelines.item import Kind
from scraper.discover import find_links
from scraper.sites import listing_page, page_kind, place

GDXK = "https://gdxk.southcn.com"
FOUNDER = "http://cz.southcn.com"


@pytest.mark.parametrize(("url", "kind"), [
    (f"{GDXK}/cz/llwzllzz/content/post_123456.html", Kind.ARTICLE),
    (f"{GDXK}/cz/llwzllzz/content/2020/post_1.html?from=groupmessage", Kind.ARTICLE),
    (f"{GDXK}/cz/", Kind.LISTING),
    (f"{GDXK}/cz/llwzllzz/", Kind.LISTING),
    (f"{GDXK}/cz/llwzllzz/index.html", Kind.LISTING),
    (f"{GDXK}/cz/llwzllzz/index_3.html", Kind.LISTING),
    (f"{FOUNDER}/content/2019-01/10/content_184782943.htm", Kind.ARTICLE),
    (f"{FOUNDER}/content/2019-01/10/content_184782943_2.htm", Kind.ARTICLE),  # page 2 of a long article
    (f"{FOUNDER}/node_367541.htm", Kind.LISTING),
    (f"{FOUNDER}/node_367541_4.htm", Kind.LISTING),
    ("https://cz.southcn.com/node_3a9c1f0e2b/7d52e8a4c6.shtml", Kind.ARTICLE),
    ("https://cz.southcn.com/node_3a9c1f0e2b", Kind.LISTING),
    ("https://cz.southcn.com/node_3a9c1f0e2b?cms_node_post_list_page=2", Kind.LISTING),
    ("https://static.nfapp.southcn.com/content/202010/13/c4136021.html", Kind.ARTICLE),  # 南方+
    ("https://static.nfapp.southcn.com/content/202010/13/c4136021.html?layer=2", Kind.ARTICLE),
    ("http://www.xinhuanet.com/local/2020-02/19/c_1125597921.htm", None),
    ("http://business.sohu.com/20050311/n224643115.shtml", None),
    ("https://example.cn/", None),
    # Paths with a word in them are other sites' articles and sections, never taken for gdxk listings.
    ("https://example.com/news/12345/", None),
    ("https://example.com/blog/", None),
    ("https://example.com/news/index.html", None),
    ("https://example.com/en/my-first-post/", None),
    (f"{GDXK}/cz/llwzllzz/lsyj/", Kind.LISTING),  # a column's section
])
def test_page_kind(url, kind):
    assert page_kind(url) is kind


@pytest.mark.parametrize(("url", "number"), [
    (f"{GDXK}/cz/llwzllzz/", 1), (f"{GDXK}/cz/llwzllzz/index.html", 1), (f"{GDXK}/cz/llwzllzz/index_7.html", 7),
    (f"{FOUNDER}/node_367541.htm", 1), (f"{FOUNDER}/node_367541_4.htm", 4),
    ("https://cz.southcn.com/node_3a9c1f0e2b/?cms_node_post_list_page=3", 3),
])
def test_listing_pages_are_numbered_within_their_listing(url, number):
    page = listing_page(url)
    assert page.number == number
    first = url.split("index")[0] if "index" in url else url.split("?")[0].replace("_4.htm", ".htm")
    assert listing_page(first).listing == page.listing


def test_pages_of_different_listings_are_apart():
    assert listing_page(f"{GDXK}/cz/llwzllzz/").listing != listing_page(f"{GDXK}/cz/dsj/").listing
    assert listing_page(f"{FOUNDER}/node_1.htm").listing != listing_page(f"{FOUNDER}/node_2.htm").listing


def test_a_founder_channel_list_leads_to_its_articles_and_its_next_page():
    links = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in [
        ("content/2019-01/10/content_184782943.htm", "潮州召开会议"),
        ("content/2019-01/10/content_184782943_2.htm", "2"),  # a long article's second page: the article
        ("content/2019-01/09/content_184700001.htm", "潮州文化"),
        ("node_367541_2.htm", "下一页"), ("node_367542.htm", "潮州频道"),
    ])
    page = f"<html><body><ul>{links}</ul></body></html>".encode()
    listing = find_links(page, f"{FOUNDER}/node_367541.htm", "text/html")
    assert [url for url, _ in listing.articles] == [
        f"{FOUNDER}/content/2019-01/10/content_184782943.htm", f"{FOUNDER}/content/2019-01/09/content_184700001.htm"]
    assert listing.next_pages == [f"{FOUNDER}/node_367541_2.htm"]
    assert listing.listings == [f"{FOUNDER}/node_367542.htm"]


@pytest.mark.parametrize(("url", "breadcrumb", "expected"), [
    (f"{GDXK}/cz/llwzllzz/content/post_1.html", [], ("潮州库", "理论文章、理论著作")),
    (f"{GDXK}/cz/dsj/content/post_595493.html", ["首页", "潮州库", "大事记"], ("潮州库", "大事记")),
    (f"{GDXK}/cz/ztp/content/post_2.html", ["首页", "潮州库", "专题片"], ("潮州库", "专题片")),
    ("http://127.0.0.1:8001/cz/dsj/content/post_3.html", [], ("潮州库", "大事记")),  # a mirror, gdxk's paths
    (f"{FOUNDER}/content/2019-01/10/content_1.htm", ["南方网", "潮州新闻"], (None, "潮州新闻")),
    ("https://example.cn/a/b.html", ["首页", "新闻"], (None, None)),
])
def test_an_article_is_placed_by_its_url_codes_else_its_breadcrumb(url, breadcrumb, expected):
    assert place(url, breadcrumb) == expected
