"""南方+ (nfapp) pages: the template's readings of data-time and <meta name="author">, which pages it takes, and
its URLs as articles for discovery, identity and the crawl (issue 13).

The pages are the reconstructions in fixtures/pages/nfapp-*.html (fixtures/README.md says what each varies);
test_templates.py checks every field of each. The tests of what the template reads failed before it existed;
those of what it must not take, or must leave to the page's other readings, guard it.
"""

from __future__ import annotations

import pytest

from pipelines.item import Kind
from scraper.discover import find_links
from scraper.parse import parse_article
from scraper.sites import article_page, identity_url, page_kind
from tests.site_server import Reply
from tests.test_templates import PAGES, _variant  # the fixture with one change, parsed at its URL

NFAPP = "https://static.nfapp.southcn.com"
REFERENCE = "nfapp-reference-ms-epoch"
PHOTO = "nfapp-date-text-photo"


# ---- data-time: an epoch in seconds or milliseconds, or a date text; China time ----------------------------

@pytest.mark.parametrize(("data_time", "published"), [
    ("1602558794000", "2020-10-13T11:13:14+08:00"),  # milliseconds
    ("1602558794999", "2020-10-13T11:13:14+08:00"),  # a fraction of a second is not rounded up
    ("1602558794", "2020-10-13T11:13:14+08:00"),  # seconds
    ("1602518400", "2020-10-13T00:00:00+08:00"),  # China's midnight is the day before in UTC
    ("2020-10-13 11:13:14", "2020-10-13T11:13:14+08:00"),
    ("2020-10-13 11:13:14.0", "2020-10-13T11:13:14+08:00"),  # the Java timestamp the CMS prints
    ("2020年10月13日 11:13:14", "2020-10-13T11:13:14+08:00"),
    ("2020-10-13T03:13:14Z", "2020-10-13T11:13:14+08:00"),  # a time in UTC, shown in China time
])
def test_data_time_is_read_as_an_epoch_or_a_date_text_in_china_time(data_time, published):
    article = _variant(REFERENCE, 'data-time="1602558794000"', f'data-time="{data_time}"')
    assert article["published_at"] == published
    assert article["field_rules"]["published_at"] == "template:.pubtime[data-time]"


def test_a_date_text_to_the_minute_takes_its_seconds_from_the_cms_comment():
    article = _variant(REFERENCE, 'data-time="1602558794000"', 'data-time="2020-10-13 11:13"')
    assert article["published_at"] == "2020-10-13T11:13:14+08:00"
    assert article["field_rules"]["published_at"] == "template:.pubtime[data-time]+comment:enpproperty"


@pytest.mark.parametrize("data_time", ["0", "", "undefined", "99999999999999", "4102444800000"])
def test_a_data_time_that_is_no_time_gives_way_to_the_pages_other_readings(data_time):
    """0, an empty or unfilled attribute, a number too long, a year far ahead: the enpproperty date is used."""
    article = _variant(REFERENCE, 'data-time="1602558794000"', f'data-time="{data_time}"')
    assert article["published_at"] == "2020-10-13T11:13:14+08:00"
    assert article["field_rules"]["published_at"] == "comment:enpproperty"


def test_a_pubtime_without_data_time_is_read_from_its_text():
    article = _variant(PHOTO, 'data-time="2021-02-15 16:42">', ">")
    assert article["published_at"] == "2021-02-15T16:42+08:00"
    assert article["field_rules"]["published_at"] == "template:.pubtime"


# ---- <meta name="author">: a person is an author, an outlet the source, the site's name nothing -------------

@pytest.mark.parametrize(("meta", "authors", "source"), [
    ("南方+", [], "潮州发布"),  # the site: nothing (the source stays the account line's)
    ("南方网", [], "潮州发布"),
    ("林晓", ["林晓"], "潮州发布"),  # a person
    ("欧阳晓峰", ["欧阳晓峰"], "潮州发布"),
    ("潮州日报", [], "潮州日报"),  # an outlet: the source, before the account line
    ("潮州市人民政府", [], "潮州发布"),  # neither a person nor an outlet's name
    ("南方+记者 黄晓琳 通讯员 陈思远", ["黄晓琳", "陈思远"], "潮州发布"),  # a byline: the people it names
])
def test_meta_author_is_an_author_only_when_it_names_a_person(meta, authors, source):
    article = _variant("nfapp-epoch-seconds-no-author", '<meta name="author" content="南方+">',
                       f'<meta name="author" content="{meta}">')
    assert (article["authors"], article["source"]) == (authors, source)


