"""Browse and export benchmark: page load times in Datasette and `scraper export` at 100,000 articles.

Builds (or tops up) a synthetic archive with the storage benchmark's generator (benchmarks/storage.py: ~3,100
Chinese characters per article, through the real pipelines), then

- starts `scraper serve` on 127.0.0.1 and times each page as a client sees it (HTTP GET, whole body): the
  article list, searches with few and with very many hits (table view and the ranked canned query), the
  reader's article page, the front page and its charts, the Atom feed;
- with headless Chromium, if /usr/bin/chromium is there, times the same pages to the browser's load event
  (browser cache off: every load is a first visit);
- runs `scraper export` in each format and reports articles per second, MB per second and the peak RSS of the
  process, for all articles and for about a tenth of them (``--since``), to show memory stays flat.

    python benchmarks/browse.py --db /tmp/bench100k/archive.db --articles 100000

Not run by pytest. Needs the ``bench`` extra (jieba) only when it builds the archive.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# Hits at 100,000 synthetic articles (benchmarks/storage.py's figures): 陶瓷 ~1,700, 党建 ~99,800.
SEARCHES = ["陶瓷", "海洋", "改革", "党建"]
# No traffic but to 127.0.0.1: no background services, updates, sync, pings, safe-browsing or translation.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--no-pings",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--disable-default-apps",
    "--disable-extensions", "--disable-features=Translate,OptimizationHints,MediaRouter",
)
# Peak RSS of a child process, measured by a parent of its own (RUSAGE_CHILDREN only ever grows).
MAXRSS = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
          "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")


def build(path: str, articles: int, seed: int) -> None:
    """Top the archive up to ``articles`` synthetic articles (the same ones storage.py writes for a seed)."""
    import storage

    from pipelines.schema import open_archive

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = open_archive(path)
    have = db.execute("select count(*) from articles").fetchone()[0]
    if have < articles:
        rng = random.Random(seed)
        pool = storage.sentence_pool(storage.training_text(), 20_000, rng)
        authors = [rng.choice(storage.SURNAMES) + "".join(rng.sample(storage.GIVEN, rng.randint(1, 2)))
                   for _ in range(300)]
        vocabulary = storage.Vocabulary()
        started = time.perf_counter()
        storage.insert(db, have, articles, pool, rng, authors, vocabulary)
        print(f"built {articles - have} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", "--db", path, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("scraper serve did not start")


def pages(path: str, rng: random.Random) -> dict[str, list[str]]:
    name = Path(path).stem
    conn = sqlite3.connect(path)
    top = conn.execute("select max(id) from articles").fetchone()[0]
    conn.close()
    ids = [rng.randint(1, top) for _ in range(20)]
    quoted = {q: urllib.parse.quote(q) for q in SEARCHES}
    return {
        "front page (/)": ["/"],
        "chart, articles per month (cached)": [f"/-/chaozhou/{name}/per-month.svg"],
        "article list (/archive/articles)": [f"/{name}/articles"],
        **{f"search box: {q}": [f"/{name}/articles?_search={quoted[q]}"] for q in SEARCHES},
        **{f"ranked search (canned): {q}": [f"/{name}/search?q={quoted[q]}"] for q in SEARCHES},
        "article page (/articles/ID/read)": [f"/{name}/articles/{i}/read" for i in ids],
        "Atom feed": [f"/{name}/articles.atom"],
    }


def time_http(base: str, urls: list[str], repeat: int) -> tuple[list[float], int, int]:
    """Times of ``repeat`` requests (after one warm-up), the last body's size, and how many failed."""
    samples, size, failed = [], 0, 0
    for n in range(-1, repeat):
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(base + urls[max(n, 0) % len(urls)], timeout=120) as response:
                size = len(response.read())
        except urllib.error.HTTPError:
            failed += n >= 0
        if n >= 0:
            samples.append((time.perf_counter() - t0) * 1000)
    return samples, size, failed


