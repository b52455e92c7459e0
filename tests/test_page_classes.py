"""Reading the page before choosing fields (issue 13): dates the page holds in structured data, scripts or a
visible date without a year; documents broken by a stray </body></html>; text the page hides from its reader.

The pages in fixtures/page-classes/ are reconstructions written from the issue's description (see its README);
the expected values below were written by hand from those pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from scraper.cli import cli
from scraper.errors import NotAnArticle
from scraper.parse import parse_article
from tests.collection import Collection
from tests.site_server import Reply

PAGES = Path(__file__).parent / "fixtures" / "page-classes"
URL = "https://news.example.invalid/a/2020/1.html"
PARA = "<p>{}，这是正文的一段话，用来说明本段的内容，并且足够长，能被当作正文来读。</p>"


def fixture(name: str, url: str = URL):
    return parse_article((PAGES / f"{name}.html").read_bytes(), url)


def page(head: str = "", body: str = "", tail: str = "") -> bytes:
    """A small article: a headline, three paragraphs, whatever head/body/tail add."""
    return ("<html><head><meta charset='utf-8'><title>测试标题</title>" + head + "</head><body><h1>测试标题</h1>"
            + body + "".join(PARA.format(f"第{i}段") for i in range(3)) + tail + "</body></html>").encode()


# ---- dates -------------------------------------------------------------------------------------------------

def test_a_visible_date_without_a_year_takes_its_year_from_the_date_update_meta():
    article = fixture("portal-yearless-date")
    assert article.published_at == "2020-10-08T12:00:00+08:00"
    assert article.field_rules["published_at"] == "meta:dateUpdate"


def test_a_day_only_json_ld_date_takes_its_time_from_the_visible_date_without_a_year():
    article = fixture("portal-jsonld-day")
    assert article.published_at == "2021-03-05T09:30+08:00"
    assert article.field_rules["published_at"] == "json-ld:datePublished+generic:date-without-year"


def test_an_epoch_in_a_script_is_read_from_utc_into_china_time():
    article = fixture("wechat-epoch")
    assert article.published_at == "2020-02-11T18:47:50+08:00"
    assert article.field_rules["published_at"] == "script:epoch"


@pytest.mark.parametrize("head,expected", [
    # JSON-LD as a list, and with an offset in UTC: the same instant in China time, on the next day.
    ('<script type="application/ld+json">[{"@type":"BreadcrumbList"},'
     '{"@type":"NewsArticle","datePublished":"2019-06-01T20:30:00Z"}]</script>', "2019-06-02T04:30:00+08:00"),
    ('<script type="application/ld+json">{"@type":"NewsArticle","dateCreated":"2019-06-01 08:30"}</script>',
     "2019-06-01T08:30+08:00"),
    # Microdata on another element than <meta>.
    ('', "2018-05-04T07:08+08:00"),
    # pubtime in milliseconds, unquoted; publish_time in seconds.
    ("<script>var article = {id: 12, pubtime: 1601352000000};</script>", "2020-09-29T12:00:00+08:00"),
    ("<script>window.publish_time = '1601352000';</script>", "2020-09-29T12:00:00+08:00"),
])
def test_structured_data_and_epoch_variables_are_readings(head, expected):
    body = '<time itemprop="datePublished" datetime="2018-05-04 07:08"></time>' if not head else ""
    assert parse_article(page(head, body), URL).published_at == expected


def test_broken_json_ld_is_still_read_and_a_number_that_is_no_time_is_not():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2019-06-01",}</script>'
            "<script>var ct = \"0000000042\"; var pubtime = 99999999999999;</script>")
    article = parse_article(page(head), URL)
    assert (article.published_at, article.field_rules["published_at"]) == ("2019-06-01", "json-ld:datePublished")


def test_json_ld_nested_beyond_the_decoders_recursion_limit_is_no_crash():
    head = '<script type="application/ld+json">' + "[" * 200_000 + "</script>"
    assert parse_article(page(head), URL).published_at is None


def test_a_visible_full_date_with_time_wins_over_other_readings_it_disagrees_with():
    head = ('<meta itemprop="dateUpdate" content="2020-10-09 08:00:00">'
            '<script type="application/ld+json">{"datePublished": "2020-10-08T12:00:35+08:00"}</script>'
            '<script>var ct = "1602201600";</script>')
    article = parse_article(page(head, "<div>发布时间：2020-10-08 12:00</div>"), URL)
    # JSON-LD agrees to the minute and adds seconds; the update time and the epoch (another day) do not count.
    assert article.published_at == "2020-10-08T12:00:35+08:00"
    assert article.field_rules["published_at"] == "generic:date-near-title+json-ld:datePublished"


def test_an_update_time_does_not_replace_a_published_reading():
    head = ('<meta itemprop="dateUpdate" content="2020-10-09 08:00:00">'
            '<meta name="publishdate" content="2020-10-08">')
    assert parse_article(page(head), URL).published_at == "2020-10-08"


def test_dates_without_a_year_and_epochs_as_text():
    from scraper.text import epoch_date, find_yearless_dates  # here: the other tests run on any version

    assert find_yearless_dates("发布时间: 10-0812:00") == [("10", "08", "12", "00", "")]
    assert find_yearless_dates("2020-10-08 12:00") == []
    assert epoch_date("1581418070000") == ("2020-02-11T18:47:50+08:00", 2)
    assert epoch_date("12345") is None


# ---- broken documents --------------------------------------------------------------------------------------

def test_a_stray_close_html_after_the_header_loses_nothing():
    article = fixture("gov-stray-close")
    assert article.title == "关于做好2020年秋冬季农业生产工作的通知"
    assert article.published_at == "2020-10-12T16:05+08:00"
    assert article.source == "市农业农村局"
    assert article.paragraphs[0] == "各县（区）人民政府，市直有关单位："
    assert article.paragraphs[-1].startswith("三、做好防灾减灾。")
    assert len(article.paragraphs) == 5


def test_content_after_a_stray_close_body_stays_in_the_body():
    data = page(body="<div>网站导航</div></body>", tail="<script>var pubtime = '2020-01-02 03:04:05';</script>")
    article = parse_article(data, URL)
    assert len(article.paragraphs) == 3 and article.published_at == "2020-01-02T03:04:05+08:00"


def test_an_article_whose_only_text_is_a_web_address_is_not_an_article():
    with pytest.raises(NotAnArticle) as caught:
        fixture("gov-address-only")
    assert "web address" in caught.value.reason


def test_scraper_parse_says_so_in_one_line():
    result = CliRunner().invoke(cli, ["parse", str(PAGES / "gov-address-only.html"), "--url", URL])
    assert result.exit_code == 2
    assert "web address" in result.output and "Traceback" not in result.output


def test_a_crawl_stores_the_broken_document_whole_and_not_the_address_only_page(site, crawl, tmp_path):
    coll = Collection(per_page=5)
    broken, address_only = coll.add("dsj", 2)
    coll.publish(site)
    site.route(broken.path, Reply.html((PAGES / "gov-stray-close.html").read_bytes()))
    site.route(address_only.path, Reply.html((PAGES / "gov-address-only.html").read_bytes()))
    stats = crawl(site)
    assert stats.exit_code == 0 and stats.counts.new == 1 and stats.counts.no_article == 1
    rows = list(sqlite_utils.Database(tmp_path / "archive.db").query(
        "select url, title, paragraph_count from articles"))
    assert [(r["url"], r["paragraph_count"]) for r in rows] == [(site.base + broken.path, 5)]


# ---- hidden text -------------------------------------------------------------------------------------------

def test_text_the_page_hides_is_not_body():
    article = fixture("hidden-text")
    text = "\n".join(article.paragraphs)
    assert "原标题" not in text and "客户端" not in text and "正文已结束" not in text
    assert article.paragraphs[0].startswith("潮汕民俗展二十日在省博物馆开幕")


def test_hidden_prose_a_script_shows_and_a_class_stay_in_the_body():
    paragraphs = fixture("hidden-text").paragraphs
    # Hidden only by a CSS class nobody here can see: kept.
    assert any(p.startswith("策展人表示") for p in paragraphs)
    # The rest of the article behind 展开全文 (display:none, prose): kept.
    assert paragraphs[-1].startswith("据悉，本次展览将持续到明年三月")
    assert len(paragraphs) == 5


def test_an_icon_hidden_from_screen_readers_is_not_body_but_hidden_prose_is():
    # aria-hidden="true", as Readability.js reads it: an icon font's private-use glyph between two paragraphs is
    # no paragraph; a hidden block of prose (three paragraphs) is the article's.
    icon = '<p><i class="icon" aria-hidden="true">\ue601</i></p>'
    prose = '<div aria-hidden="true">' + PARA.format("隐藏的正文") * 3 + "</div>"
    paragraphs = parse_article(page(tail=icon + PARA.format("末段") + prose), URL).paragraphs
    assert "\ue601" not in paragraphs
    assert paragraphs[-1].startswith("隐藏的正文")
