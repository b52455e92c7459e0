"""Classes of extraction failure seen on real pages the project was not tuned on (issue 13), each written here
as a small reconstruction of the markup described, on a site no template knows (the generic rules read it)."""

import pytest

from scraper.errors import NotAnArticle
from scraper.parse import parse_article

URL = "https://news.example.cn/a/2020/1013/12345.html"
PARAGRAPHS = ["　　潮州古城的保护与传承，是近年来潮州市委市政府工作的重点之一，韩江两岸的历史街区得到修缮。",
              "　　记者在牌坊街看到，修缮后的骑楼保留了原有的样式，游客络绎不绝，商户们对此赞不绝口。",
              "　　专家认为，历史文化名城的保护要坚持整体保护的原则，让城市留下记忆，让人们记住乡愁。"]


def page(info: str = "", tail: str = "", title: str = "潮州古城保护工作取得新进展", head: str = "",
         body: list[str] | None = None) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in (PARAGRAPHS if body is None else body))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_新闻中心</title>{head}</head>
<body><div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a> <a href="/sports/">体育</a></div>
<div class="article"><h1>{title}</h1><div class="info">{info}</div>
<div class="content">{paragraphs}{tail}</div></div>
<div class="footer">版权所有 新闻中心 Copyright 2020</div></body></html>""".encode()


@pytest.mark.parametrize("tail, source, editor", [
    ("<p><span>本文来源：潮州周刊 </span><span>责任编辑：陈明</span></p>", "潮州周刊", "陈明"),
    ("<p><span>文章来源：潮州日报</span><span>编辑：陈明</span></p>", "潮州日报", "陈明"),
    ("<p><span>来源</span><span>潮州日报</span></p>", "潮州日报", None),
], ids=["adjacent spans", "文章来源 then 编辑", "label and value apart"])
def test_credits_in_adjacent_inline_elements_are_read_and_leave_the_body(tail, source, editor):
    article = parse_article(page(info="2020-10-13 11:13", tail=tail), URL)
    assert article.source == source and article.editor == editor
    assert article.paragraphs == [p.strip("　") for p in PARAGRAPHS]


def test_date_source_and_author_each_in_its_own_span_with_nothing_between():
    info = "<span>2020-10-13 11:13</span><span>来源：潮州日报</span><span>作者：魏界亮</span>"
    article = parse_article(page(info=info), URL)
    assert article.published_at.startswith("2020-10-13T11:13")
    assert article.source == "潮州日报" and article.authors == ["魏界亮"]


@pytest.mark.parametrize("label", ["信息来源", "文章来源", "稿件来源", "本文来源", "消息来源"])
def test_every_kind_of_source_label(label):
    article = parse_article(page(info=f"2020-10-13 11:13 {label}：潮州日报"), URL)
    assert article.source == "潮州日报"


def test_a_source_stops_at_the_widget_words_beside_it():
    info = '2020-10-13 11:13 来源：潮州日报<a href="#">举报</a><a href="#">分享</a>'
    assert parse_article(page(info=info), URL).source == "潮州日报"


def test_an_unknown_author_is_no_author():
    assert parse_article(page(info="2020-10-13 11:13 来源：潮州日报 作者：未知"), URL).authors == []


def test_caixie_names_the_authors():
    assert parse_article(page(info="2020-10-13 11:13", tail="<p>采写：林晓 陈明</p>"), URL).authors == ["林晓", "陈明"]


def test_a_forum_index_is_not_an_article():
    board = "".join(f'<li><a href="/forum-{n}.html">潮州论坛版块{n}</a></li>' for n in range(3))
    html = page(title="潮州论坛", body=["欢迎来到潮州论坛，请大家文明发言"], tail=f"<ul>{board}</ul>")
    with pytest.raises(NotAnArticle, match="no prose|listing"):
        parse_article(html, URL)


def test_a_thread_list_of_names_and_counts_is_not_an_article():
    rows = [f"网友{n:03d} 回复 {n * 7} 查看 {n * 91}" for n in range(23)]
    with pytest.raises(NotAnArticle, match="no prose") as caught:
        parse_article(page(title="潮州美食讨论区", body=rows), URL)
    assert "none a sentence" in str(caught.value)


def test_a_column_listing_with_a_breadcrumb_and_no_date_is_a_listing():
    items = []
    for n in range(8):  # a linked headline and its summary, item after item
        items += [f'<a href="/a/2020/10{n:02d}/{n}.html">潮州新闻标题第{n}条</a>',
                  f"潮州市第{n}次召开工作会议，会议强调，要把各项工作落到实处，推动高质量发展。"]
    with pytest.raises(NotAnArticle, match="short linked items") as caught:
        parse_article(page(title="潮州新闻", body=items), URL)
    assert caught.value.kind.value == "listing"


def test_a_short_news_item_of_one_sentence_is_still_an_article():
    article = parse_article(page(info="2020-10-13 11:13 来源：潮州日报",
                                 body=["　　潮州市今天召开防汛工作会议，部署今年汛期的各项防汛工作。"]), URL)
    assert article.paragraphs == ["潮州市今天召开防汛工作会议，部署今年汛期的各项防汛工作。"]


@pytest.mark.parametrize("meta, authors", [
    ('<meta name="author" content="网易">', []),  # the site
    ('<meta name="author" content="潮州日报">', []),  # an outlet
    ('<meta property="og:site_name" content="潮州新闻网"><meta name="author" content="潮州新闻网">', []),
    ('<meta name="author" content="魏界亮">', ["魏界亮"]),  # a person
], ids=["site", "outlet", "site name", "person"])
def test_a_meta_author_that_is_the_site_or_an_outlet_is_no_author(meta, authors):
    assert parse_article(page(info="2020-10-13 11:13", head=meta), URL).authors == authors


@pytest.mark.parametrize("closing, authors", [
    ("（央视）", []), ("（潮州发布）", []), ("（记者 林晓 整合）", ["林晓"]), ("（陈思远）", ["陈思远"]),
])
def test_a_closing_citation_names_an_author_only_when_it_is_a_person(closing, authors):
    body = [*PARAGRAPHS[:2], PARAGRAPHS[2] + closing]
    assert parse_article(page(info="2020-10-13 11:13", body=body), URL).authors == authors


@pytest.mark.parametrize("info", [
    '<span>2020-10-13 11:13</span><a href="https://www.example.cn/">潮州日报</a>',
    "2020-10-13 11:13 潮州日报",
    '<span class="time">2020年10月13日</span><span class="source">南方网</span>',
])
def test_an_unlabelled_outlet_beside_the_date_is_the_source(info):
    assert parse_article(page(info=info), URL).source in ("潮州日报", "南方网")


def test_a_word_beside_the_date_that_names_no_outlet_is_no_source():
    assert parse_article(page(info="2020-10-13 11:13 阅读量"), URL).source is None


def title_page(title_tag: str, h1: str | None, head: str = "", subheading: str = "") -> bytes:
    heading = f"<h1>{h1}</h1>" if h1 else '<div class="title-badge">原创</div><div class="channel-title">要闻</div>'
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title_tag}</title>{head}</head><body>
<div class="article">{heading}<div class="info">2020-10-13 11:13 来源：潮州日报</div>
<div class="content">{subheading}{paragraphs}<h2>古城保护</h2>{paragraphs}</div></div></body></html>""".encode()


