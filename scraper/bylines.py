"""Who wrote it, when the page says so without a 作者： label: the byline conventions of Chinese news and forums.

Each rule reads a convention, not a site: "光明日报记者 王建宏 张文攀" and "本报记者罗科苏盈发自北京" under the
headline; "（记者 格桑边觉）" after a dateline; "（姚峰 上海报道）" or "（袁源）" closing the story; "由海姑娘张贴 @ …",
"… by duscha" and "ggjjzhzz 发表于 …" on a forum or blog post; a line holding nothing but a name between the
headline and the text. Names in unlabelled places must look like Chinese personal names (a common surname,
two to four characters), which is what keeps a column name or a place from being taken for an author.
"""

from __future__ import annotations

import re

from pipelines.cjk import CJK

from .lines import Line, is_post_signature
from .text import AUTHOR_LABELS, EDITOR_LABELS, SOURCE_LABELS, is_outlet

# The commonest Chinese surnames; characters that more often begin an ordinary word (文, 国, 时, 明, 海…) are left
# out, which loses a few real names and saves many false ones.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔"
    "钟谭陆汪范贾夏韦付邹孟熊秦邱尹薛闫段雷侯史陶黎贺顾毛郝龚邵钱严覃戴莫孔汤温康施牛樊葛邢齐乔伍庞颜倪"
    "庄聂章鲁岳翟殷詹耿焦俞柳祝舒阮柯纪梅童凌毕季裴霍涂苗谷盛翁冉骆靳柴鲍喻祁蒲滕饶牟艾穆卓缪褚娄窦戚岑"
    "蔺臧闵苟邬卞栾隋刁巫寇甄仲虞敖巩佘邝鞠荆冀郁胥栗鄢谌奚粟冼阚屠禹扈晁芮阙邸雍辜裘亓邰逯嵇湛尉昝")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "司徒")
# Characters that end words for places, organisations, sections and things, seldom a given name.
_NOT_IN_NAMES = set("报网社台刊区市省县镇乡村局厅部委会院校所站栏目版页图片视频闻讯稿坛说称")
_HAN_NAME = re.compile(rf"^[{CJK}]{{2,4}}$|^[{CJK}]{{1,4}}·[{CJK}]{{1,6}}$")
_HANDLE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{1,19}$")
_ROLE = r"(?:本报|本刊|本台|本网|本站)?(?:特约|首席|见习|实习)?(?:记者|通讯员|实习生)"
# "光明日报记者 王建宏 张文攀", "□ 本报记者 葛灵丹", "新京报记者 彭冲 山东冠县报道", "…商报记者马俊峰/文"
_REPORTER_LINE = re.compile(r"^[□■●◆◇○·\s]*(?:[^，。：:；！？“”]{0,20}?)" + _ROLE + r"\s*[:：]?\s*(?P<names>.+)$")
# What follows the names on a byline: where the reporter filed from, what they did.
_AFTER_NAMES = re.compile(rf"(?:\s+[{CJK}]{{1,8}}报道|发自|报道|摄影?|/文|/摄|综合|整合|编译|整理|供图|受访者).*$")
_LEAD_CREDIT = re.compile(r"[（(][^（）()]{0,20}?" + _ROLE + r"\s*(?P<names>[^（）()]{2,30}?)\s*[）)]")
_CLOSING_CREDIT = re.compile(
    r"[（(]\s*(?:[^（）()\s]{0,8}?" + _ROLE + r")?\s*(?P<names>[^（）()\d]{2,20}?)"
    rf"\s*(?:[{CJK}]{{0,8}}报道)?\s*[）)]\s*$")
# What a closing parenthesis holds when it is not a credit: "（完）", "（未完待续）", "（责任编辑：…）", "（图）".
_NOT_CREDIT = re.compile(
    r"^(?:完|全文完|未完|待续|未完待续|续|图|组图|图文|资料图|本文|" + "|".join(EDITOR_LABELS + SOURCE_LABELS) + r")")
_SIGNATURE_AUTHOR = (
    re.compile(r"(?:本[贴帖])?由\s*(?P<name>[^\s于@]{2,20}?)\s*(?:于|@|张贴|发表)"),
    re.compile(r"\bby\s+(?P<name>[^\s〓|｜,，]{2,20})", re.I),
    re.compile(r"^(?:作者\s*[:：]?\s*)?(?P<name>[^\s:：]{2,20})\s+(?:发表于|发布于|发表在|写于)"),
)
_BRACKETED = re.compile(r"[\[【]\s*([^\[\]【】]{2,12}?)\s*[\]】]")
_DATE_LINE = re.compile(r"(?:19|20)\d\d\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}")
_NAME_SPLIT = re.compile(r"[\s、，,;；]+")  # not 和/与: they sit inside names (李和平) more often than between
_SENTENCE = re.compile(r"[，。！？；：:]")