def time_browser(base: str, urls: list[str], repeat: int) -> list[float] | None:
    """Navigation start to the load event, in headless Chromium (None when it is not installed)."""
    if not Path("/usr/bin/chromium").exists():
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (*CHROMIUM_FLAGS, "--window-size=1200,900",
                     f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chromium-')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # Datasette allows caching pages for 5 s: every load here is a first visit, subresources included.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        driver.get(base + urls[0])
        samples = []
        for n in range(repeat):
            driver.get(base + urls[n % len(urls)])
            samples.append(driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;"))
        return samples
    finally:
        driver.quit()


def time_chart_cold(path: str) -> float:
    """The chart's first drawing (it is cached until the database changes): a fresh server, one request."""
    process, base = start_server(path)
    try:
        t0 = time.perf_counter()
        urllib.request.urlopen(f"{base}/-/chaozhou/{Path(path).stem}/per-month.svg", timeout=120).read()
        return (time.perf_counter() - t0) * 1000
    finally:
        process.terminate()
        process.wait()


def run_export(path: str, fmt: str, since: str | None, out_dir: Path) -> dict:
    out = out_dir / f"export.{fmt}"
    command = [sys.executable, "-m", "scraper", "export", "--db", path, "--format", fmt, "-o", str(out)]
    if since:
        command += ["--since", since]
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", MAXRSS, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    maxrss_kb, rc = (int(v) for v in result.stdout.split())
    assert rc == 0, result.stderr
    articles = int(result.stderr.strip().rsplit(" ", 2)[-2])
    size = out.stat().st_size
    out.unlink()
    return {"format": fmt, "since": since, "articles": articles, "seconds": seconds, "rate": articles / seconds,
            "mb": size / 1e6, "mb_s": size / 1e6 / seconds, "peak_rss_mb": maxrss_kb / 1024}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="/tmp/chaozhou-bench/archive.db")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--since", default="2022", help="--since for the smaller export (about a tenth)")
    args = parser.parse_args()
    build(args.db, args.articles, args.seed)
    conn = sqlite3.connect(args.db)
    count = conn.execute("select count(*) from articles").fetchone()[0]
    conn.close()
    report = {"articles": count, "db_mb": os.path.getsize(args.db) / 1e6, "pages": [], "exports": []}
    report["chart_cold_ms"] = time_chart_cold(args.db)
    process, base = start_server(args.db)
    try:
        for label, urls in pages(args.db, random.Random(args.seed)).items():
            samples, size, failed = time_http(base, urls, args.repeat)
            browser = time_browser(base, urls, min(args.repeat, 10))
            report["pages"].append({"page": label, "p50": statistics.median(samples), "p95": percentile(samples, 95),
                                    "kb": size / 1e3, "failed": failed,
                                    "browser_p50": statistics.median(browser) if browser else None})
            print(json.dumps(report["pages"][-1], ensure_ascii=False), file=sys.stderr, flush=True)
    finally:
        process.terminate()
        process.wait()
    with tempfile.TemporaryDirectory() as tmp:
        run_export(args.db, "ndjson", None, Path(tmp))  # warm-up: the database in the page cache, as for pages
        for since in (None, args.since):
            for fmt in ("csv", "json", "ndjson"):
                report["exports"].append(run_export(args.db, fmt, since, Path(tmp)))
                print(json.dumps(report["exports"][-1]), file=sys.stderr, flush=True)
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [f"{report['articles']:,} articles, {report['db_mb']:,.0f} MB database.", "",
             "| page | p50 (ms) | p95 (ms) | size (kB) | Chromium load event, p50 (ms) | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for p in report["pages"]:
        browser = f"{p['browser_p50']:.0f}" if p["browser_p50"] is not None else "n/a"
        lines.append(f"| {p['page']} | {p['p50']:.0f} | {p['p95']:.0f} | {p['kb']:,.0f} | {browser} | "
                     f"{p['failed']} |")
    lines += ["", f"Chart per month, first drawing after a change (then cached): {report['chart_cold_ms']:.0f} ms.",
              "", "| export | articles | seconds | articles/s | output (MB) | MB/s | peak RSS (MB) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for e in report["exports"]:
        what = e["format"] + (f" --since {e['since']}" if e["since"] else "")
        lines.append(f"| {what} | {e['articles']:,} | {e['seconds']:.1f} | {e['rate']:,.0f} | {e['mb']:,.0f} | "
                     f"{e['mb_s']:.0f} | {e['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
