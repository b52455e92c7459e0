"""Template drift: a redesign halfway through a collection is reported, natural variation is not."""

import json

import pytest
import sqlite_utils
from click.testing import CliRunner

from pipelines.health import binomial_tail
from scraper.cli import cli


def test_a_run_without_change_is_not_drift(site, tmp_path, history, crawl):
    history.add("llwzllzz", 6)
    history.add("dsj", 6, authorless=4)  # 4 of 6 without author where half usually have none: not drift
    history.publish(site)
    stats = crawl(site)
    assert stats.counts.new == 12 and stats.exit_code == 0 and not stats.drift, stats.health
    assert stats.health == ["health: 12 new or updated articles in 2 column(s), no drift"]


def test_a_redesign_is_drift_on_the_first_run_after_it(site, tmp_path, history, crawl):
    redesigned = history.add("llwzllzz", 8, layout="v2")
    history.publish(site)
    stats = crawl(site)
    assert stats.exit_code == 4 and stats.drift
    drift_lines = [line for line in stats.health if "DRIFT" in line]
    named = {line.split(": ")[2] for line in drift_lines}
    assert {"authors", "source"} <= named, stats.health
    urls = {site.base + s.path for s in redesigned}
    for line in drift_lines:
        assert "理论文章、理论著作" in line
        examples = line.split("e.g. ")[1].split(", ")
        assert len(examples) == 3 and set(examples) <= urls
    db = sqlite_utils.Database(tmp_path / "archive.db")
    rows = list(db.query("select measure, drift, examples from run_health where drift = 1"))
    assert {r["measure"] for r in rows} >= {"authors", "source"}
    assert all(len(json.loads(r["examples"])) == 3 for r in rows)


def test_drift_check_can_be_turned_off(site, tmp_path, history, crawl):
    history.add("llwzllzz", 8, layout="v2")
    history.publish(site)
    stats = crawl(site, drift_check=False)
    assert stats.exit_code == 0 and stats.health == []


def test_crawl_command_exits_4_and_says_why(site, tmp_path, history):
    history.add("llwzllzz", 8, layout="v2")
    history.publish(site)
    result = CliRunner().invoke(cli, ["crawl", site.base + "/cz/", "--db", str(tmp_path / "archive.db"),
                                      "--delay", "0"])
    assert result.exit_code == 4
    assert "health: DRIFT in 潮州库/理论文章、理论著作" in result.stderr
    assert "authors: no authors in 100% of them (usually 0%)" in result.stderr


def test_binomial_tail():
    assert binomial_tail(0, 5, 0.3) == 1.0
    assert binomial_tail(3, 3, 0.5) == pytest.approx(0.125)
    assert binomial_tail(2, 4, 0.5) == pytest.approx(11 / 16)
    # Large runs: the terms underflow or overflow a float unless summed in log space.
    assert binomial_tail(600, 2000, 0.1) < 1e-100
    assert binomial_tail(150, 2000, 0.1) > 0.99


def test_coverage_queries_and_chart_in_datasette(site, tmp_path, history, crawl):
    import asyncio

    from datasette.app import Datasette

    history.add("llwzllzz", 8, layout="v2")
    history.publish(site)
    crawl(site)

    async def browse():
        ds = Datasette([str(tmp_path / "archive.db")])
        by_column = await ds.client.get("/archive/field_coverage_by_column.json?_shape=array")
        drift = await ds.client.get("/archive/drift_reports.json?_shape=array")
        chart = await ds.client.get("/-/coverage")
        return by_column, drift, chart

    by_column, drift, chart = asyncio.run(browse())
    assert by_column.status_code == 200, by_column.text
    theory = next(r for r in by_column.json() if r["column"] == "理论文章、理论著作")
    assert theory["articles"] == 28 and theory["authors %"] == pytest.approx(100 * 20 / 28, abs=0.1)
    assert {r["measure"] for r in drift.json()} >= {"authors", "source"}
    assert chart.status_code == 200 and "<svg" in chart.text and "<polyline" in chart.text
    assert "<script" not in chart.text and "http://" not in chart.text.split("<svg", 1)[1].split("xmlns")[0]
