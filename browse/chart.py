"""Datasette plugin: SVG charts of an archive's articles per month and per column, drawn on the server.

``/-/chaozhou/<database>/per-month.svg`` and ``/-/chaozhou/<database>/per-column.svg``, shown on the front page by
``browse.metadata``. Plain SVG with text in it, no script and nothing fetched: the page works offline and the
chart is an image a reader can save. Both counts come from indexes (``published_at``; ``collection, column``),
and each chart is cached until the database file changes.
"""

from __future__ import annotations

import os
from html import escape

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from .archive import archive_database

WIDTH, HEIGHT = 960, 240
LEFT, BOTTOM, TOP = 48, 28, 12
BAR = "#b5472f"  # the 潮州 red of the site's banner, dark enough for white-on-grey contrast
FONT = "font-family='Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif'"
_cache: dict[tuple, bytes] = {}


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def nice_max(value: int) -> int:
    """The axis top: 2, 4, 6, 8 or 10 times a power of ten, at least value (so its half is a whole number)."""
    step = 1
    while True:
        for m in (2, 4, 6, 8, 10):
            if value <= m * step:
                return m * step
        step *= 10


def month_chart(counts: dict[str, int]) -> str:
    """Bars per month (gaps drawn as empty months), years labelled on the axis."""
    if not counts:
        return empty_chart("暂无有日期的文章 · No dated articles yet")
    months = months_between(min(counts), max(counts))
    top = nice_max(max(counts.values()))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - TOP - BOTTOM
    step = plot_w / len(months)
    years = sorted({m[:4] for m in months})
    every = next(n for n in (1, 2, 5, 10, 20, 50) if len(years) / n <= 16)
    # A gap between bars while they are wide enough; past that, gaps would only stripe the chart.
    bar_w = step - 1 if step >= 4 else step + 0.3
    parts = [axis(top, plot_h)]
    for i, month in enumerate(months):
        n = counts.get(month, 0)
        if n:
            h = n / top * plot_h
            parts.append(f"<rect x='{LEFT + i * step:.1f}' y='{TOP + plot_h - h:.1f}' width='{bar_w:.1f}' "
                         f"height='{h:.1f}' fill='{BAR}'><title>{month}: {n}</title></rect>")
        if month.endswith("-01") and int(month[:4]) % every == 0 or i == 0:
            x = LEFT + i * step
            parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{TOP + plot_h}' y2='{TOP + plot_h + 4}' stroke='#444'/>"
                         f"<text x='{x:.1f}' y='{HEIGHT - 8}' font-size='11'>{month[:4]}</text>")
    return svg(parts, HEIGHT, f"每月文章数 · Articles per month, {months[0]} to {months[-1]}")


def column_chart(counts: list[tuple[str, int]]) -> str:
    """Horizontal bars per column (collection / column), largest first."""
    if not counts:
        return empty_chart("暂无文章 · No articles yet")
    row, label_w = 22, 260
    height = TOP + row * len(counts) + 8
    top = nice_max(max(n for _, n in counts))
    parts = []
    for i, (name, n) in enumerate(counts):
        y = TOP + i * row
        w = n / top * (WIDTH - label_w - 80)
        parts.append(f"<text x='{label_w - 8}' y='{y + 15}' font-size='13' text-anchor='end'>{escape(name)}</text>"
                     f"<rect x='{label_w}' y='{y + 3}' width='{max(w, 1):.1f}' height='{row - 6}' fill='{BAR}'>"
                     f"<title>{escape(name)}: {n}</title></rect>"
                     f"<text x='{label_w + w + 6:.1f}' y='{y + 15}' font-size='12'>{n:,}</text>")
    return svg(parts, height, "各栏目文章数 · Articles per column")


def axis(top: int, plot_h: float) -> str:
    lines = []
    for frac in (0, 0.5, 1):
        y = TOP + plot_h - frac * plot_h
        lines.append(f"<line x1='{LEFT}' x2='{WIDTH - 8}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>"
                     f"<text x='{LEFT - 6}' y='{y + 4:.1f}' font-size='11' text-anchor='end'>"
                     f"{int(top * frac):,}</text>")
    return "".join(lines)


def empty_chart(message: str) -> str:
    return svg([f"<text x='{WIDTH / 2}' y='40' font-size='14' text-anchor='middle'>{escape(message)}</text>"], 60,
               message)


def svg(parts: list[str], height: int, title: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
            f"viewBox='0 0 {WIDTH} {height}' role='img' {FONT} fill='#222'>"
            f"<title>{escape(title)}</title>{''.join(parts)}</svg>")


def file_version(path: str | None) -> tuple:
    """Changes whenever the database is written (the WAL file first, the main file at a checkpoint)."""
    stamps = []
    for suffix in ("", "-wal"):
        try:
            st = os.stat(f"{path}{suffix}")
            stamps.append((st.st_mtime_ns, st.st_size))
        except (OSError, TypeError):
            stamps.append(None)
    return tuple(stamps)


async def per_month(db) -> str:
    rows = await db.execute(
        "select substr(published_at, 1, 7) as month, count(*) from articles "
        "where published_at glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]*' group by month", custom_time_limit=10_000)
    return month_chart({r[0]: r[1] for r in rows.rows})


async def per_column(db) -> str:
    rows = await db.execute(
        "select coalesce(collection, '—') || ' / ' || coalesce(column, '—'), count(*) as n from articles "
        "group by collection, column order by n desc limit 20", custom_time_limit=10_000)
    return column_chart([(r[0], r[1]) for r in rows.rows])


CHARTS = {"per-month": per_month, "per-column": per_column}


async def chart_view(datasette, request):
    db = await archive_database(datasette, request)
    draw = CHARTS.get(request.url_vars["chart"])
    if draw is None:
        raise NotFound("No such chart")
    key = (db.path, request.url_vars["chart"], file_version(db.path))
    body = _cache.get(key)
    if body is None:
        body = (await draw(db)).encode("utf-8")
        for old in [k for k in _cache if k[:2] == key[:2]]:
            del _cache[old]
        _cache[key] = body
    return Response(body, content_type="image/svg+xml; charset=utf-8",
                    headers={"Cache-Control": "max-age=60", "X-Content-Type-Options": "nosniff"})


@hookimpl
def register_routes():
    return [(r"^/-/chaozhou/(?P<database>[^/]+)/(?P<chart>[a-z-]+)\.svg$", chart_view)]
