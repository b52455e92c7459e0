"""A page as the lines a reader sees, and the densest run of them: the body finder every template shares.

Lines break where a browser breaks them (block elements and <br>); inline tags inside a line are joined.
Each line remembers how much of its text is link text, whether it is emphasised, and the element it came
from, so templates can bound the search by structure (title above, footer below) and the generic extractor
can use the whole page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .text import clean_text, count_punct, credit_text

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tfoot", "tr", "ul", "option",
    "select", "textarea", "caption", "fieldset", "legend", "html", "text",
}
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
             "button", "input", "select", "textarea", "head", "title", "meta", "link", "map", "area"}
# An inline style that hides the element from the reader. Classes are not read: their style sheet is not at hand,
# and guessing from a class name would hide what some site shows.
_HIDING_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!\s*important\s*)?(?:;|$)",
                           re.I)
# A hidden block holding this much prose (and three punctuation marks) is the rest of the article that a "展开全文"
# button shows, not furniture: what pages hide as furniture is a line or two (原标题…, an app promo, 正文已结束).
HIDDEN_PROSE = 100
# The attributes that may hide an element, found in C (an attribute path runs faster than a predicate on every
# element); each value knows its element and its name.
_MAY_HIDE = etree.XPath("descendant::*/@style|descendant::*/@hidden|descendant::*/@aria-hidden")
EMPHASIS_TAGS = {"strong", "b", "h1", "h2", "h3", "h4", "h5", "h6"}

# Lines that are page furniture wherever they stand.
BOILERPLATE = re.compile(
    r"^(?:【?(?:打印|关闭|关闭窗口|返回顶部|返回|收藏|分享到?|字号|大|中|小|默认|纠错|推荐|评论|打印本页|举报|"
    r"加入收藏|发表评论|我要评论|扫一扫|责任编辑|上一篇|下一篇|上一条|下一条|相关阅读|相关新闻|相关文章|"
    r"延伸阅读|热点推荐|推荐阅读|网友评论|查看评论|版权声明|免责声明)】?(?=$|[\s|｜:：【\[（(>»\d]))"
    r"|(?:版权所有|Copyright|©|ICP备|ICP证|指导单位|建设单位|主办单位|承办单位|技术支持|联系我们|关于我们|"
    r"网站地图|网站简介|广告服务|公网安备|违法和不良信息|互联网新闻信息服务许可)",
    re.I,
)
# Notices a site prints under every article: reprint terms, disclaimers, anti-piracy statements. They are
# written in full sentences, so punctuation alone would take them for prose.
DISCLAIMER = re.compile(
    r"版权声明|免责声明|反侵权|侵权必究|未经.{0,12}(?:授权|许可|同意).{0,12}(?:转载|使用|复制)|不得转载|禁止转载|"
    r"转载请注明|仅代表作者(?:本人|个人)?(?:的)?观点|不代表本(?:网|站|报|平台)|信息发布平台|信息存储空间服务|"
    r"著作权(?:法|人|归)|版权归.{0,12}所有"
)
# A heading that opens the site's notice under the article: reprint terms, an anti-piracy statement.
NOTICE_HEADING = re.compile(r"^【?(?:反侵权公告|版权声明|免责声明|特别声明|郑重声明|法律声明|版权说明)】?\s*[:：]?$")
# What a page prints where the article's text ends.
END_OF_TEXT = re.compile(
    r"^[-—=\s【\[(（]*(?:正文已结束|正文结束|本文结束|全文完|全文结束|the end|end)[-—=\s】\])）]*$", re.I)


def is_keyword_block(line: Line) -> bool:
    """A block of tags or keywords under the article: long, and hardly a sentence in it."""
    return len(line.text) >= 300 and count_punct(line.text) * 200 < len(line.text)


# A heading that opens the readers' comments below an article or blog post.
COMMENTS_HEADING = re.compile(
    r"^(?:#\s*)?re\s*[:：]|"
    r"^【?(?:网友|读者|最新|热门|全部|相关|精彩|我要|发表|查看|用户)?(?:评论|留言|跟帖)(?:区|列表|内容)?】?\s*"
    r"(?:[(（]\s*\d*\s*[)）])?\s*[:：]?$|"
    r"已有\s*\d+\s*(?:件|条|篇|位|个)?\S{0,4}(?:评论|留言|回复)|^共?\s*\d+\s*(?:条|则|篇|个)(?:评论|留言|回复)|"
    r"^(?:comments?|\d+\s+(?:comments?|responses?|replies)|leave a (?:reply|comment))\b",
    re.I,
)
# The line a forum or blog prints with each post: who posted it and when. Several on a page mean several posts.
_POST_WORDS = re.compile(r"发表于|发布于|回复于|张贴|本贴由|本帖由|由\S{1,20}于|posted\b|\bby\s+\S|\d+\s*楼|楼主")
_TIME_OF_DAY = re.compile(r"(?<!\d)\d{1,2}[:：]\d{2}")
_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass
class Line:
    text: str
    link_chars: int = 0
    emphasised: bool = False  # the whole line sits inside <strong>/<b>/<hN>
    tag: str = ""  # the block element the line belongs to
    element: etree._Element | None = field(default=None, repr=False)
    images: list[tuple[str, str | None]] = field(default_factory=list)  # (src, alt) in order
    repeated: bool = False  # the same text stands on an earlier line (a mobile copy, a quoted post)
    # The text as credits are read in it: its elements kept apart where one starts with a label (text.credit_text).
    credits: str = ""
    pieces: tuple[str, ...] = ()  # the text of each element on the line, when there are several
    score: float | None = field(default=None, repr=False, compare=False)  # line_score, once computed

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))


class _LineBuilder:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._link_chars = 0
        self._emph_chars = 0
        self._images: list[tuple[str, str | None]] = []
        self._block: etree._Element | None = None

    def add_text(self, text: str | None, in_link: bool, emphasised: bool) -> None:
        if not text or (not self._parts and text.isspace()):  # indentation between blocks opens no line
            return
        self._parts.append(text)
        if in_link or emphasised:
            visible = len("".join(text.split()))
            if in_link:
                self._link_chars += visible
            if emphasised:
                self._emph_chars += visible

    def add_image(self, src: str, alt: str | None) -> None:
        self._images.append((src, alt))

    def set_block(self, element: etree._Element) -> None:
        if not self._parts:
            self._block = element

    def flush(self) -> None:
        if not self._parts and not self._images:  # most block boundaries close nothing
            return
        text = clean_text("".join(self._parts))
        if text or self._images:
            block = self._block
            self.lines.append(Line(
                text=text,
                credits=credit_text(self._parts) if len(self._parts) > 1 else text,
                pieces=tuple(p for p in (part.strip() for part in self._parts) if p) if len(self._parts) > 1 else (),
                link_chars=min(self._link_chars, len(text)),
                emphasised=bool(text) and self._emph_chars >= len(text.replace(" ", "")),
                tag=block.tag if block is not None and isinstance(block.tag, str) else "",
                element=block,
                images=self._images,
            ))
        self._parts, self._link_chars, self._emph_chars, self._images = [], 0, 0, []


def hidden_elements(root: etree._Element) -> set[etree._Element]:
    """Elements under root that the page hides from its reader by their own markup, as Readability.js judges
    visibility: the ``hidden`` attribute, an inline ``display:none`` / ``visibility:hidden`` (a 原标题 line, an app
    promo, 正文已结束), ``aria-hidden="true"`` (an icon font's glyph). A hidden block of prose stays: a script shows
    it (展开全文), and it is the article."""
    found = set()
    for value in _MAY_HIDE(root):
        name = value.attrname
        if not (name == "hidden" or (name == "aria-hidden" and value == "true")
                or (name == "style" and _HIDING_STYLE.search(value))):
            continue
        el = value.getparent()
        text = el.text_content()
        if len(text) < HIDDEN_PROSE or count_punct(text) < 3:
            found.add(el)
    return found


def page_lines(root: etree._Element) -> list[Line]:
    """The visible lines of the page under root, in reading order."""
    builder = _LineBuilder()
    hidden = hidden_elements(root)

    flush, add_text = builder.flush, builder.add_text  # bound once: this runs for every element of the page

    def walk(el: etree._Element, in_link: bool, emphasised: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            return
        tag = tag.lower()
        if tag in SKIP_TAGS or (hidden and el in hidden):
            return
        if tag == "br":
            flush()
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
            builder.set_block(el)
        if tag == "img":
            src = el.get("src") or el.get("data-src") or el.get("data-original")
            if src:
                builder.add_image(src, el.get("alt") or el.get("title"))
        link = in_link or tag == "a"
        emph = emphasised or tag in EMPHASIS_TAGS
        if el.text:
            add_text(el.text, link, emph)
        for child in el:
            walk(child, link, emph)
            tail = child.tail
            if tail:
                add_text(tail, link, emph)
        if block:
            flush()

    walk(root, False, False)
    builder.flush()
    # A copy of text printed further up (the mobile or print version of the article, a quoted post) is marked;
    # the same paragraph twice in a row is one passage said twice, and stays prose.
    seen: set[str] = set()
    previous = ""
    for line in builder.lines:
        if len(line.text) >= 20:
            line.repeated = line.text in seen and line.text != previous
            seen.add(line.text)
        if line.text:
            previous = line.text
    return builder.lines


def line_score(line: Line) -> float:
    """How much a line looks like body text: positive for prose, negative for links and furniture."""
    if line.score is None:
        line.score = _score(line)
    return line.score


def _score(line: Line) -> float:
    text = line.text
    n = len(text)
    if n == 0:
        return -2.0 if not line.images else 0.0
    if (n < 80 and BOILERPLATE.search(text)) or (n < 300 and DISCLAIMER.search(text)):
        return -40.0
    if line.repeated:
        # Slightly negative: a second copy never draws the run to itself, but a table that repeats a cell
        # ("同上", a course name) is not cut in two by it.
        return -5.0
    plain = n - line.link_chars
    punct = count_punct(text)
    score = plain - 3.0 * line.link_chars
    if punct:
        score += 8.0 * min(punct, 4)
    else:
        score -= 18.0
    return score


def densest_run(lines: list[Line], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """The contiguous run of lines[start:end] with the highest total score (Kadane); None if nothing scores."""
    end = len(lines) if end is None else end
    best_sum, best = 0.0, None
    run_sum, run_start = 0.0, start
    for i in range(start, end):
        score = line_score(lines[i])
        if run_sum <= 0:
            run_sum, run_start = score, i
        else:
            run_sum += score
        if run_sum > best_sum:
            best_sum, best = run_sum, (run_start, i + 1)
    return best


def is_comments_heading(line: Line) -> bool:
    return len(line.text) <= 40 and line.link_density < 0.5 and bool(COMMENTS_HEADING.search(line.text))


def is_post_signature(line: Line) -> bool:
    """"由海姑娘张贴 @ 2005-06-14 03:25:55", "ggjjzhzz 发表于 2005-9-15 11:46:00", "… 2005/03/15 22:36:13 by duscha"."""
    text = line.text
    return len(text) <= 120 and bool(_TIME_OF_DAY.search(text)) and bool(_POST_WORDS.search(text)) \
        and bool(_YEAR.search(text))


def trim_run(lines: list[Line], run: tuple[int, int]) -> tuple[int, int]:
    """End a body run where the article ends and others' words begin: readers' comments, or the next post.

    A run that crosses a comments heading or a second post signature is a page whose article is followed by
    replies; density alone cannot tell them apart, because replies are prose too.
    """
    start, end = run
    text_before = 0
    first_signature = None
    for i in range(start, end):
        line = lines[i]
        if text_before >= 50 and (is_comments_heading(line) or NOTICE_HEADING.match(line.text)
                                  or END_OF_TEXT.match(line.text) or is_keyword_block(line)):
            return start, i
        if is_post_signature(line):
            if first_signature is None and text_before < 100:
                first_signature = i  # a header above the post: the post runs to the next one
            elif i > start:
                return start, i  # the footer under the post, or the header of the next
        text_before += len(line.text) - line.link_chars
    return start, end


def extend_over_insert(lines: list[Line], run: tuple[int, int], floor: int) -> tuple[int, int]:
    """Take back the article's opening paragraphs that a box of links cuts off from the rest.

    Portals insert a "今日推荐" or "今日焦点" box after the first paragraph; the box costs more than one
    paragraph earns, so the densest run starts below it. Between the headline (floor) and the run, a prose
    paragraph separated from the run only by link lines and furniture belongs to the article.
    """
    start, end = run
    new_start = start
    for i in range(start - 1, max(floor, start - 25) - 1, -1):
        line = lines[i]
        score = line_score(line)
        if score >= 40 and line.link_density < 0.3 and count_punct(line.text) >= 2:
            new_start = i
        elif score > 0 and not (line.link_density > 0.5 or not count_punct(line.text)):
            break  # other prose that does not read as the article's opening: leave the run as it is
    return new_start, end
