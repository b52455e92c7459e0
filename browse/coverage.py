"""Datasette plugin: field coverage per month and per column, as canned queries and as a chart.

Drift shows first as a falling line: the share of articles with authors, a source or a time of day drops in the
month a template changed. Only archive databases get it.
"""

from __future__ import annotations

from html import escape

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from .archive import is_archive, visible_archive_names

# (label, SQL that is 1 when an article has the field); the label names the canned queries' columns
COVERAGE = [
    ("title", "coalesce(title, '') != ''"),
    ("time of day", "published_at like '%T%'"),
    ("source", "source_id is not null"),
    ("authors", "exists (select 1 from article_authors x where x.article_id = articles.id)"),
    ("2+ paragraphs", "coalesce(paragraph_count, 0) >= 2"),
    ("headings", "coalesce(headings, '[]') != '[]'"),
    ("site template", "coalesce(extractor, '') != 'generic'"),
]
CHINESE = {"title": "标题", "time of day": "发布时刻", "source": "来源", "authors": "作者",
           "2+ paragraphs": "两段以上", "headings": "小标题", "site template": "网站模板"}
# Lines at 100 % lie on top of each other: each series has its own colour (Okabe–Ito, told apart by colour-blind
# readers too), dash pattern and marker, so the one drawn last does not hide the others.
STYLES = [("#000000", "", "circle"), ("#E69F00", "9 4", "square"), ("#56B4E9", "3 3", "triangle"),
          ("#009E73", "12 3 3 3", "diamond"), ("#D55E00", "6 2", "cross"), ("#CC79A7", "2 5", "plus"),
          ("#0072B2", "14 4", "down")]


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


def label(name: str) -> str:
    return f"{CHINESE.get(name, name)} · {name}"


