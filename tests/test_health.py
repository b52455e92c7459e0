"""Template drift: a redesign halfway through a collection is reported, natural variation is not."""

import json

import pytest
import sqlite_utils
from click.testing import CliRunner

from pipelines.health import SURPRISE, articles_needed, beta_binomial_tail, drift_probability
from scraper.cli import cli
from tests.collection import Collection, article_html
from tests.warc_helpers import HTML, write_warc

THEORY = "潮州库/理论文章、理论著作"


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
    assert ("authors: no authors in 8 of 8 new articles, in 0 of 20 before: drift "
            "(under 1 in a million by chance, p < 0.001)") in result.stderr


def test_five_new_articles_without_what_five_earlier_ones_all_had_is_drift(site, crawl):
    """The issue's column: 5 earlier articles all with a source and authors, then a run of 5 with neither.
    Under the column's history that run is a 1-in-1,024 event, so it is drift, however short the history."""
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 5)
    coll.publish(site)
    first = crawl(site)
    assert first.exit_code == 0
    assert first.health == [f"health: 5 new or updated articles in 1 column(s), no drift "
                            f"(too little history to judge {THEORY}: no earlier articles)"]
    coll.add("llwzllzz", 5, layout="v2")
    coll.publish(site)
    second = crawl(site)
    assert second.exit_code == 4 and second.drift, second.health
    evidence = "in 5 of 5 new articles, in 0 of 5 before: drift (1 in 1,024 by chance, p < 0.001), e.g. "
    assert any(f"DRIFT in {THEORY} (5 articles): source: no source {evidence}" in line for line in second.health)
    assert any(f"DRIFT in {THEORY} (5 articles): authors: no authors {evidence}" in line for line in second.health)


def test_five_new_articles_without_a_source_are_drift_in_an_import_too(tmp_path):
    coll = Collection()
    base = "https://gdxk.southcn.com"
    db = tmp_path / "archive.db"

    def import_stories(name: str, stories) -> object:
        warc = write_warc(tmp_path / name, [(base + s.path, HTML, article_html(s).encode()) for s in stories])
        return CliRunner().invoke(cli, ["import", str(warc), "--db", str(db)])

    first = import_stories("before.warc.gz", coll.add("llwzllzz", 5))
    assert first.exit_code == 0, first.output
    second = import_stories("after.warc.gz", coll.add("llwzllzz", 5, layout="v2"))
    assert second.exit_code == 4, second.output
    assert "source: no source in 5 of 5 new articles, in 0 of 5 before: drift" in second.stderr


def test_a_run_too_small_to_show_anything_says_what_it_would_take(site, crawl):
    """4 new articles against 5 earlier: even all 4 missing a field all 5 had is 1 in 461, not rare enough; the
    line says so with the number that would do, computed, not a fixed floor."""
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 5)
    coll.publish(site)
    crawl(site)
    coll.add("llwzllzz", 4, layout="v2")
    coll.publish(site)
    stats = crawl(site)
    assert stats.exit_code == 0 and not stats.drift
    assert stats.health == [f"health: 4 new or updated articles in 1 column(s), no drift (too little history to "
                            f"judge {THEORY}: 4 new against 5 earlier, 5 new would be needed)"]


def test_bodies_far_longer_than_the_columns_are_judged_by_the_same_evidence(site, crawl):
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 5)
    coll.publish(site)
    crawl(site)
    for story in coll.add("llwzllzz", 5):
        story.paragraphs += [f"第{story.post_id}篇第{i}段，坚持以人民为中心的发展思想，推动高质量发展。" * 2
                             for i in range(6)]  # a body that takes in the page around it
    coll.publish(site)
    stats = crawl(site)
    assert stats.exit_code == 4, stats.health
    [line] = stats.health
    assert "body_length: median" in line and "under 0.5× or over 2.5× the usual length in 5 of 5 new articles, " \
        "in 0 of 5 before: drift (1 in 1,024 by chance, p < 0.001)" in line


def test_a_few_more_without_an_author_where_half_have_none_is_not_drift(site, history, crawl):
    history.add("dsj", 6, authorless=6)  # 6 of 6 where 10 of 20 had none: 1 in 36 by chance, not rare enough
    history.publish(site)
    stats = crawl(site)
    assert stats.exit_code == 0 and not stats.drift, stats.health
    assert stats.health == ["health: 6 new or updated articles in 1 column(s), no drift"]
    assert drift_probability(6, 6, 10, 20) > SURPRISE


def test_drift_probability_known_values():
    assert drift_probability(5, 5, 0, 5) == pytest.approx(1 / 1024, rel=1e-12)  # the column, exactly
    assert drift_probability(0, 5, 0, 5) == 1.0 and drift_probability(6, 5, 0, 5) == 0.0
    # Beta(1, 1) makes every count equally likely: P(X >= k) = (n - k + 1) / (n + 1).
    for k in range(1, 8):
        assert beta_binomial_tail(k, 7, 1, 1) == pytest.approx((8 - k) / 8)
    # Beta(2, 3), n = 3: P(X = 3) = B(5, 3) / B(2, 3) = (1/105) / (1/12) = 4/35.
    assert beta_binomial_tail(3, 3, 2, 3) == pytest.approx(4 / 35)
    # A history so long its rate is known becomes the binomial: P(3 of 3 | p = ½) = 1/8, P(>= 2 of 4) = 11/16.
    assert beta_binomial_tail(3, 3, 5e6, 5e6) == pytest.approx(0.125, rel=1e-5)
    assert beta_binomial_tail(2, 4, 5e6, 5e6) == pytest.approx(11 / 16, rel=1e-5)
    # No history: every outcome plausible; a short history weighs less than a long one with the same rate.
    assert drift_probability(20, 20, 0, 0) > 0.1
    assert drift_probability(5, 5, 0, 500) < drift_probability(5, 5, 0, 50) < drift_probability(5, 5, 0, 5)
    # Large runs: the terms underflow or overflow a float unless summed in log space.
    assert 0 < drift_probability(600, 2000, 100, 1000) < 1e-30
    assert drift_probability(600, 2000, 10**6, 10**7) < 1e-100
    assert drift_probability(150, 2000, 100, 1000) > 0.99
    assert drift_probability(40_000, 100_000, 100, 1000) < 1e-90  # an import of 100,000 pages, summed in ms


def test_articles_needed_is_the_first_run_size_that_could_show_drift():
    assert articles_needed(0) is None
    assert [articles_needed(n) for n in (1, 2, 5, 20, 500)] == [68, 16, 5, 3, 2]
    for history in (1, 2, 3, 5, 8, 20, 500):
        needed = articles_needed(history)
        assert drift_probability(needed, needed, 0, history) < SURPRISE
        assert needed == 2 or drift_probability(needed - 1, needed - 1, 0, history) >= SURPRISE
    # Against 500 earlier articles one new article missing a field is 1 in 1,002, but one odd article (a notice,
    # a reprint) is no new template: drift takes two.
    assert drift_probability(1, 1, 0, 500) < SURPRISE


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
    assert chart.status_code == 200 and "<svg" in chart.text and "<rect class='month'" in chart.text
    drawn = chart.text.split("<svg", 1)[1].split("</svg>")[0]  # the page is Datasette's, with its own script
    assert "<script" not in drawn and "http://" not in drawn.split("xmlns")[0]
