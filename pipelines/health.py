"""Health: notice the day the site's templates change, by comparing a run's new articles with the archive.

Scrapers rarely crash on a redesign; they start storing empty authors, titles with the site name glued on, or
bodies full of navigation. For each collection and column, the articles a run stored are measured (how many
miss each field, their median body length, how many only the generic fallback could read) and compared with
the same column's earlier articles. A measure that is far off what the column's history makes likely is drift:
the evidence decides (how many earlier articles, how many new ones), not a fixed minimum of either.
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
# Drift when a run's misses are less likely than 1 in 1,000 under the column's history. A run tests about ten
# measures in each column it touched, so a column that has not changed raises a false alarm in at most about 1
# run in 100 (fewer: the tails of small counts are coarse, and MIN_JUMP must hold too), while 5 new articles
# all missing a field that 5 earlier ones all had (1 in 1,024) already reach it; more evidence reaches it sooner.
SURPRISE = 1e-3
MIN_JUMP = 0.3  # … and the share of misses rose by this much: a few more where half miss is not drift
MIN_MISSES = 2  # … in two articles at least: one odd article (a notice, a reprint) is not a new template
LENGTH_BAND = (0.5, 2.5)  # a body this far under or over the column's median length is "off length"
NEED_AT_MOST = 100_000  # how far articles_needed looks before it says no run of a sane size could be judged


@dataclass
class Drift:
    measure: str
    share: float  # the run's share of misses (body_length: its median length)
    baseline: float  # the history's share (body_length: its median length)
    examples: list[str]
    misses: int = 0  # k of the run's n articles fell short …
    articles: int = 0
    before: int = 0  # … against K of the history's N
    history: int = 0
    chance: float = 1.0  # P(at least k of n | K of N): drift_probability

    def describe(self) -> str:
        evidence = (f"in {self.misses} of {self.articles} new articles, in {self.before} of {self.history} "
                    f"before: drift ({describe_chance(self.chance)})")
        examples = ", ".join(self.examples)
        if self.measure == "body_length":
            low, high = LENGTH_BAND
            return (f"body_length: median {self.share:,.0f} characters (usually {self.baseline:,.0f}); "
                    f"under {low:g}× or over {high:g}× the usual length {evidence}, e.g. {examples}")
        return f"{self.measure}: {MEASURES[self.measure][1]} {evidence}, e.g. {examples}"


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

    @property
    def judged(self) -> bool:
        """Whether any measure could show drift. Not when there is no history, nor when the run is so small
        that even all its articles missing a field every earlier article had would not be unlikely enough."""
        return self.baseline_articles > 0 and self.articles >= MIN_MISSES and \
            drift_probability(self.articles, self.articles, 0, self.baseline_articles) < SURPRISE


def beta_binomial_tail(k: int, n: int, a: float, b: float) -> float:
    """P(X >= k) for X ~ BetaBinomial(n, a, b), each term in log space so that runs of any size stay finite."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_n, prior = math.lgamma(n + 1), _log_beta(a, b)
    total = 0.0
    for i in range(k, n + 1):
        term = math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + _log_beta(a + i, b + n - i) - prior)
        total += term
        if term < total * 1e-17:  # past the mode (terms only fall from here): the rest cannot change the sum
            break
    return min(1.0, total)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def drift_probability(misses: int, articles: int, before: int, history: int) -> float:
    """How likely at least `misses` of a run's `articles` fall short when `before` of the column's `history`
    articles did. The rate is what the history says of it, uncertainty included (Jeffreys' prior Beta(½, ½)
    updated by the history), so 5 earlier articles weigh as 5 and not as 500, and no history calls an outcome
    impossible."""
    return beta_binomial_tail(misses, articles, before + 0.5, history - before + 0.5)


def articles_needed(history: int) -> int | None:
    """The fewest new articles that could show drift against this many earlier ones: all of them missing a
    field every earlier article had. None when no run of a sane size could (no history at all)."""
    if history <= 0:
        return None
    chance = 1.0
    for n in range(1, NEED_AT_MOST + 1):
        chance *= (n - 0.5) / (history + n)  # P(n of n) from P(n-1 of n-1), the beta-binomial's own recurrence
        if chance < SURPRISE and n >= MIN_MISSES:
            return n
    return None


def describe_chance(p: float) -> str:
    """A probability as a reader weighs it: "1 in 1,024 by chance, p < 0.001"."""
    odds = "under 1 in a million" if p < 1e-6 else f"1 in {1 / p:,.0f}"
    return f"{odds} by chance, p < {SURPRISE:g}" if p < SURPRISE else f"{odds} by chance"


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

    def count_where(self, condition: str, extra: list) -> int:
        return self.db.execute(f"select count(*) from articles a where a.id in ({self.picked}) and ({condition})",
                               [*self.params, *extra]).fetchone()[0]

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
    for name, (sql, _) in MEASURES.items():
        misses = current.misses[name]
        health.missing[name] = misses / current.count if current.count else 0.0
        if not health.judged:
            continue
        before = baseline.misses[name]
        if misses < MIN_MISSES or misses / current.count - before / baseline.count < MIN_JUMP:
            continue
        chance = drift_probability(misses, current.count, before, baseline.count)
        if chance < SURPRISE:
            health.drifts.append(Drift(name, misses / current.count, before / baseline.count,
                                       current.examples(sql), misses, current.count, before, baseline.count, chance))
    if health.judged:
        check_length(health, current, baseline)
    return health


def check_length(health: ColumnHealth, current: _Sample, baseline: _Sample) -> None:
    """Body length drifts when the run's median is far off the column's and the run holds more articles that far
    off than the history makes likely: the fields' test, with "off length" as the miss."""
    usual = baseline.median_length()
    low, high = LENGTH_BAND
    if not usual or low <= health.median_length / usual <= high:
        return
    band = [low * usual, high * usual]
    misses, before = (s.count_where("coalesce(a.char_count, 0) not between ? and ?", band)
                      for s in (current, baseline))
    chance = drift_probability(misses, current.count, before, baseline.count)
    if misses >= MIN_MISSES and chance < SURPRISE:
        examples = current.examples("1", "abs(coalesce(a.char_count, 0) - ?) desc", [usual])
        health.drifts.append(Drift("body_length", health.median_length, usual, examples, misses, current.count,
                                   before, baseline.count, chance))


def health_lines(report: list[ColumnHealth]) -> list[str]:
    """What the end of a crawl or import prints: one line when all is well, one per drift otherwise."""
    if not report:
        return ["health: no new articles to check"]
    drifts = [(col, d) for col in report for d in col.drifts]
    checked = sum(col.articles for col in report)
    if not drifts:
        thin = [describe_thin(col) for col in report if not col.judged]
        note = f" (too little history to judge {'; '.join(thin)})" if thin else ""
        return [f"health: {checked} new or updated articles in {len(report)} column(s), no drift{note}"]
    return [f"health: DRIFT in {col.name} ({col.articles} articles): {d.describe()}" for col, d in drifts]


def describe_thin(col: ColumnHealth) -> str:
    """Why a column could not be judged, and what would let it be."""
    if not col.baseline_articles:
        return f"{col.name}: no earlier articles"
    needed = articles_needed(col.baseline_articles)
    return f"{col.name}: {col.articles} new against {col.baseline_articles} earlier, {needed} new would be needed"


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
