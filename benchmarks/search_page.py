"""Search page benchmark: the readers' search page against the search box's table view, in one run, at 100,000.

Starts ``scraper serve`` on 127.0.0.1 and times, interleaved word by word, the page readers used to get from the
search box (``/archive/articles?_search=…``: Datasette's table view, 100 rows and five facets) and the readers'
search page (``/archive/-/search?q=…``: 20 stories, facets counting stories), most relevant first and newest
first, for words from rare to in nearly every article, a 1-character word, two words, and the empty query.
Each over HTTP, whole body, ``--repeat`` timed requests after one warm-up; p50 and p95.

    python benchmarks/search_page.py --db /work/bench100k/archive.db --articles 100000

The archive is storage.py's (``python benchmarks/storage.py --articles 100000 --checkpoints 100000 --db …``).
When it holds fewer than ``--articles``, it is topped up with copies of its first 5,000 articles (another URL and
date; the row, authors and search row, see ``top_up``): storage.py takes an hour for 100,000 on a busy machine,
and the index's word frequencies stay the generator's. Then, once,
a quarter of the articles are linked into stories (of three and of two) so that the page has stories to group.
Not run by pytest; needs the ``bench`` extra only to build the archive with storage.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sqlite3
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.search import FTS_COLUMNS, FTS_TABLE, escape_fts, index_row  # noqa: E402

# benchmarks/browse.py, by path: the name `browse` is the plugin package's
_spec = importlib.util.spec_from_file_location("browse_benchmark", ROOT / "benchmarks" / "browse.py")
browse_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browse_benchmark)

# From rare to nearly every article at 100,000 (benchmarks/browse.py's words), a 1-character word, two words.
WORDS = ["陶瓷", "海洋", "改革", "党建", "疫", "党建 海洋"]


def top_up(path: str, articles: int, seed: int, originals: int = 5000) -> int:
    """Add copies of the archive's first ``originals`` articles, each with another URL and date, until it holds
    ``articles``; returns how many were added.

    Each copy gets the article row, its authors and its search row (``pipelines.search.index_row``, computed once
    per original): what the search pages read. Tokenising a 3,000-character body takes about 25 ms on a busy
    machine; the whole pipeline per article (storage.py) about 45.
    """
    conn = sqlite3.connect(path)
    have = conn.execute("select count(*) from articles").fetchone()[0]
    if have >= articles:
        conn.close()
        return 0
    rng = random.Random(seed)
    columns = [r[1] for r in conn.execute("pragma table_info(articles)")
               if r[1] not in ("id", "url", "published_at", "story_id", "capture_id")]
    names = ", ".join(f"[{c}]" for c in columns)
    ids = [r[0] for r in conn.execute("select id from articles order by id limit ?", [originals])]
    tokens: dict[int, tuple] = {}
    conn.execute("begin")
    for n in range(have, articles):
        original = ids[n % len(ids)]
        if original not in tokens:
            title, subtitle, body = conn.execute("select title, subtitle, body from articles where id = ?",
                                                 [original]).fetchone()
            authors = [r[0] for r in conn.execute(
                "select au.name from article_authors aa join authors au on au.id = aa.author_id "
                "where aa.article_id = ? order by aa.position", [original])]
            tokens[original] = index_row(title, subtitle, authors, body)
        year, month, day = rng.randint(1992, 2025), rng.randint(1, 12), rng.randint(1, 28)
        cursor = conn.execute(
            f"insert into articles (url, published_at, {names}) select ?, ?, {names} from articles where id = ?",
            [f"https://gdxk.southcn.com/cz/llwzllzz/content/copy_{n:06d}.html",
             f"{year}-{month:02d}-{day:02d}T09:00:00+08:00", original])
        copy = cursor.lastrowid
        conn.execute("insert into article_authors (article_id, author_id, position) "
                     "select ?, author_id, position from article_authors where article_id = ?", [copy, original])
        conn.execute(f"insert into [{FTS_TABLE}] (rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?, ?, ?)",
                     [copy, *tokens[original]])
        if (n - have) % 2000 == 1999:
            conn.execute("commit")
            print(f"topped up to {n + 1}", file=sys.stderr)
            conn.execute("begin")
    conn.execute("commit")
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return articles - have


def link_stories(path: str) -> tuple[int, int]:
    """Once: ids 20k+1..20k+3 one story, 20k+11..20k+12 another (a quarter of the articles in stories).
    Returns (stories, linked articles)."""
    conn = sqlite3.connect(path)
    with conn:
        if conn.execute("select count(*) from articles where story_id is not null").fetchone()[0] == 0:
            for first, size in ((1, 3), (11, 2)):
                conn.execute("insert or ignore into stories (id, title, published_at, article_count) "
                             f"select id, title, published_at, {size} from articles where id % 20 = {first}")
                conn.execute(f"update articles set story_id = id - (id % 20) + {first} "
                             f"where id % 20 between {first} and {first + size - 1}")
    found = conn.execute("select count(distinct story_id), count(*) from articles "
                         "where story_id is not null").fetchone()
    conn.close()
    return found


def pages(name: str) -> dict[str, list[str]]:
    out = {}
    for word in WORDS:
        q = urllib.parse.quote(word)
        out[f"search box: {word}"] = [f"/{name}/articles?_search={q}"]
        out[f"search page: {word}"] = [f"/{name}/-/search?q={q}"]
        out[f"search page, newest first: {word}"] = [f"/{name}/-/search?q={q}&sort=newest"]
    out["search page, page 5: 党建"] = [f"/{name}/-/search?q=%E5%85%9A%E5%BB%BA&page=5"]
    out["article list (empty search box)"] = [f"/{name}/articles"]
    out["search page, empty query (newest)"] = [f"/{name}/-/search"]
    return out


def counts(path: str) -> dict[str, tuple[int, int]]:
    """Articles and stories each word matches."""
    conn = sqlite3.connect(path)
    out = {}
    for word in WORDS:
        row = conn.execute("select count(*), count(distinct coalesce(story_id, -id)) from articles where id in "
                           "(select rowid from articles_fts where articles_fts match ?)", [escape_fts(word)]).fetchone()
        out[word] = tuple(row)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    started = time.perf_counter()
    added = top_up(args.db, args.articles, args.seed)
    stories, linked = link_stories(args.db)
    print(f"archive ready: {added} copies added, {stories} stories of {linked} articles, "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    hits = counts(args.db)
    process, base = browse_benchmark.start_server(args.db)
    results = {}
    try:
        plan = pages(Path(args.db).stem)
        for label, urls in plan.items():
            samples, size, failed = browse_benchmark.time_http(base, urls, args.repeat)
            results[label] = {"p50": statistics.median(samples), "p95": browse_benchmark.percentile(samples, 95),
                              "kB": size / 1000, "failed": failed}
            print(f"{label}: p50 {results[label]['p50']:.0f} ms, p95 {results[label]['p95']:.0f} ms", file=sys.stderr)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print("| page | articles / stories matched | p50 (ms) | p95 (ms) | size (kB) |")
    print("|---|---:|---:|---:|---:|")
    for label, r in results.items():
        word = label.split(": ", 1)[1] if ": " in label else None
        matched = f"{hits[word][0]:,} / {hits[word][1]:,}" if word in hits else ""
        failed = f" ({r['failed']} failed)" if r["failed"] else ""
        print(f"| {label}{failed} | {matched} | {r['p50']:.0f} | {r['p95']:.0f} | {r['kB']:.0f} |")
    print(json.dumps({"articles": args.articles, "stories": stories, "linked": linked}), file=sys.stderr)


if __name__ == "__main__":
    main()
