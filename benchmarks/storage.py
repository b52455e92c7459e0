"""Storage and search benchmark: insert rate, database size, and search latency through Datasette.

Synthetic articles of realistic length (about 3,000 Chinese characters in ~15 paragraphs) are written through
the real pipelines (validate, normalise, version, store, index: one transaction each), then Datasette's own
search (``/archive/articles.json?_search=…``, the table view behind the search box) is timed in-process for
1-, 2- and 4-character queries at each checkpoint, with the page's facets and without. Not run by pytest.

    python benchmarks/storage.py --articles 100000 --checkpoints 10000,100000 --db /tmp/bench/archive.db

The text mixes general Chinese, words drawn by their frequency in jieba's dictionary (349k words counted on a
large corpus, so word frequencies follow real usage), with one sentence in seven of 潮州库 theory prose from a
character-level Markov chain trained on the reference article and the fixture pages, so that the collection's
own words (党建, 政治建设) are common, as in the real collection. Needs the ``bench`` extra (jieba).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasette.app import Datasette  # noqa: E402

from pipelines.item import Article, Capture, Kind, Outcome  # noqa: E402
from pipelines.run import Run  # noqa: E402
from pipelines.schema import open_archive  # noqa: E402
from scraper.parse import parse_article  # noqa: E402

QUERIES = {
    1: ["疫", "党", "潮", "学", "的"],
    2: ["党建", "政治", "机关", "群众", "乡村", "文化", "工作", "组织"],
    4: ["政治建设", "乡村振兴", "基层组织", "全面小康", "党员干部", "服务群众"],
}
SOURCES = ["潮州日报", "南方日报", "中共潮州市委党史研究室", "潮州市委宣传部", "南方网", "潮州市社科联"]
STOPS = "。！？"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国志红界亮"


def training_text() -> str:
    """Paragraphs of the reference article and every fixture page that is an article."""
    texts = []
    reference = (ROOT / "scraper" / "samples" / "reference-article.html").read_bytes()
    texts += parse_article(reference, "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html").paragraphs
    for expected in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.expected.json")):
        texts += (json.loads(expected.read_text(encoding="utf-8")).get("expected") or {}).get("paragraphs", [])
    return "".join(t if t.endswith(tuple(STOPS)) else t + "。" for t in texts)


def sentence_pool(text: str, size: int, rng: random.Random, order: int = 2) -> list[str]:
    """``size`` sentences from an order-``order`` character Markov chain over ``text``."""
    chain: dict[str, list[str]] = defaultdict(list)
    for i in range(len(text) - order):
        chain[text[i:i + order]].append(text[i + order])
    starts = [text[i + 1:i + 1 + order] for i, c in enumerate(text[:-order - 1]) if c in STOPS]
    pool = []
    while len(pool) < size:
        state = rng.choice(starts)
        out = list(state)
        while len(out) < 120:
            nxt = rng.choice(chain.get(state) or ["。"])
            out.append(nxt)
            if nxt in STOPS and len(out) > 12:
                break
            state = state[1:] + nxt
        pool.append("".join(out))
    return pool


DOMAIN_SHARE = 1 / 7


class Vocabulary:
    """Chinese words with their corpus frequencies (jieba's dictionary), for drawing words as often as used."""

    def __init__(self):
        import jieba

        words, weights = [], []
        with open(Path(jieba.__file__).with_name("dict.txt"), encoding="utf-8") as f:
            for line in f:
                word, freq, *_ = line.split()
                if all("\u4e00" <= c <= "\u9fff" for c in word):
                    words.append(word)
                    weights.append(int(freq))
        self.words = words
        self.cumulative = list(itertools.accumulate(weights))

    def sentence(self, rng: random.Random) -> str:
        total = self.cumulative[-1]
        words = [self.words[bisect.bisect(self.cumulative, rng.random() * total)] for _ in range(rng.randint(6, 20))]
        for _ in range(rng.randint(0, 2)):
            words.insert(rng.randint(1, len(words) - 1), "，")
        return "".join(words) + "。"


def make_paragraph(pool: list[str], vocabulary: Vocabulary, rng: random.Random) -> str:
    return "".join(rng.choice(pool) if rng.random() < DOMAIN_SHARE else vocabulary.sentence(rng)
                   for _ in range(rng.randint(3, 9)))


def make_article(n: int, pool: list[str], rng: random.Random, authors: list[str], vocabulary: Vocabulary) -> Article:
    paragraphs, total = [], 0
    while total < 3000:
        paragraph = make_paragraph(pool, vocabulary, rng)
        paragraphs.append(paragraph)
        total += len(paragraph)
    headings = [f"{'一二三四'[i]}、{rng.choice(pool)[:14].rstrip(STOPS + '，')}" for i in range(rng.randint(0, 3))]
    for i, heading in enumerate(headings):
        paragraphs.insert(1 + i * 4, heading)
    year, month, day = rng.randint(1992, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return Article(
        url=f"https://gdxk.southcn.com/cz/llwzllzz/content/post_{n:06d}.html",
        site="gdxk.southcn.com", extractor="gdxk", parser_version="1", encoding="utf-8",
        title=rng.choice(pool)[:rng.randint(8, 22)].rstrip(STOPS + "，"),
        published_at=f"{year}-{month:02d}-{day:02d}T{rng.randint(7, 20):02d}:{rng.randint(0, 59):02d}:00+08:00",
        source=rng.choice(SOURCES), authors=rng.sample(authors, rng.randint(1, 2)),
        breadcrumb=["首页", "潮州库", "理论文章、理论著作"], headings=headings, paragraphs=paragraphs,
    )


def insert(db, start: int, stop: int, pool, rng, authors, vocabulary) -> float:
    """Insert articles [start, stop) through the pipelines (Run.record, as every job stores a response); returns
    the seconds spent storing."""
    spent = 0.0
    run = Run(db, None, None)
    for n in range(start, stop):
        article = make_article(n, pool, rng, authors, vocabulary)
        capture = Capture(record_id=f"<urn:bench:{n}>", url=article.url, fetched_at="2026-01-01T00:00:00Z",
                          status=200, content_type="text/html; charset=utf-8")
        t0 = time.perf_counter()
        run.record(Outcome(Kind.ARTICLE, article=article), [capture])
        spent += time.perf_counter() - t0
    return spent


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# The table view behind the search box, as plain `datasette archive.db` serves it with this package installed
# (its plugins turn facet suggestions off on the articles table; the declared facets still run), and the same
# without facets (`_nofacet=1`), to show what the facets cost.
MODES = {"default": {}, "_nofacet=1": {"_nofacet": "1"}}


async def time_searches(path: str, repeat: dict[str, int]) -> dict:
    ds = Datasette([path])
    name = Path(path).stem
    results: dict = {}
    for mode, extra in MODES.items():
        for length, queries in QUERIES.items():
            samples, hits = [], {}
            for query in queries:
                params = {"_search": query, "_size": "20", **extra}
                first = await ds.client.get(f"/{name}/articles.json", params=params)  # warm-up, and the hit count
                assert first.status_code == 200, first.text[:300]
                hits[query] = first.json().get("filtered_table_rows_count")
                for _ in range(repeat[mode]):
                    t0 = time.perf_counter()
                    response = await ds.client.get(f"/{name}/articles.json", params=params)
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200
            results.setdefault(mode, {})[length] = {
                "p50": statistics.median(samples), "p95": percentile(samples, 95), "max": max(samples),
                "n": len(samples), "hits": hits}
    return results


def file_sizes(path: str) -> dict:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sizes = dict(conn.execute(
        "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()) if has_dbstat(conn) else {}
    conn.close()
    fts = sum(v for k, v in sizes.items() if k.startswith("articles_fts"))
    return {"total": os.path.getsize(path), "fts": fts or None}


def has_dbstat(conn) -> bool:
    try:
        conn.execute("SELECT 1 FROM dbstat LIMIT 1")
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--checkpoints", default="10000,100000", help="article counts at which to measure")
    parser.add_argument("--db", default="/tmp/chaozhou-bench/archive.db")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",")} | {args.articles})
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(args.db + suffix).unlink(missing_ok=True)
    rng = random.Random(args.seed)
    pool = sentence_pool(training_text(), 20_000, rng)
    authors = [rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))) for _ in range(300)]
    vocabulary = Vocabulary()
    db = open_archive(args.db)
    done, spent = 0, 0.0
    report = []
    for checkpoint in checkpoints:
        spent += insert(db, done, checkpoint, pool, rng, authors, vocabulary)
        done = checkpoint
        chars = db.execute("SELECT SUM(char_count) FROM articles").fetchone()[0]
        sizes = file_sizes(args.db)
        searches = asyncio.run(time_searches(args.db, {mode: args.repeat for mode in MODES}))
        report.append({"articles": done, "chars": chars, "insert_seconds": spent, "rate": done / spent,
                       "size": sizes, "search": searches})
        print(json.dumps(report[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    db.close()
    print(markdown(report, args))


def markdown(report: list[dict], args) -> str:
    lines = ["| articles | chars (M) | insert rate (articles/s) | db size (MB) | of which search index (MB) |",
             "|---:|---:|---:|---:|---:|"]
    for r in report:
        fts = f"{r['size']['fts'] / 1e6:.0f}" if r["size"]["fts"] else "n/a"
        lines.append(f"| {r['articles']:,} | {r['chars'] / 1e6:.0f} | {r['rate']:.0f} | "
                     f"{r['size']['total'] / 1e6:.0f} | {fts} |")
    lines += ["", "| articles | request | query length | p50 (ms) | p95 (ms) | max (ms) | timed requests |",
              "|---:|---|---:|---:|---:|---:|---:|"]
    for r in report:
        for mode, by_length in r["search"].items():
            for length, s in by_length.items():
                lines.append(f"| {r['articles']:,} | {mode} | {length} | {s['p50']:.0f} | {s['p95']:.0f} | "
                             f"{s['max']:.0f} | {s['n']} |")
    lines += ["", "Matching articles per query: " + "; ".join(
        f"{r['articles']:,}: " + ", ".join(f"{q} {n}" for s in r["search"]["default"].values()
                                           for q, n in s["hits"].items())
        for r in report)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
