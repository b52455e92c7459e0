"""Datasette plugin: field coverage per month and per column, as canned queries and as a chart.

Drift shows first as a falling line: the share of articles with authors, a source or a time of day drops in the
month a template changed. Only archive databases get it.
"""

from __future__ import annotations

import html

from datasette import hookimpl
from datasette.utils.asgi import Response

from .archive import is_archive, visible_archive_names

# (label, SQL that is 1 when an article has the field)
COVERAGE = [
    ("title", "coalesce(title, '') != ''"),
    ("time of day", "published_at like '%T%'"),
    ("source", "source_id is not null"),
    ("authors", "exists (select 1 from article_authors x where x.article_id = articles.id)"),
    ("2+ paragraphs", "coalesce(paragraph_count, 0) >= 2"),
    ("headings", "coalesce(headings, '[]') != '[]'"),
    ("site template", "coalesce(extractor, '') != 'generic'"),
]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"]


def coverage_sql(columns: str, group_by: str, order: str = "desc") -> str:
    shares = ",\n  ".join(f"round(100.0 * avg({sql}), 1) as [{label} %]" for label, sql in COVERAGE)
    return (f"select {columns}, count(*) as articles,\n  {shares}\nfrom articles\n"
            f"where published_at is not null\ngroup by {group_by}\norder by 1 {order}")


CANNED = {
    "field_coverage_by_month": {
        "title": "Field coverage per month",
        "description": "Share of articles (by publication month) in which each field was found. A sudden drop "
                       "is template drift; see also /-/coverage for the chart.",
        "sql": coverage_sql("substr(published_at, 1, 7) as month", "month"),
    },
    "field_coverage_by_column": {
        "title": "Field coverage per collection and column",
        "sql": coverage_sql("collection, [column]", "collection, [column]"),
    },
    "drift_reports": {
        "title": "Drift reported by crawls and imports",
        "description": "Each measure that fell sharply in a run against the column's history, with examples.",
        "sql": "select r.run_id, runs.kind, runs.started_at, r.collection, r.[column], r.measure, r.articles, "
               "round(r.value, 3) as value, round(r.baseline, 3) as usually, r.examples from run_health r "
               "join runs on runs.id = r.run_id where r.drift = 1 order by r.run_id desc",
    },
}


@hookimpl
def canned_queries(datasette, database):
    if not is_archive(datasette, database):
        return None
    return CANNED


@hookimpl
def register_routes():
    return [(r"^/-/coverage$", coverage_page)]


def line_chart(months: list[str], series: dict[str, list[float]], width: int = 760, height: int = 260) -> str:
    """An SVG line chart (0–100 %) drawn here, so the page fetches nothing from outside the machine."""
    left, right, top, bottom = 40, 150, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(months) - 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="field coverage per month">']
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{pct}%</text>')
    for i, month in enumerate(months):
        if len(months) <= 12 or i % max(1, len(months) // 12) == 0:
            parts.append(f'<text x="{left + i * step:.1f}" y="{height - 10}" font-size="10" '
                         f'text-anchor="middle">{html.escape(month)}</text>')
    for values, color in zip(series.values(), COLORS, strict=False):
        points = " ".join(f"{left + i * step:.1f},{top + plot_h * (1 - v / 100):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
    for n, (label, color) in enumerate(zip(series, COLORS, strict=False)):
        y = top + 14 * n + 8
        parts.append(f'<rect x="{left + plot_w + 12}" y="{y - 8}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{left + plot_w + 26}" y="{y + 1}" font-size="11">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


async def coverage_page(datasette, request):
    sections = []
    for name in await visible_archive_names(datasette, request.actor):
        db = datasette.get_database(name)
        result = await db.execute(coverage_sql("substr(published_at, 1, 7) as month", "month", "asc"))
        rows = [dict(r) for r in result.rows]
        months = [r["month"] for r in rows]
        series = {label: [r[f"{label} %"] or 0 for r in rows] for label, _ in COVERAGE}
        chart = line_chart(months, series) if rows else "<p>No dated articles yet.</p>"
        sections.append(f"<h2>{html.escape(name)}</h2>{chart}"
                        f'<p><a href="{datasette.urls.database(name)}/field_coverage_by_month">as a table</a> · '
                        f'<a href="{datasette.urls.database(name)}/drift_reports">drift reports</a></p>')
    body = "".join(sections) or "<p>No archive database is being served.</p>"
    return Response.html(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Field coverage</title></head>"
        "<body style='font-family:sans-serif;margin:2em'><h1>Field coverage per month</h1>"
        "<p>Share of each month's articles in which each field was found. A line that drops in one month "
        "is what a template change looks like.</p>" + body + "</body></html>")
