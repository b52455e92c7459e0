"""The generic extractor's general rules, each on a small page written for it (no real site's markup)."""

from __future__ import annotations

import lxml.html
import pytest

from scraper.bylines import find_byline, looks_like_person, reporter_byline, signature_author
from scraper.lines import BOILERPLATE, Line, page_lines
from scraper.parse import parse_article
from scraper.text import find_dates, labelled_values, split_names

URL = "https://example.invalid/a/1.html"
PARA = "<p>{}，这是正文的一段话，用来说明本段的内容，并且足够长，能被当作正文。</p>"


def page(*parts: str, title: str = "测试标题") -> bytes:
    return ("<html><head><meta charset='utf-8'><title>" + title + "</title></head><body>"
            + "".join(parts) + "</body></html>").encode()


@pytest.mark.parametrize("text,expected", [
    ("发布日期： 9/17/2004 5:54:13 AM", "2004-09-17T05:54:13+08:00"),
    ("7/5/2005 9:23:57 PM", "2005-07-05T21:23:57+08:00"),
    ("2005年08月30日, 星期二 13:22", "2005-08-30T13:22+08:00"),
    ("13/02/2022", "2022-02-13"),
])
def test_dates_in_other_layouts(text, expected):
    assert find_dates(text)[0][0] == expected


def test_an_ambiguous_day_month_date_is_left_unread():
    assert find_dates("发表时间： 06/02/2022 - 13:48") == []


def test_boilerplate_words_must_stand_alone():
    assert BOILERPLATE.search("【打印】【关闭】")
    assert not BOILERPLATE.search("中国经济稳中向好")
    assert not BOILERPLATE.search("大家都来了")


@pytest.mark.parametrize("line,names", [
    ("光明日报记者 王建宏 张文攀", ["王建宏", "张文攀"]),
    ("本报记者罗科苏盈发自北京", ["罗科苏盈"]),
    ("新京报记者 彭冲 山东冠县报道", ["彭冲"]),
    ("□ 本报记者 葛灵丹", ["葛灵丹"]),
    ("记者 李和平", ["李和平"]),
    ("记者来到现场，看到了很多人。", []),
])
def test_reporter_bylines(line, names):
    assert reporter_byline(line) == names


def test_credit_values_stop_at_other_fields():
    assert labelled_values("作者:zboygirl 阅读(1660) 评论(5)")["作者"] == "zboygirl"
    assert labelled_values("作者： 流泉 访问统计： 2005年08月30日")["作者"] == "流泉"
    assert labelled_values("本报记者 王燕平 方云凤")["记者"] == "王燕平 方云凤"


def test_names_in_credits():
    assert split_names("赵 培：北京物资学院，北京") == ["赵培"]
    assert split_names("首先欢迎你来到我们这里接受采访，既然你是这个行业的专家") == []
    assert split_names('size="20"') == []


def test_signatures_and_name_shapes():
    assert signature_author("由海姑娘张贴 @ 2005-06-14 03:25:55 (370)") == "海姑娘"
    assert signature_author("发布时间 2005/03/15 22:36:13 by duscha") == "duscha"
    assert signature_author("[点击此处收藏本文] 发表于2005年09月07日 11:57 AM") is None
    assert looks_like_person("王建宏") and not looks_like_person("国内新闻") and not looks_like_person("社会")


def test_closing_credit_and_name_line():
    lines = [Line("标题"), Line("胡平"), Line("正文第一段，内容。" * 5), Line("正文第二段，内容。（姚峰 上海报道）")]
    assert find_byline(lines, 0, (2, 4)) == (["姚峰"], "byline:closing-credit")
    lines[3] = Line("正文第二段，内容。")
    assert find_byline(lines, 0, (2, 4)) == (["胡平"], "byline:name-line")


def test_a_second_copy_of_the_text_is_marked_but_a_paragraph_said_twice_is_not():
    root = lxml.html.fromstring(
        "<div><p>一二三四五六七八九十一二三四五六七八九十</p><p>一二三四五六七八九十一二三四五六七八九十</p>"
        "<p>别的</p><p>一二三四五六七八九十一二三四五六七八九十</p></div>")
    assert [line.repeated for line in page_lines(root)] == [False, False, False, True]


def test_readers_comments_are_not_the_body():
    comments = [PARA.format(f"读者留言{i}") for i in range(12)]
    article = parse_article(page("<h1>测试标题</h1>", *(PARA.format(f"正文{i}") for i in range(4)),
                                 "<h3>《测试标题》已有12条评论</h3>", *comments), URL)
    assert all("读者留言" not in p for p in article.paragraphs) and len(article.paragraphs) == 4


def test_a_forum_thread_yields_the_first_post_and_its_author():
    first = "".join(PARA.format(f"主帖{i}") for i in range(3))
    reply = "".join(PARA.format(f"回帖{i}") for i in range(8))
    article = parse_article(page("<h1>测试标题</h1>", first, "<p>本贴由大卫于2005年8月12日16:12:21在论坛发表.</p>",
                                 reply, "<p>本贴由小明于2005年8月13日10:00:00在论坛发表.</p>"), URL)
    assert len(article.paragraphs) == 3 and article.authors == ["大卫"]
    assert article.published_at == "2005-08-12T16:12:21+08:00"


def test_a_copyright_notice_under_the_article_is_not_the_body():
    notice = ("<p>反侵权公告：</p>"
              "<p>一、任何单位或个人，在任何公开传播平台上使用本报的原创内容，必须事先取得本报社书面授权；</p>")
    article = parse_article(page("<h1>测试标题</h1>", *(PARA.format(f"正文{i}") for i in range(4)), notice), URL)
    assert len(article.paragraphs) == 4


def test_a_paragraph_cut_off_by_a_box_of_links_is_taken_back():
    links = "".join(f"<a href='/x{i}'>·另一篇文章的标题第{i}条新闻链接</a>" for i in range(6))
    box = f"<div>今日焦点：{links}</div>"
    article = parse_article(page("<h1>测试标题</h1>", PARA.format("开头的一段"), box,
                                 *(PARA.format(f"正文{i}") for i in range(6))), URL)
    assert article.paragraphs[0].startswith("开头的一段")