def looks_like_person(name: str) -> bool:
    """A Chinese personal name by its shape: common surname, two to four characters, no word-ending character."""
    if not _HAN_NAME.match(name) or any(ch in _NOT_IN_NAMES for ch in name):
        return False
    return name[0] in _SURNAMES or name.startswith(_COMPOUND_SURNAMES) or "·" in name


def _names(value: str, strict: bool) -> list[str]:
    """The names in a byline value; strict asks that each look like a person, else any 2-4 character name."""
    value = _AFTER_NAMES.sub("", value).strip()
    names: list[str] = []
    for part in _NAME_SPLIT.split(value):
        part = part.strip("□■·【】[]:：")
        if not part or part in AUTHOR_LABELS:  # "记者 黄晓琳 通讯员 陈思远": a second role between the names
            continue
        ok = looks_like_person(part) if strict else bool(_HAN_NAME.match(part) or _HANDLE.match(part))
        if not ok:
            if names:  # "彭冲 山东冠县": the place after the names ends them
                break
            return []
        if part not in names:
            names.append(part)
    return names


def reporter_byline(text: str) -> list[str]:
    """Names on a reporter's byline line, which may open with the paper's name and close with the dateline."""
    if len(text) > 40 or _SENTENCE.search(text.replace("：", "").replace(":", "")):
        return []
    m = _REPORTER_LINE.match(text)
    return _names(m.group("names"), strict=False) if m else []


def signature_author(text: str) -> str | None:
    for pattern in _SIGNATURE_AUTHOR:
        m = pattern.search(text)
        if m:
            name = m.group("name").strip("〓")
            # Forum nicknames are free-form ("放飞&心情"), so only what no nickname holds rules one out.
            if _HAN_NAME.match(name) or _HANDLE.match(name) or (
                    len(name) <= 10 and not _SENTENCE.search(name) and not re.search(r"[\[\]【】<>《》]", name)
                    and not any(ch in _NOT_IN_NAMES for ch in name)):
                return name
    return None


def name_line(line: Line) -> list[str]:
    """A line that is nothing but one or more personal names: the byline under a headline."""
    text = line.text
    if not text or len(text) > 30 or line.link_density > 0.5:
        return []
    return _names(text, strict=True)


def find_byline(lines: list[Line], title_index: int | None, body: tuple[int, int]) -> tuple[list[str], str | None]:
    """Authors by the unlabelled conventions, most explicit first; ([], None) when none applies."""
    start, end = body
    top = title_index + 1 if title_index is not None and title_index < start + 3 else max(0, start - 4)
    head = range(top, min(end, start + 3))
    tail = range(max(start, end - 4), min(len(lines), end + 4))

    for zone in (head, tail):
        names: list[str] = []
        for i in zone:
            found = reporter_byline(lines[i].text)
            if found:
                names += [n for n in found if n not in names]
            elif names:
                break  # consecutive byline lines ("本报实习生 …", "本报记者 …") make one byline
        if names:
            return names, "byline:reporter-line"

    for i in head:  # the date line under the headline: "2004年7月16日08:19 [ 黄宇 ] 来源：[ 国际金融报 ]"
        text = lines[i].text
        if len(text) <= 100 and _DATE_LINE.search(text):
            for m in _BRACKETED.finditer(text):
                names = _names(m.group(1), strict=True)
                if names:
                    return names, "byline:date-line"

    body_lines = [line for line in lines[start:end] if line.text]
    if body_lines:
        m = _LEAD_CREDIT.search(body_lines[0].text[:80])
        if m and _names(m.group("names"), strict=False):
            return _names(m.group("names"), strict=False), "byline:dateline-credit"
        # The closing credit ends the last paragraph or stands alone just below it.
        after = [line for line in lines[end:end + 2] if line.text and len(line.text) <= 20]
        for line in after + body_lines[-2:][::-1]:
            m = _CLOSING_CREDIT.search(line.text)
            names = _names(m.group("names"), strict=False) if m and not _NOT_CREDIT.match(m.group("names")) else []
            if m and not re.search(_ROLE, m.group(0)):
                # With no role, "（央视）", "（潮州发布）" cite where the story came from: no outlet, and a name of
                # two characters only when it looks like a person's.
                names = [n for n in names if not is_outlet(n) and (len(n) > 2 or looks_like_person(n))]
            if names and all(not any(ch in _NOT_IN_NAMES for ch in n) for n in names):
                return names, "byline:closing-credit"

    for i in (*head, *tail):
        if is_post_signature(lines[i]):
            name = signature_author(lines[i].text)
            if name:
                return [name], "byline:post-signature"

    for i in head:
        names = name_line(lines[i])
        if names:
            return names, "byline:name-line"
    return [], None
