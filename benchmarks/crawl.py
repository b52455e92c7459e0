"""Crawl benchmark: `scraper crawl` and `scraper reparse` on a local mirror, against a naive crawl.

A mirror of the 潮州库 (benchmarks/mirror_server.py: tests.collection's home, columns and paginated listings,
articles of about 3,000 characters) is served on 127.0.0.1 from a process of its own, which logs every request.
Each crawl runs in a subprocess, measured from outside: wall time, CPU time and peak RSS (os.wait4's rusage of
that one child). Not run by pytest; no network beyond 127.0.0.1.

For each mirror size (default 1,000 and 5,000 articles, to show whether peak memory grows with the archive):

- `python -m scraper crawl BASE/cz/ --db … --delay 0`: articles/s, peak RSS, requests, WARC bytes, db size;
- the naive crawl (this script with --naive: requests + BeautifulSoup, listings, pagination, each article,
  title/date/body by CSS selector, one SQLite row each; no robots.txt, no WARC, no retries, no resuming);
- `python -m scraper reparse --db …` twice: nothing to change, then every article made stale first (as after
  a parser upgrade): articles/s and peak RSS;

then, on the 5,000-article mirror only (--incremental-at; the largest if there is none):

- 20 new articles at the top of one column and a second `scraper crawl`: every request the server saw, against
  the goal (new articles + the listing pages that hold them + robots.txt).

    python benchmarks/crawl.py                        # markdown tables on stdout
    python benchmarks/crawl.py --sizes 1000,5000 --json /tmp/crawl-bench.json --workdir /tmp/crawl-bench
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = Path(__file__).resolve().parent / "mirror_server.py"
PY = sys.executable
CONDITIONAL = ("if-none-match", "if-modified-since")


# -- the naive crawl (runs in its own process: `crawl.py --naive URL --db FILE`) -------------------------------
def naive_crawl(start: str, db_path: str, parser: str) -> int:
    """What a user would write first: follow the listings, fetch each article, keep title/date/body in SQLite."""
    from urllib.parse import urljoin

    import requests
    from bs4 import BeautifulSoup

    session = requests.Session()
    db = sqlite3.connect(db_path)
    db.execute("create table if not exists articles (url text primary key, title text, published text, body text)")

    def soup(url: str) -> BeautifulSoup:
        response = session.get(url, timeout=30)
        response.raise_for_status()
        return BeautifulSoup(response.text, parser)

    stored = 0
    home = soup(start)
    for column in [urljoin(start, a["href"]) for a in home.select("ul.columns a")]:
        page_url: str | None = column
        while page_url:
            page = soup(page_url)
            for link in page.select("ul.list li a"):
                url = urljoin(page_url, link["href"])
                article = soup(url)
                title = article.h1.get_text(strip=True) if article.h1 else None
                info = article.select_one("div.info")
                published = info.get_text(strip=True)[:19] if info else None
                body = "\n".join(p.get_text(strip=True) for p in article.select("div.content p"))
                db.execute("insert or replace into articles values (?, ?, ?, ?)", (url, title, published, body))
                db.commit()
                stored += 1
            following = next((a for a in page.select("div.pager a") if a.get_text(strip=True) == "下一页"), None)
            page_url = urljoin(page_url, following["href"]) if following else None
    db.close()
    return stored


# -- the mirror --------------------------------------------------------------------------------------------------
class Mirror:
    """benchmarks/mirror_server.py in a subprocess, driven over its stdin/stdout."""

    def __init__(self, articles: int, per_page: int, paragraphs: int):
        self.proc = subprocess.Popen(
            [PY, str(SERVER), "--articles", str(articles), "--per-page", str(per_page),
             "--paragraphs", str(paragraphs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)
        hello = json.loads(self.proc.stdout.readline())
        self.base, self.articles = hello["base"], hello["articles"]

    def ask(self, command: str):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def classify(hits: list[list]) -> dict:
    """robots.txt, the home page, listing pages, articles (plain and conditional), anything else."""
    out = {"robots": 0, "home": 0, "listing": 0, "article": 0, "conditional": 0, "other": 0, "listing_paths": []}
    for path, conditional in hits:
        if path == "/robots.txt":
            out["robots"] += 1
        elif path == "/cz/":
            out["home"] += 1
        elif "/content/post_" in path:
            out["conditional" if conditional else "article"] += 1
        elif re.fullmatch(r"/cz/\w+/(index_\d+\.html)?", path):
            out["listing"] += 1
            out["listing_paths"].append(path)
        else:
            out["other"] += 1
    out["total"] = len(hits)
    return out


# -- measuring one subprocess ----------------------------------------------------------------------------------
def measure(cmd: list[str], log: Path) -> dict:
    """Run cmd to the end; its wall time, CPU time and peak RSS (this child only), exit code and last line."""
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    load = os.getloadavg()[0]  # 1-minute load average at the end: other work on the machine skews wall times
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    summary = next((line for line in reversed(lines) if re.match(r"\S+\.db: ", line)), lines[-1] if lines else "")
    return {"cmd": " ".join(cmd), "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "exit": proc.returncode, "summary": summary,
            "load_1min_after": load}


def files_size(directory: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in directory.glob(pattern))


def db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(str(path) + "-wal")) if p.exists())


def count_rows(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


def check(result: dict, what: str) -> None:
    if result["exit"] != 0:
        raise SystemExit(f"{what} failed (exit {result['exit']}): {result['summary']}\n  {result['cmd']}")


# -- the benchmark ---------------------------------------------------------------------------------------------
def bench_size(size: int, args, work: Path, incremental: bool) -> dict:
    out: dict = {"articles": size}
    mirror = Mirror(size, args.per_page, args.paragraphs)
    try:
        assert mirror.articles == size
        start = mirror.base + "/cz/"
        here = work / str(size)
        here.mkdir(parents=True, exist_ok=True)
        db = here / "archive.db"

        mirror.ask("clear")
        ours = measure([PY, "-m", "scraper", "crawl", start, "--db", str(db), "--delay", "0"], here / "crawl.log")
        check(ours, "scraper crawl")
        ours["requests"] = classify(mirror.ask("hits"))
        ours["stored"] = count_rows(db, "articles")
        ours["warc_bytes"] = files_size(here / "archive", "*.warc.gz")
        ours["db_bytes"] = db_size(db)
        out["ours"] = ours
        print(f"[{size}] ours: {ours['wall_s']:.1f} s, {ours['peak_rss_mb']:.0f} MB, {ours['summary']}",
              file=sys.stderr)

        if not args.skip_naive:
            mirror.ask("clear")
            naive_db = here / "naive.db"
            naive = measure([PY, str(Path(__file__).resolve()), "--naive", start, "--db", str(naive_db),
                             "--parser", args.parser], here / "naive.log")
            check(naive, "naive crawl")
            naive["requests"] = classify(mirror.ask("hits"))
            naive["stored"] = count_rows(naive_db, "articles")
            naive["db_bytes"] = db_size(naive_db)
            out["naive"] = naive
            print(f"[{size}] naive: {naive['wall_s']:.1f} s, {naive['peak_rss_mb']:.0f} MB", file=sys.stderr)

        # reparse twice: nothing to change (the parser that crawled it), then every article stale, as after a
        # parser upgrade (title, body and hash overwritten, as tests/test_crawl.py does; reparse restores them).
        mirror.ask("clear")
        for key, stale in (("reparse", False), ("reparse_all_changed", True)):
            if stale:
                with closing(sqlite3.connect(db)) as conn, conn:
                    conn.execute("update articles set title = 'x', body = 'y', content_hash = 'z'")
            result = measure([PY, "-m", "scraper", "reparse", "--db", str(db)], here / f"{key}.log")
            check(result, "scraper reparse")
            with closing(sqlite3.connect(db)) as conn:
                result["left_stale"] = conn.execute("select count(*) from articles where body = 'y'").fetchone()[0]
            out[key] = result
            print(f"[{size}] {key}: {result['wall_s']:.1f} s, {result['summary']}", file=sys.stderr)
        assert mirror.ask("hits") == [], "reparse made requests"

        if incremental:
            warc_before = ours["warc_bytes"]
            added = mirror.ask(f"add {args.column} {args.new}")
            mirror.ask("clear")
            again = measure([PY, "-m", "scraper", "crawl", start, "--db", str(db), "--delay", "0"],
                            here / "crawl-again.log")
            check(again, "second scraper crawl")
            again["requests"] = classify(mirror.ask("hits"))
            again["new_paths_asked"] = sum(1 for p, _ in mirror.ask("hits") if p in set(added["paths"]))
            again["holding_pages"] = added["listing_pages"]
            again["goal"] = args.new + len(added["listing_pages"]) + 1
            again["warc_bytes_added"] = files_size(here / "archive", "*.warc.gz") - warc_before
            again["stored"] = count_rows(db, "articles")
            out["incremental"] = again
            print(f"[{size}] incremental: {again['requests']['total']} requests, {again['summary']}",
                  file=sys.stderr)
    finally:
        mirror.close()
    return out


def baselines(work: Path) -> dict:
    """Peak RSS of the imports alone: what a crawl costs before it fetches anything."""
    ours = measure([PY, "-c", "import scraper.cli, scraper.crawl, scraper.parse, scraper.importer, "
                    "pipelines.schema, pipelines.run"], work / "imports-ours.log")
    naive = measure([PY, "-c", "import sqlite3, requests, bs4"], work / "imports-naive.log")
    return {"ours": ours["peak_rss_mb"], "naive": naive["peak_rss_mb"]}


def mb(n: float) -> str:
    return f"{n / 1e6:.1f}"


def report(results: list[dict], base: dict, args) -> str:
    lines = ["| mirror | crawler | wall (s) | CPU (s) | articles/s | peak RSS (MB) | requests | stored "
             "| WARC (MB) | db (MB) |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for key, name in (("ours", "scraper crawl --delay 0"), ("naive", "naive requests + BeautifulSoup")):
            if key not in r:
                continue
            m = r[key]
            lines.append(
                f"| {r['articles']:,} | {name} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} "
                f"| {r['articles'] / m['wall_s']:.1f} | {m['peak_rss_mb']:.0f} | {m['requests']['total']:,} "
                f"| {m['stored']:,} | {mb(m['warc_bytes']) if 'warc_bytes' in m else '–'} | {mb(m['db_bytes'])} |")
        for key, name in (("reparse", "scraper reparse, nothing changed"),
                          ("reparse_all_changed", "scraper reparse, every article changed")):
            if key in r:
                m = r[key]
                lines.append(f"| {r['articles']:,} | {name} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} "
                             f"| {r['articles'] / m['wall_s']:.1f} | {m['peak_rss_mb']:.0f} | 0 | – | – | – |")
    lines.append("")
    loads = [m["load_1min_after"] for r in results for m in r.values()
             if isinstance(m, dict) and "load_1min_after" in m]
    lines.append(f"1-minute load average after each run: {min(loads):.1f}–{max(loads):.1f} "
                 f"(on {os.cpu_count()} cores).")
    lines.append(f"Peak RSS of the imports alone: ours {base['ours']:.0f} MB, naive {base['naive']:.0f} MB.")
    for r in results:
        if "naive" in r:
            o, n = r["ours"], r["naive"]
            lines.append(f"{r['articles']:,} articles: naive ÷ ours articles/s {o['wall_s'] / n['wall_s']:.1f}×, "
                         f"peak RSS ours ÷ naive {o['peak_rss_mb'] / n['peak_rss_mb']:.2f}×, CPU ours ÷ naive "
                         f"{o['cpu_s'] / n['cpu_s']:.1f}×.")
    for r in results:
        q = r["ours"]["requests"]
        lines.append(f"{r['articles']:,} articles, first crawl requests: robots.txt {q['robots']}, home {q['home']}, "
                     f"listing pages {q['listing']}, articles {q['article']}, other {q['other']}.")
    if len(results) > 1:
        sizes = " / ".join(f"{r['articles']:,}" for r in results)
        for key, name in (("ours", "crawl"), ("naive", "naive crawl"), ("reparse", "reparse, nothing changed"),
                          ("reparse_all_changed", "reparse, every article changed")):
            if all(key in r for r in results):
                lines.append(f"Peak RSS at {sizes} articles, {name}: "
                             + " / ".join(f"{r[key]['peak_rss_mb']:.1f}" for r in results) + " MB; CPU per article "
                             + " / ".join(f"{1000 * r[key]['cpu_s'] / r['articles']:.2f}" for r in results) + " ms.")
    inc_result = next((r for r in results if "incremental" in r), None)
    if inc_result:
        inc = inc_result["incremental"]
        q = inc["requests"]
        lines += ["", f"Second crawl after {args.new} new articles at the top of {args.column} "
                  f"({inc_result['articles']:,} + {args.new} articles, {args.per_page} a page):", "",
                  "| request | count |", "|---|---:|",
                  f"| robots.txt | {q['robots']} |", f"| home page /cz/ | {q['home']} |",
                  f"| listing pages ({', '.join(q['listing_paths'])}) | {q['listing']} |",
                  f"| new articles ({inc['new_paths_asked']} of the {args.new}) | {q['article']} |",
                  f"| conditional GETs | {q['conditional']} |", f"| other | {q['other']} |",
                  f"| **total** | **{q['total']}** |",
                  f"| goal: {args.new} new + {len(inc['holding_pages'])} listing page(s) holding them "
                  f"({', '.join(inc['holding_pages'])}) + robots.txt | {inc['goal']} |", "",
                  f"Its summary: `{inc['summary']}`; {inc['wall_s']:.1f} s, peak RSS "
                  f"{inc['peak_rss_mb']:.0f} MB, WARC bytes added {inc['warc_bytes_added']:,}, "
                  f"articles stored {inc['stored']:,}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="mirror sizes in articles, comma-separated")
    parser.add_argument("--per-page", type=int, default=20, help="articles per listing page")
    parser.add_argument("--paragraphs", type=int, default=20, help="paragraphs per article (~150 characters each)")
    parser.add_argument("--incremental-at", type=int, default=5000,
                        help="the mirror size that gets the incremental run (default 5000, else the largest)")
    parser.add_argument("--new", type=int, default=20, help="new articles before the second crawl")
    parser.add_argument("--column", default="llwzllzz", help="the column that gets the new articles")
    parser.add_argument("--parser", default="html.parser", help="BeautifulSoup parser of the naive crawl")
    parser.add_argument("--skip-naive", action="store_true", help="measure our crawl only")
    parser.add_argument("--workdir", help="keep archives and logs here (default: a temporary directory, removed)")
    parser.add_argument("--json", help="write the raw results here")
    parser.add_argument("--naive", metavar="URL", help=argparse.SUPPRESS)  # internal: run the naive crawl
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.naive:
        print(f"naive: stored {naive_crawl(args.naive, args.db, args.parser)}")
        return

    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="crawl-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        base = baselines(work)
        at = args.incremental_at if args.incremental_at in sizes else sizes[-1]
        results = [bench_size(size, args, work, size == at) for size in sizes]
        if args.json:
            Path(args.json).write_text(json.dumps({"baselines": base, "results": results}, indent=1,
                                                  ensure_ascii=False), encoding="utf-8")
        print(report(results, base, args))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
