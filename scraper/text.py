"""Text rules shared by every template: cleaning, dates, labelled credits, headings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from pipelines.cjk import CJK
from pipelines.times import CHINA

# Indentation and invisible characters that pages use for layout, not content.
_SPACE = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u2009\u200b\u200c\u200d\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CJK_CHAR = rf"[{CJK}，。：；！？、（）《》“”]"
# A line break in the HTML source between two Chinese characters is the editor's wrapping, not a space.
_WRAP_BETWEEN_CJK = re.compile(rf"(?<={_CJK_CHAR})[ \t]*[\r\n]+[ \t]*(?={_CJK_CHAR})")

SENTENCE_PUNCT = set("，。！？；、,;?!")


def clean_text(text: str | None) -> str:
    """Collapse layout whitespace; drop the line breaks that source wrapping left between Chinese characters."""
    if not text:
        return ""
    text = _CONTROL.sub("", text)
    if "\n" in text or "\r" in text:  # this runs on every line of every page; most lines hold no break
        text = _WRAP_BETWEEN_CJK.sub("", text)
    return _SPACE.sub(" ", text).strip()


_PUNCT_CHARS = "".join(SENTENCE_PUNCT)


def count_punct(text: str) -> int:
    return sum(map(text.count, _PUNCT_CHARS))  # str.count runs in C; this is on every line


# ---- dates -------------------------------------------------------------------------------------------------

_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:[,，\s]*(?:星期|周|礼拜)[一二三四五六日天])?"  # "2005年08月30日, 星期二 13:22"
    r"(?:\s*(T)?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d{1,9})?)?(?:\s*([AaPp])\.?[Mm]\b)?"
    # An ISO 8601 time ("…T03:13:14Z", "…T11:13+08:00") may say its offset; it is honoured only after a "T",
    # so that a time range such as "11:13-12:00" is not read as an offset.
    r"(?:(?<=\d)(Z|[+-]\d{2}:?\d{2})(?![\d:]))?)?"
)
# English-locale servers print "9/17/2004 5:54:13 AM", month first; European sites print "06/02/2022", day first.
# Only a 12-hour clock or a number above 12 tells which, so a date that says neither is left unread.
_US_DATE = re.compile(
    r"(?<![\d/.])(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?![\d/])"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\b)?)?"
)


def find_dates(text: str) -> list[tuple[str, int]]:
    """Every plausible date in text as (ISO string, precision); precision 0 day, 1 minutes, 2 seconds."""
    found = []
    for m in _DATE.finditer(text or ""):
        y, mo, d, iso_t, h, mi, sec, half, offset = m.groups()
        found.append((m.start(), _to_iso(y, mo, d, h, mi, sec, half, offset if iso_t else None)))
    if "/" in (text or ""):
        for m in _US_DATE.finditer(text):
            mo, d, y, *rest = m.groups()
            if int(mo) > 12:
                mo, d = d, mo
            elif int(d) <= 12 and not rest[-1]:
                continue
            found.append((m.start(), _to_iso(y, mo, d, *rest)))
        found.sort(key=lambda pair: pair[0])
    return [iso for _, iso in found if iso]


def _to_iso(y, mo, d, h=None, mi=None, s=None, half=None, offset=None) -> tuple[str, int] | None:
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError:
        return None
    if not 1900 <= day.year <= date.today().year + 1:
        return None
    if h is None:
        return day.isoformat(), 0
    if half and 1 <= int(h) <= 12:  # 12-hour clock: 12 AM is midnight, 1 PM is 13:00
        h = int(h) % 12 + (12 if half in "Pp" else 0)
    if not (0 <= int(h) < 24 and 0 <= int(mi) < 60 and (s is None or 0 <= int(s) < 60)):
        return day.isoformat(), 0
    moment = datetime(day.year, day.month, day.day, int(h), int(mi), int(s or 0))
    if offset and offset not in ("+08:00", "+0800"):
        # A time given in another zone is the same instant in China time (+08:00): perhaps another day.
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        zone = UTC if offset == "Z" else timezone(sign * timedelta(hours=int(digits[:2]),
                                                                           minutes=int(digits[2:])))
        moment = moment.replace(tzinfo=zone).astimezone(CHINA).replace(tzinfo=None)
    if s is None:
        return f"{moment:%Y-%m-%dT%H:%M}+08:00", 1
    return f"{moment:%Y-%m-%dT%H:%M:%S}+08:00", 2


# A month and day with a time and no year ("10-08 12:00", "10月08日 12:00"): a portal's date line for this year's
# stories. It says nothing alone; beside a full date the page holds elsewhere it gives that date's time of day.
_YEARLESS = re.compile(
    # A two-digit day may touch the hour: "10-08" and "12:00" in two elements read "10-0812:00".
    r"(?<![\d/.\-年])(\d{1,2})\s*[-/月]\s*(\d{2}|\d(?!\d))(?![/.\-])\s*日?\s*(\d{1,2})\s*[:：]\s*(\d{2})"
    r"(?:\s*[:：]\s*(\d{2}))?(?![\d:])")


def find_yearless_dates(text: str) -> list[tuple[str, str, str, str, str | None]]:
    """Every month-day-time without a year in text, as (month, day, hour, minute, second or None)."""
    if not text or (":" not in text and "：" not in text):  # most lines hold no time; skip the regex
        return []
    return _YEARLESS.findall(text)


def date_in_year(year: int, month: str, day: str, hour: str, minute: str, second: str | None = None
                 ) -> tuple[str, int] | None:
    """A yearless reading (find_yearless_dates) placed in year, as find_dates spells it."""
    return _to_iso(year, month, day, hour, minute, second or None)


def epoch_date(value: str) -> tuple[str, int] | None:
    """A Unix time in seconds (10 digits) or milliseconds (13), which counts from UTC, in China time; None when it
    is not one or falls outside 2000 to next year (a counter or an ID is not a date)."""
    if not value.isdigit() or len(value) not in (10, 13):
        return None
    moment = datetime.fromtimestamp(int(value[:10]), UTC).astimezone(CHINA)
    if not 2000 <= moment.year <= date.today().year + 1:
        return None
    return f"{moment:%Y-%m-%dT%H:%M:%S}+08:00", 2


def most_precise(candidates: list[tuple[str, int]]) -> tuple[str, int] | None:
    """The most precise of several readings of the same publication time.

    A later, more precise reading only wins when it agrees with the first on the day (and minute), so that
    a seconds-bearing date of some other event on the page never replaces the publication date.
    """
    if not candidates:
        return None
    best = candidates[0]
    for iso, precision in candidates[1:]:
        if precision > best[1] and iso[: 10 if best[1] == 0 else 16] == best[0][: 10 if best[1] == 0 else 16]:
            best = (iso, precision)
    return best


# ---- labelled credits: 来源, 作者, 编辑 ---------------------------------------------------------------------

SOURCE_LABELS = ("来源", "稿源", "出处", "信息来源", "文章来源", "稿件来源", "本文来源", "消息来源", "新闻来源",
                 "内容来源", "来源于")
EDITOR_LABELS = ("责任编辑", "责编", "编辑", "值班编辑", "校对")
AUTHOR_LABELS = ("作者", "撰文", "撰稿", "文", "记者", "通讯员", "特约记者", "见习记者", "实习生", "本报记者", "口述",
                 "执笔人", "执笔", "评论员", "采写", "文/图", "图/文")
_OTHER_LABELS = ("发布时间", "发表时间", "更新时间", "时间", "日期", "浏览", "阅读", "点击", "字号", "审核",
                 "摄影", "图", "摄")

_ALL_LABELS = sorted(SOURCE_LABELS + EDITOR_LABELS + AUTHOR_LABELS + _OTHER_LABELS, key=len, reverse=True)
# A reporter's role is often followed by the names with a space and no colon ("本报记者 王燕平 方云凤"), and
# "本报"/"本刊" before a role names the paper, not a different label.
_LABEL_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s|｜/【\[（(，,;；□■·]))[【\[]?(?:本报|本刊|本台|本网)?(" + "|".join(_ALL_LABELS) + r")[】\]]?"
    r"(?:\s*[:：/丨|]\s*|(?<=】)|(?<=记者)\s+|(?<=通讯员)\s+|(?<=实习生)\s+|(?<=评论员)\s+"
    # … and so is an editor or photographer after a reporter ("记者 张三 责任编辑 李四"): without these, the
    # editor would be read as one more reporter.
    r"|(?<=编辑)\s+|(?<=责编)\s+|(?<=摄影)\s+"
    # "来源 潮州日报", "作者 魏界亮": the label set apart from its value with no colon.
    r"|(?<=来源)\s+|(?<=作者)\s+)"
)
# The start of another "name：value" pair the label list does not know ("访问统计：", "阅读次数：").
_OTHER_PAIR = re.compile(r"\s+[^\s:：]{2,6}[:：]")
# A page counter after the value ("作者:zboygirl 阅读(1660) 评论(5)").
_COUNTER = re.compile(r"\s+\S{1,4}[（(]\d+[)）]")
# A piece of text that is nothing but a credit label.
_LABEL_ONLY = re.compile(r"^[【\[]?(?:" + "|".join(_ALL_LABELS) + r")[】\]]?$")


def credit_text(parts: list[str]) -> str:
    """A line's text read for its credits: on a line with a label, the pieces its elements hold are kept apart
    (a label and its value in two elements are joined by a colon). ``<span>本文来源：某某周刊</span><span>责任编辑：
    某某</span>`` prints as one run of text no label rule can split, and ``来源：某某<a>举报</a>`` as "某某举报": the
    element boundary is the separator a browser does not print."""
    pieces = [part.strip() for part in parts if part.strip()]
    if len(pieces) < 2 or not any(_LABEL_RE.search(piece) or _LABEL_ONLY.match(piece) for piece in pieces):
        return clean_text("".join(parts))
    text = pieces[0]
    for before, piece in zip(pieces, pieces[1:], strict=False):
        text += ("：" if _LABEL_ONLY.match(before) else " ") + piece
    return clean_text(text)


def _cut_at_unmatched_close(value: str) -> str:
    """End a value at a closing bracket it did not open: "（记者/张三 通讯员/李四）近日，…" ends at "）"."""
    depth = 0
    for i, ch in enumerate(value):
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            if depth == 0:
                return value[:i]
            depth -= 1
    return value


def labelled_values(line: str) -> dict[str, str]:
    """Split a credit line such as "来源：潮州日报 作者：魏界亮 编辑：陈明" into {label: value}."""
    values: dict[str, str] = {}
    matches = list(_LABEL_RE.finditer(line))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        value = _cut_at_unmatched_close(line[m.end():end]).strip(" 　|｜/丨【】[]（）()，,;；")
        # A date printed after the value on the same line belongs to no label.
        value = _DATE.split(value)[0].strip(" 　|｜/丨") if _DATE.search(value) else value
        value = _COUNTER.split(_OTHER_PAIR.split(value)[0])[0]
        if value and m.group(1) not in values:
            values[m.group(1)] = value
    return values


def pick_label(values: dict[str, str], labels: tuple[str, ...]) -> str | None:
    for label in labels:
        if label in values:
            return values[label]
    return None


_NAME_SPLIT = re.compile(r"[\s、，,;；/|｜和及]+")
_PADDED_NAME = re.compile(rf"(?<![{CJK}])([{CJK}])[ \u3000]([{CJK}])(?![{CJK}])")
_NOT_A_NAME = re.compile(r"https?:|www\.|\d{3,}|[。！？=\"<>]")
# What a credit says when it names nobody.
_NO_NAME = {"未知", "佚名", "不详", "暂无", "无", "匿名", "null", "None", "admin", "管理员", "本站", "本网",
            # … what a reporter did, after the names ("（记者 林晓 整合）") …
            "整合", "综合", "编译", "整理", "报道", "出自",
            # … and the widget words that stand beside a credit: 举报, 分享, 收藏
            "举报", "分享", "收藏", "打印", "关闭", "评论", "纠错", "关注", "投诉"}


# What ends the name of an outlet, not a person: 网易, 新浪新闻, 潮州日报, 央视频道, 某某客户端, 潮州发布, 出版社.
_OUTLET = re.compile(r"(?:网|报|社|台|刊|新闻|频道|客户端|杂志|在线|传媒|集团|中心|之声|号|发布)$")
# Words that end like an outlet's name and are page furniture: a forecast, a download or follow button.
_FURNITURE = re.compile(
    r"^(?:关注|下载|打开|扫码|点击|进入|返回|订阅|更多)|^(?:天气预报|新闻中心|帮助中心|用户中心|个人中心)$")


def is_outlet(name: str) -> bool:
    return bool(_OUTLET.search(name)) and not _FURNITURE.search(name) and name not in _NO_NAME


def split_names(value: str | None) -> list[str]:
    """Names in a credit: "张三 李四", "张三、李四", "记者 张三 通讯员 李四"."""
    if not value:
        return []
    # "(潮州市直机关工委)" is an affiliation, not a name; its ")" may already be gone with the value's edge.
    value = re.sub(r"[（(][^）)]*(?:[）)]|$)", " ", value)
    value = value.split("：")[0]  # "赵 培：北京物资学院": the affiliation after the name
    # A two-character name is often padded to the width of three: "赵 培".
    value = _PADDED_NAME.sub(r"\1\2", value)
    # "记者：首先欢迎你来到…，既然你是…" is an interview, not a credit: long clauses between commas.
    if "，" in value and any(len(part) > 8 for part in value.split("，")):
        return []
    names = []
    for part in _NAME_SPLIT.split(value):
        part = part.strip(" 　:：【】[]")
        for label in sorted(AUTHOR_LABELS, key=len, reverse=True):
            if part.startswith(label) and len(part) > len(label) + 1:
                part = part[len(label):].lstrip(":：")
        part = part.strip("[]【】")
        if (not part or part in _ALL_LABELS or part in _NO_NAME or _NOT_A_NAME.search(part) or len(part) > 20
                or (is_outlet(part) and len(part) > 2)):  # "作者：赵婕 出自[人民文学出版社]": a publisher
            continue
        if part not in names:
            names.append(part)
    return names


def author_credits(line: str) -> list[str] | None:
    """Authors named by a credit line (作者/文/记者/通讯员), or None when the line is not a credit line.

    Only short lines count, so that a body sentence that happens to mention a 记者 is not taken for a credit.
    """
    text = clean_text(line)
    if not text or len(text) > 60:
        return None
    values = labelled_values(text)
    names: list[str] = []
    for label in AUTHOR_LABELS:
        if label in values:
            names += [n for n in split_names(values[label]) if n not in names]
    if not names:
        return None
    first = _LABEL_RE.search(text)
    # The line must start with its label, or be nothing but labelled credits.
    if first is None or first.start() > 2:
        return None
    return names


def editor_credit(line: str) -> str | None:
    text = clean_text(line)
    if not text or len(text) > 40:
        return None
    values = labelled_values(text)
    value = pick_label(values, EDITOR_LABELS)
    first = _LABEL_RE.search(text)
    if value is None or first is None or first.start() > 2:
        return None
    return value.split()[0] if value.split() else None


# ---- headings ----------------------------------------------------------------------------------------------

_HEADING_NUMBER = re.compile(
    r"^(?:第[一二三四五六七八九十百\d]+[章节部分篇]|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)]"
    r"|\d{1,2}[、．]|[一二三四五六七八九十]是)"
)


def looks_like_heading(text: str, emphasised: bool = False) -> bool:
    """A section heading: short, not a finished sentence, and numbered (一、…, （一）…) or set in bold."""
    if not text or len(text) > 45 or text.endswith(("。", "！", "？", ".", "：", ":")):
        return False
    return bool(_HEADING_NUMBER.match(text)) or (emphasised and len(text) <= 30)