def month_number(month: str) -> int:
    """Months since year 0: the chart's x axis is this number, so a gap of missing months keeps its width."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def marker(shape: str, x: float, y: float, color: str, r: float = 4) -> str:
    style = f"fill='white' stroke='{color}' stroke-width='1.5'"
    if shape == "circle":
        return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{r}' {style}/>"
    if shape == "square":
        return f"<rect x='{x - r:.1f}' y='{y - r:.1f}' width='{2 * r}' height='{2 * r}' {style}/>"
    if shape in ("cross", "plus"):
        a, b = ((r, r), (r, -r)) if shape == "cross" else ((r, 0), (0, r))
        return (f"<path d='M{x - a[0]:.1f},{y - a[1]:.1f}L{x + a[0]:.1f},{y + a[1]:.1f}M{x - b[0]:.1f},"
                f"{y - b[1]:.1f}L{x + b[0]:.1f},{y + b[1]:.1f}' stroke='{color}' stroke-width='2'/>")
    corners = {"triangle": [(0, -r), (r, r * 0.8), (-r, r * 0.8)], "down": [(0, r), (r, -r * 0.8), (-r, -r * 0.8)],
               "diamond": [(0, -r), (r, 0), (0, r), (-r, 0)]}[shape]
    points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in corners)
    return f"<polygon points='{points}' {style}/>"


def time_ticks(first: int, last: int) -> tuple[list[tuple[int, str]], list[int]]:
    """Labelled ticks at Januaries (every 1, 2, 5, ... years, at most a dozen) and, over ten years or fewer,
    unlabelled ticks at the other quarters; the first month is labelled when it is no January."""
    years = last // 12 - first // 12 + 1
    # 1, 2, 5, 10, 20, 50, ... years: a date read centuries off (year 0019) makes an axis of two thousand years
    every = next(n for n in (m * 10 ** e for e in range(5) for m in (1, 2, 5)) if years / n <= 12)
    major = [(n, str(n // 12)) for n in range(first, last + 1) if n % 12 == 0 and (n // 12) % every == 0]
    if first % 12:
        major.insert(0, (first, f"{first // 12}-{first % 12 + 1:02d}"))
    minor = [n for n in range(first, last + 1) if n % 3 == 0 and n % 12] if last - first <= 120 else []
    return major, minor


def line_chart(rows: list[dict], width: int = 960, height: int = 300) -> str:
    """An SVG line chart (0–100 %) of each field's coverage per month, drawn here so the page fetches nothing.

    rows: one per month with data, ``{"month": "YYYY-MM", "articles": n, "<label> %": share, ...}``."""
    left, right, top, bottom = 44, 230, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers = [month_number(r["month"]) for r in rows]
    first, last = min(numbers), max(numbers)

    pad = 22  # room for the dodged markers of the first and last months

    def x(n: int) -> float:
        return left + pad + (plot_w - 2 * pad) * ((n - first) / (last - first) if last > first else 0.5)

    def y(pct: float) -> float:
        return top + plot_h * (1 - pct / 100)

    parts = []
    for pct in (0, 25, 50, 75, 100):
        parts.append(f"<line x1='{left}' x2='{left + plot_w}' y1='{y(pct):.1f}' y2='{y(pct):.1f}' stroke='#ddd'/>"
                     f"<text x='{left - 6}' y='{y(pct) + 4:.1f}' font-size='11' text-anchor='end'>{pct}%</text>")
    major, minor = time_ticks(first, last)
    for n in minor:
        parts.append(f"<line class='tick-quarter' x1='{x(n):.1f}' x2='{x(n):.1f}' y1='{top + plot_h}' "
                     f"y2='{top + plot_h + 3}' stroke='#999'/>")
    for n, text in major:
        parts.append(f"<line class='tick-year' x1='{x(n):.1f}' x2='{x(n):.1f}' y1='{top + plot_h}' "
                     f"y2='{top + plot_h + 6}' stroke='#444'/><text x='{x(n):.1f}' y='{height - 8}' "
                     f"font-size='11' text-anchor='middle'>{text}</text>")
    dense = len(rows) > 60
    for k, ((name, _), (color, dash, shape)) in enumerate(zip(COVERAGE, STYLES, strict=True)):
        # Markers side by side around the month (5 px apart), so equal values show as a row of shapes, not one.
        dodge = (k - (len(COVERAGE) - 1) / 2) * 5
        values = [(n, r[f"{name} %"] or 0) for n, r in zip(numbers, rows, strict=True)]
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        segment: list[tuple[int, float]] = []
        # A month with no articles has no value: the line breaks there rather than invent one.
        for i, (n, v) in enumerate(values):
            segment.append((n, v))
            if i + 1 == len(values) or values[i + 1][0] != n + 1:
                if len(segment) > 1:
                    points = " ".join(f"{x(m):.1f},{y(p):.1f}" for m, p in segment)
                    parts.append(f"<polyline class='series' data-series='{escape(name)}' fill='none' "
                                 f"stroke='{color}' stroke-width='2'{dashes} points='{points}'/>")
                if not dense or len(segment) == 1:
                    parts.extend(marker(shape, x(m) + dodge, y(p), color) for m, p in segment)
                segment = []
    band = max(4.0, (plot_w - 2 * pad) / max(1, last - first))
    for n, r in zip(numbers, rows, strict=True):
        values = "; ".join(f"{label(name)} {r[f'{name} %'] or 0:g}%" for name, _ in COVERAGE)
        parts.append(f"<rect class='month' data-month='{escape(r['month'])}' x='{x(n) - band / 2:.1f}' y='{top}' "
                     f"width='{band:.1f}' height='{plot_h}' fill='transparent'><title>{escape(r['month'])}："
                     f"{r['articles']} 篇 · articles — {escape(values)}</title></rect>")
    parts.append(f"<g class='legend' transform='translate({left + plot_w + 16},{top + 4})'>")
    for i, ((name, _), (color, dash, shape)) in enumerate(zip(COVERAGE, STYLES, strict=True)):
        dashes = f" stroke-dasharray='{dash}'" if dash else ""
        parts.append(f"<line x1='0' x2='34' y1='{i * 20 + 8}' y2='{i * 20 + 8}' stroke='{color}' stroke-width='2'"
                     f"{dashes}/>{marker(shape, 17, i * 20 + 8, color)}"
                     f"<text x='42' y='{i * 20 + 12}' font-size='12'>{escape(label(name))}</text>")
    parts.append("</g>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' "
            f"height='{height}' role='img' aria-label='字段覆盖 · field coverage per month' "
            f"font-family='Noto Sans CJK SC, Source Han Sans SC, sans-serif' fill='#222'>{''.join(parts)}</svg>")


async def coverage_page(datasette, request):
    sections = []
    for name in await visible_archive_names(datasette, request.actor):
        db = datasette.get_database(name)
        result = await db.execute(coverage_sql("substr(published_at, 1, 7) as month", "month", "asc"))
        # Only months a chart can place (a date the parser could not read stays in the canned query)
        rows = [dict(r) for r in result.rows if len(r["month"] or "") == 7 and r["month"][4] == "-"
                and r["month"][:4].isdigit() and r["month"][5:].isdigit() and 1 <= int(r["month"][5:]) <= 12]
        sections.append({"name": name, "rows": rows, "chart": Markup(line_chart(rows)) if rows else None,
                         "table_url": f"{datasette.urls.database(name)}/field_coverage_by_month",
                         "drift_url": f"{datasette.urls.database(name)}/drift_reports"})
    fields = [(f"{name} %", label(name)) for name, _ in COVERAGE]
    return Response.html(await datasette.render_template(
        "chaozhou_coverage.html", {"sections": sections, "fields": fields}, request=request,
        view_name="chaozhou_coverage"))
