"""Health: notice the day the site's templates change, by comparing a run's new articles with the archive.

Scrapers rarely crash on a redesign; they start storing empty authors, titles with the site name glued on, or
bodies full of navigation. For each collection and column, the articles a run stored are measured (how many
miss each field, their median body length, how many only the generic fallback could read) and compared with
the same column's earlier articles. A measure that is far off what the column's history makes likely is drift.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field

from sqlite_utils import Database

from .store import write_transaction

# Each measure: the field it watches, SQL that is 1 when an article falls short, and how a user reads that.
MEASURES = {
    "title": ("coalesce(a.title, '') = ''", "no title"),
    "title_site_name": ("a.title glob '*[_|｜]*' or a.title like '% - %'", "site name glued to the title"),
    "published_at": ("a.published_at is null", "no date"),
    "published_time": ("a.published_at is null or a.published_at not like '%T%'", "no time of day"),
    "source": ("a.source_id is null", "no source"),
    "authors": ("not exists (select 1 from article_authors x where x.article_id = a.id)", "no authors"),
    "paragraphs": ("coalesce(a.paragraph_count, 0) < 2", "fewer than 2 paragraphs"),
    "headings": ("coalesce(a.headings, '[]') = '[]'", "no section headings"),
    "extractor": ("a.extractor = 'generic'", "read only by the generic fallback"),
}
BASELINE_ARTICLES = 500  # the column's most recent earlier articles that make its history
MIN_RUN = 3  # fewer new articles in a column than this say nothing either way
MIN_BASELINE = 10
SURPRISE = 1e-3  # drift when the run's count of misses is this unlikely under the column's history
MIN_JUMP = 0.3  # … and the share of misses rose by at least this much


@dataclass
class Drift:
    measure: str
    share: float
    baseline: float
    examples: list[str]

    def describe(self) -> str:
        examples = ", ".join(self.examples)
        if self.measure == "body_length":
            return (f"body_length: median {self.share:,.0f} characters (usually {self.baseline:,.0f}), "
                    f"e.g. {examples}")
        return (f"{self.measure}: {MEASURES[self.measure][1]} in {self.share:.0%} of them "
                f"(usually {self.baseline:.0%}), e.g. {examples}")


@dataclass
class ColumnHealth:
    collection: str | None
    column: str | None
    articles: int
    baseline_articles: int
    missing: dict[str, float] = field(default_factory=dict)  # measure -> share missing in this run
    median_length: float | None = None
    drifts: list[Drift] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "/".join(p for p in (self.collection, self.column) if p) or "(no collection)"


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space so that runs of any size stay finite."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    return min(1.0, sum(math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q)
                        for i in range(k, n + 1)))


@dataclass
class _Sample:
    """Articles picked by one condition, summed up by SQLite (memory stays flat however many there are)."""

    db: Database
    picked: str  # SQL selecting article ids
    params: list
    count: int = 0
    misses: dict[str, int] = field(default_factory=dict)

    def load(self) -> _Sample:
        sums = ", ".join(f"coalesce(sum({sql}), 0)" for sql, _ in MEASURES.values())
        row = self.db.execute(f"select count(*), {sums} from articles a where a.id in ({self.picked})",
                              self.params).fetchone()
        self.count = row[0]
        self.misses = dict(zip(MEASURES, row[1:], strict=True))
        return self

    def median_length(self) -> float | None:
        if not self.count:
            return None
        middle = [(self.count - 1) // 2, self.count // 2]
        values = [self.db.execute(
            f"select coalesce(char_count, 0) from articles a where a.id in ({self.picked}) "
            "order by 1 limit 1 offset ?", [*self.params, offset]).fetchone()[0] for offset in middle]
        return statistics.mean(values)

    def examples(self, condition: str, order: str = "a.id", extra: list | None = None) -> list[str]:
        return [r[0] for r in self.db.execute(
            f"select a.url from articles a where a.id in ({self.picked}) and ({condition}) order by {order} limit 3",
            [*self.params, *(extra or [])]).fetchall()]


def check_run(db: Database, run_id: int) -> list[ColumnHealth]:
    """The health of every collection and column the run stored articles in."""
    columns = db.execute(
        "select distinct a.collection, a.[column] from articles a join captures c on c.id = a.capture_id "
        "where c.run_id = ?", [run_id]).fetchall()
    return [check_column(db, run_id, collection, column) for collection, column in columns]


def check_column(db: Database, run_id: int, collection: str | None, column: str | None) -> ColumnHealth:
    base = ("select a.id from articles a join captures c on c.id = a.capture_id "
            "where a.collection is ? and a.[column] is ? and ")
    current = _Sample(db, base + "c.run_id = ?", [collection, column, run_id]).load()
    baseline = _Sample(db, base + f"(c.run_id is null or c.run_id < ?) order by a.id desc limit {BASELINE_ARTICLES}",
                       [collection, column, run_id]).load()
    health = ColumnHealth(collection, column, current.count, baseline.count)
    health.median_length = current.median_length()
    judged = current.count >= MIN_RUN and baseline.count >= MIN_BASELINE
    for name, (sql, _) in MEASURES.items():
        misses = current.misses[name]
        health.missing[name] = misses / current.count if current.count else 0.0
        if not judged:
            continue
        base_share = baseline.misses[name] / baseline.count
        smoothed = (baseline.misses[name] + 0.5) / (baseline.count + 1)  # history never says "impossible"
        if misses / current.count - base_share >= MIN_JUMP and \
                binomial_tail(misses, current.count, smoothed) < SURPRISE:
            health.drifts.append(Drift(name, misses / current.count, base_share, current.examples(sql)))
    if judged:
        base_median = baseline.median_length()
        if base_median and not 0.5 <= health.median_length / base_median <= 2.5:
            examples = current.examples("1", "abs(coalesce(a.char_count, 0) - ?) desc", [base_median])
            health.drifts.append(Drift("body_length", health.median_length, base_median, examples))
    return health


def health_lines(report: list[ColumnHealth]) -> list[str]:
    """What the end of a crawl or import prints: one line when all is well, one per drift otherwise."""
    if not report:
        return ["health: no new articles to check"]
    drifts = [(col, d) for col in report for d in col.drifts]
    checked = sum(col.articles for col in report)
    if not drifts:
        thin = [col.name for col in report if col.baseline_articles < MIN_BASELINE or col.articles < MIN_RUN]
        note = f" (too little history or too few new articles to judge: {', '.join(thin)})" if thin else ""
        return [f"health: {checked} new or updated articles in {len(report)} column(s), no drift{note}"]
    return [f"health: DRIFT in {col.name} ({col.articles} articles): {d.describe()}" for col, d in drifts]


def record_health(db: Database, run_id: int, report: list[ColumnHealth]) -> None:
    """Keep the run's measures beside it, so drift can be charted and explained later."""
    if "run_health" not in db.table_names():
        return
    with write_transaction(db):
        for col in report:
            drifted = {d.measure: d for d in col.drifts}
            for name, share in [*col.missing.items(), ("body_length", col.median_length)]:
                drift = drifted.get(name)
                db["run_health"].insert({
                    "run_id": run_id, "collection": col.collection, "column": col.column, "measure": name,
                    "articles": col.articles, "value": share, "baseline": drift.baseline if drift else None,
                    "drift": int(drift is not None),
                    "examples": json.dumps(drift.examples, ensure_ascii=False) if drift else None,
                })