HEADLINE = "潮州古城保护工作取得新进展"


@pytest.mark.parametrize("title_tag, h1, head", [
    (f"{HEADLINE}_潮州新闻网", HEADLINE, '<meta property="og:title" content="分享到微信朋友圈">'),
    (f"{HEADLINE}-要闻", None, ""),
    (f"{HEADLINE} 潮州市人民政府", None, ""),
    (f"{HEADLINE}_潮州新闻网", None, ""),
], ids=["broken og:title", "section suffix", "office suffix", "badge and section only"])
def test_the_headline_is_what_title_and_heading_agree_on(title_tag, h1, head):
    assert parse_article(title_page(title_tag, h1, head), URL).title == HEADLINE


def test_a_body_subheading_inside_the_headline_is_not_the_title():
    article = parse_article(title_page(f"{HEADLINE}_潮州新闻网", None,
                                       subheading="<h3>古城保护工作</h3>"), URL)
    assert article.title == HEADLINE and PARAGRAPHS[0].strip("　") in article.paragraphs


@pytest.mark.parametrize("first", [
    "2020-10-13 11:13 潮州日报 1234人阅读",
    "2020年10月13日 11:13 来源：潮州日报 阅读：1234 字号：大 中 小",
    "潮州古城保护工作 取得新进展",  # the headline again, spaced differently
], ids=["date, outlet and counter", "labelled info line", "headline again"])
def test_the_body_starts_with_the_text_not_the_info_line_or_the_headline(first):
    article = parse_article(page(body=[first, *PARAGRAPHS]), URL)
    assert article.paragraphs[0] == PARAGRAPHS[0].strip("　")


