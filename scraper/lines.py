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

from .text import clean_text, count_punct

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tfoot", "tr", "ul", "option",
    "select", "textarea", "caption", "fieldset", "legend", "html", "text",
}
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
             "button", "input", "select", "textarea", "head", "title", "meta", "link", "map", "area"}
EMPHASIS_TAGS = {"strong", "b", "h1", "h2", "h3", "h4", "h5", "h6"}

# Lines that are page furniture wherever they stand.
BOILERPLATE = re.compile(
    r"^(?:【?(?:打印|关闭|关闭窗口|返回顶部|返回|收藏|分享到?|字号|大|中|小|默认|纠错|推荐|评论|打印本页|"
    r"加入收藏|发表评论|我要评论|扫一扫|责任编辑|上一篇|下一篇|上一条|下一条|相关阅读|相关新闻|相关文章|"
    r"延伸阅读|热点推荐|推荐阅读|网友评论|查看评论|版权声明|免责声明)】?)"
    r"|(?:版权所有|Copyright|©|ICP备|ICP证|指导单位|建设单位|主办单位|承办单位|技术支持|联系我们|关于我们|"
    r"网站地图|网站简介|广告服务|公网安备|违法和不良信息|互联网新闻信息服务许可)",
    re.I,
)


@dataclass
class Line:
    text: str
    link_chars: int = 0
    emphasised: bool = False  # the whole line sits inside <strong>/<b>/<hN>
    tag: str = ""  # the block element the line belongs to
    element: etree._Element | None = field(default=None, repr=False)
    images: list[tuple[str, str | None]] = field(default_factory=list)  # (src, alt) in order

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
        if not text:
            return
        self._parts.append(text)
        stripped = len(clean_text(text))
        if in_link:
            self._link_chars += stripped
        if emphasised:
            self._emph_chars += stripped

    def add_image(self, src: str, alt: str | None) -> None:
        self._images.append((src, alt))

    def set_block(self, element: etree._Element) -> None:
        if not self._parts:
            self._block = element

    def flush(self) -> None:
        text = clean_text("".join(self._parts))
        if text or self._images:
            block = self._block
            self.lines.append(Line(
                text=text,
                link_chars=min(self._link_chars, len(text)),
                emphasised=bool(text) and self._emph_chars >= len(text.replace(" ", "")),
                tag=block.tag if block is not None and isinstance(block.tag, str) else "",
                element=block,
                images=self._images,
            ))
        self._parts, self._link_chars, self._emph_chars, self._images = [], 0, 0, []


def page_lines(root: etree._Element) -> list[Line]:
    """The visible lines of the page under root, in reading order."""
    builder = _LineBuilder()

    def walk(el: etree._Element, in_link: bool, emphasised: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if not tag or tag in SKIP_TAGS:  # comments, processing instructions, scripts
            return
        if tag == "br":
            builder.flush()
            return
        block = tag in BLOCK_TAGS
        if block:
            builder.flush()
            builder.set_block(el)
        if tag == "img":
            src = el.get("src") or el.get("data-src") or el.get("data-original")
            if src:
                builder.add_image(src, el.get("alt") or el.get("title"))
        link = in_link or tag == "a"
        emph = emphasised or tag in EMPHASIS_TAGS
        builder.add_text(el.text, link, emph)
        for child in el:
            walk(child, link, emph)
            builder.add_text(child.tail, link, emph)
        if block:
            builder.flush()

    walk(root, False, False)
    builder.flush()
    return builder.lines


def line_score(line: Line) -> float:
    """How much a line looks like body text: positive for prose, negative for links and furniture."""
    text = line.text
    n = len(text)
    if n == 0:
        return -2.0 if not line.images else 0.0
    if BOILERPLATE.search(text) and n < 80:
        return -40.0
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
