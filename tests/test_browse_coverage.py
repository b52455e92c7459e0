"""The field-coverage page (/-/coverage, browse.coverage), in-process: Datasette's page and stylesheet, a true time
axis, and series that can be told apart."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import lxml.html
import pytest

from browse.coverage import COVERAGE, STYLES, label, line_chart, month_number
from tests.browse_helpers import get


def svg_tree(markup: str):
    return lxml.html.fromstring(f"<div>{markup}</div>")


def centres(tree) -> dict[str, float]:
    return {r.get("data-month"): float(r.get("x")) + float(r.get("width")) / 2 for r in tree.cssselect("rect.month")}


def rows(months: list[str], share: float = 100.0) -> list[dict]:
    return [{"month": m, "articles": 3, **{f"{name} %": share for name, _ in COVERAGE}} for m in months]


@pytest.fixture(scope="module")
def page(sample_archive):
    return get(sample_archive, "/-/coverage")


def test_the_page_is_datasettes_with_the_archives_stylesheet(page):
    assert page.status_code == 200
    html = lxml.html.fromstring(page.text)
    assert html.cssselect("h1")[0].text_content() == "字段覆盖 · Field coverage per month"
    assert html.cssselect("header nav") and html.cssselect("footer.ft")  # Datasette's base template
    assert any(href.endswith("/archive.css") for href in html.xpath("//link[@rel='stylesheet']/@href"))
    assert [a.text_content() for a in html.cssselect("section.content p a")] == ["表格 · As a table",
                                                                                "漂移报告 · Drift reports"]


def test_months_sit_on_a_true_time_axis(page, sample_archive):
    with closing(sqlite3.connect(sample_archive)) as conn:
        months = [r[0] for r in conn.execute("select distinct substr(published_at, 1, 7) from articles "
                                             "where published_at is not null order by 1")]
    x = centres(lxml.html.fromstring(page.text))
    assert sorted(x) == months and len(months) >= 3
    # The distance between two months is proportional to the months between them, gaps included.
    per_month = (x[months[-1]] - x[months[0]]) / (month_number(months[-1]) - month_number(months[0]))
    for a, b in zip(months, months[1:], strict=False):
        assert x[b] - x[a] == pytest.approx(per_month * (month_number(b) - month_number(a)), abs=0.2)


def test_a_gap_breaks_the_lines_and_keeps_its_width():
    tree = svg_tree(line_chart(rows(["2020-01", "2020-02", "2020-03", "2020-07", "2020-08"])))
    x = centres(tree)
    per_month = (x["2020-08"] - x["2020-01"]) / 7
    assert x["2020-07"] - x["2020-03"] == pytest.approx(4 * per_month, abs=0.3)
    assert x["2020-02"] - x["2020-01"] == pytest.approx(per_month, abs=0.3)
    lines = tree.cssselect("polyline.series")
    assert len(lines) == 2 * len(COVERAGE)  # each series: Jan–Mar, then Jul–Aug
    assert {len(p.get("points").split()) for p in lines} == {3, 2}


def test_ticks_at_years_and_quarters():
    tree = svg_tree(line_chart(rows(["2019-11", "2021-02"])))
    years = [t.text for t in tree.xpath("//text") if re.fullmatch(r"\d{4}(-\d\d)?", t.text or "")]
    assert years == ["2019-11", "2020", "2021"]
    assert len(tree.cssselect("line.tick-quarter")) == 3  # 2020-04, 2020-07, 2020-10
    long = svg_tree(line_chart(rows(["1990-01", "2025-12"])))
    assert not long.cssselect("line.tick-quarter") and len(long.cssselect("line.tick-year")) <= 13


def test_each_series_has_its_own_look_and_a_named_legend(page):
    assert len(set(STYLES)) == len(STYLES) == len(COVERAGE)
    assert len({color for color, _, _ in STYLES}) == len({dash for _, dash, _ in STYLES}) == len(STYLES)
    assert len({shape for _, _, shape in STYLES}) == len(STYLES)
    legend = lxml.html.fromstring(page.text).cssselect("svg g.legend")[0]
    assert [t.text for t in legend.xpath(".//text")] == [label(name) for name, _ in COVERAGE]
    assert all(re.search(r"[\u4e00-\u9fff].* · [0-9a-z]", label(name)) for name, _ in COVERAGE)


def test_values_are_readable_in_tooltips_and_a_table(page, sample_archive):
    html = lxml.html.fromstring(page.text)
    tips = [r.xpath("./title")[0].text for r in html.cssselect("rect.month")]
    assert all("作者 · authors" in tip and "%" in tip and "篇 · articles" in tip for tip in tips)
    table = html.cssselect("details.chaozhou-coverage-values table")[0]
    headings = [th.text_content() for th in table.cssselect("th")]
    assert headings[:2] == ["月份 · month", "文章 · articles"] and "作者 · authors %" in headings
    assert [tr.cssselect("td")[0].text for tr in table.cssselect("tbody tr")] == sorted(centres(html))


def test_a_date_read_centuries_off_still_draws_the_page(sample_archive, tmp_path):
    # "19-05-01" read as year 0019, beside this decade's articles: two thousand years on one axis.
    path = tmp_path / "archive.db"
    with closing(sqlite3.connect(sample_archive)) as source, closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        with copy:
            copy.execute("update articles set published_at = '0019-05-01' where id = (select min(id) from articles)")
    page = get(path, "/-/coverage")
    assert page.status_code == 200
    tree = lxml.html.fromstring(page.text)
    labels = [t.text_content() for t in tree.cssselect("svg text")]
    years = [int(t) for t in labels if t.isdigit() and len(t) == 4]
    assert "0019-05" in {r.get("data-month") for r in tree.cssselect("rect.month")}
    assert 2 <= len(years) <= 13  # labelled years: a handful, however long the axis
