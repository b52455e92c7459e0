"""Dates with explicit offsets, and credit lines whose labels are separated by spaces only."""

import pytest

from scraper.text import author_credits, find_dates, labelled_values


@pytest.mark.parametrize("text,expected", [
    ("2020-10-13T03:13:14Z", ("2020-10-13T11:13:14+08:00", 2)),
    ("2024-03-04T20:30:00Z", ("2024-03-05T04:30:00+08:00", 2)),  # another day in China
    ("2020-10-13T06:13:14-05:00", ("2020-10-13T19:13:14+08:00", 2)),
    ("2020-10-13T03:13:14.123Z", ("2020-10-13T11:13:14+08:00", 2)),
    ("2020-10-13T11:13:14+08:00", ("2020-10-13T11:13:14+08:00", 2)),
    ("2020-10-13 11:13:14", ("2020-10-13T11:13:14+08:00", 2)),  # no offset: the page's own (China) time
    ("2020-10-13 11:13-12:00", ("2020-10-13T11:13+08:00", 1)),  # a time range, not an offset
])
def test_offsets_are_converted_to_china_time(text, expected):
    assert find_dates(text)[0] == expected


@pytest.mark.parametrize("line,authors,editor", [
    ("记者 张三 责任编辑 李四", ["张三"], "李四"),
    ("本报记者 张三 通讯员 王五 编辑 李四", ["张三", "王五"], "李四"),
    ("见习记者 赵六 摄影 钱七", ["赵六"], None),
])
def test_an_editor_after_a_reporter_is_not_an_author(line, authors, editor):
    assert author_credits(line) == authors
    values = labelled_values(line)
    assert values.get("责任编辑", values.get("编辑")) == editor