def test_a_visible_credit_line_wins_over_a_person_in_meta_author():
    article = _variant(REFERENCE, '<meta name="author" content="潮州日报">', '<meta name="author" content="黄晓琳">')
    assert article["authors"] == ["魏界亮"]
    assert article["field_rules"]["authors"] == "template:credit-line"


def test_a_source_line_wins_over_an_outlet_in_meta_author():
    article = _variant(PHOTO, '<meta name="author" content="黄晓琳">', '<meta name="author" content="南方日报">')
    assert article["source"] == "潮州日报"
    assert article["authors"] == []


# ---- which pages the template takes --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://news.example.cn/2021/0215/123.html",  # another site that also uses id="articleTitle"
    "https://www.example.com/content/202102/15/c4867215.html",  # nfapp's path shape on another site…
])
def test_another_sites_page_is_not_taken_by_the_nfapp_template(url):
    old, new = ('id="articleTitle"', 'class="headline"') if "content" in url else ("", "")
    page = (PAGES / f"{PHOTO}.html").read_text(encoding="utf-8")
    article = parse_article(page.replace(old, new, 1).encode("utf-8") if old else page.encode("utf-8"), url)
    assert article.extractor != "nfapp"


def test_a_saved_copy_is_recognised_by_its_markup():
    article = parse_article((PAGES / f"{PHOTO}.html").read_bytes(), "file:///tmp/saved.html")
    assert (article.extractor, article.title, article.published_at) == (
        "nfapp", "春节假期潮州古城迎客流高峰", "2021-02-15T16:42+08:00")


def test_an_nfapp_path_on_a_mirror_is_read_with_its_headline():
    article = parse_article((PAGES / f"{PHOTO}.html").read_bytes(),
                            "http://127.0.0.1:8001/content/202102/15/c4867215.html")
    assert article.extractor == "nfapp"


# ---- nfapp URLs are article URLs: discovery, identity, the crawl -------------------------------------------

@pytest.mark.parametrize("url", [
    f"{NFAPP}/content/202010/13/c4136021.html",
    "http://static.nfapp.southcn.com/content/201612/20/c221980.html",
    f"{NFAPP}/content/202010/13/c4136021.html?layer=2&isappinstalled=0",
])
def test_nfapp_article_urls_are_articles(url):
    assert page_kind(url) is Kind.ARTICLE
    assert identity_url(url) == url.split("?")[0]
    assert article_page(url).number == 1


@pytest.mark.parametrize("url", [f"{NFAPP}/content/202010/13/", f"{NFAPP}/content/202010/13/c4136021.json",
                                 f"{NFAPP}/content/2020-10/13/c4136021.html"])
def test_other_nfapp_paths_are_not_articles(url):
    assert page_kind(url) is not Kind.ARTICLE


def test_a_page_linking_to_nfapp_articles_yields_them_once_each():
    links = (f'<a href="{NFAPP}/content/202010/13/c4136021.html?layer=2">a</a>'
             f'<a href="{NFAPP}/content/202010/13/c4136021.html?layer=3">a again</a>'
             f'<a href="{NFAPP}/content/202102/15/c4867215.html">b</a>')
    listing = find_links(f"<html><body>{links}</body></html>".encode(), "https://gdxk.southcn.com/cz/", "text/html")
    assert [url for url, _ in listing.articles] == [f"{NFAPP}/content/202010/13/c4136021.html",
                                                     f"{NFAPP}/content/202102/15/c4867215.html"]


def test_a_crawl_stores_an_nfapp_article_once_under_its_path(site, crawl, query):
    path = "/content/202010/13/c4136021.html"
    site.route(path, Reply.html((PAGES / f"{REFERENCE}.html").read_bytes(), charset=None))
    result = crawl(site, f"{site.base}{path}?layer=2", f"{site.base}{path}?layer=3")
    assert result.counts.new == 1
    assert query("select url, extractor, published_at, sources.name from articles join sources"
                 " on sources.id = articles.source_id") == [
        (site.base + path, "nfapp", "2020-10-13T11:13:14+08:00", "潮州日报")]