@pytest.mark.parametrize("tail", [
    "<p>正文已结束</p><p>潮州新闻网客户端下载，随时随地看新闻，精彩内容不错过，扫码即可下载安装。</p>",
    "<p>" + "潮州 古城 牌坊街 韩江 美食 旅游 " * 60 + "</p><p>相关推荐：潮州美食排行，游客最爱的十家老店。</p>",
    "<p>1</p><p>0</p>",
], ids=["end of text marker", "keyword block", "counters"])
def test_the_body_ends_where_the_text_ends(tail):
    article = parse_article(page(info="2020-10-13 11:13 来源：潮州日报", tail=tail), URL)
    assert article.paragraphs == [p.strip("　") for p in PARAGRAPHS]


def test_paragraphs_of_icon_glyphs_from_private_use_code_points_are_no_text():
    body = [PARAGRAPHS[0], "\ue600 12", "\ue61f", *PARAGRAPHS[1:], "\ue602 分享"[:1]]
    article = parse_article(page(info="2020-10-13 11:13 来源：潮州日报", body=body), URL)
    assert article.paragraphs == [p.strip("　") for p in PARAGRAPHS]


def test_a_second_role_between_the_names_is_no_name():
    from scraper.bylines import reporter_byline
    assert reporter_byline("南方+记者 黄晓琳 通讯员 陈思远") == ["黄晓琳", "陈思远"]


# -- what a second reader found the first round of these rules got wrong --------------------------------------

@pytest.mark.parametrize("title_tag, h1, expected", [
    ("图说洛阳| 洛阳职业技术学院：剪“廉洁窗花” 过廉洁之年 河南日报网-河南日报官网",
     "洛阳职业技术学院：剪“廉洁窗花” 过廉洁之年", "洛阳职业技术学院：剪“廉洁窗花” 过廉洁之年"),
    ("COVID-19疫苗接种指南发布_潮州日报", "COVID-19疫苗接种指南发布", "COVID-19疫苗接种指南发布"),
    ("一带一路-中欧班列开行超万列_潮州日报", "一带一路-中欧班列开行超万列", "一带一路-中欧班列开行超万列"),
    ("深圳地铁14号线开通 直达坪山中心", None, "深圳地铁14号线开通 直达坪山中心"),
    ("COVID-19疫苗接种指南发布_潮州日报", None, "COVID-19疫苗接种指南发布"),
])
def test_a_title_cut_up_around_the_headline_still_gives_the_headline(title_tag, h1, expected):
    assert parse_article(title_page(title_tag, h1), URL).title == expected


@pytest.mark.parametrize("body", [
    ["潮州市气象台10月13日11时发布暴雨红色预警信号。"],
    ["床前明月光，", "疑是地上霜。", "举头望明月，", "低头思故乡。"],
    ["各县（区）人民政府：", "经市政府同意，现将国庆节放假安排通知如下", "10月1日至7日放假调休，共7天。"],
], ids=["news flash", "poem", "notice"])
def test_a_short_flash_a_poem_or_a_notice_is_an_article(body):
    assert parse_article(page(info="2020-10-13 11:13 来源：潮州日报", body=body), URL).paragraphs


def test_a_forums_software_credits_are_no_author():
    head = '<meta name="author" content="Discuz! Team and Comsenz UI Team">'
    assert parse_article(page(info="2020-10-13 11:13", head=head), URL).authors == []
    head = '<meta property="article:author" content="Jane Smith">'
    assert parse_article(page(info="2020-10-13 11:13", head=head), URL).authors == ["Jane Smith"]


@pytest.mark.parametrize("link", ["举报", "关注公众号", "下载客户端", "天气预报", "新闻中心"])
def test_a_toolbar_word_beside_the_date_is_no_source(link):
    info = f'<span>2020-10-13 11:13</span><a href="#">{link}</a>'
    assert parse_article(page(info=info), URL).source is None


def test_a_publisher_after_the_author_is_no_author():
    info = "2020-10-13 11:13 作者： 赵婕 出自[人民文学出版社]"
    assert parse_article(page(info=info), URL).authors == ["赵婕"]
