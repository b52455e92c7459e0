"""Stories benchmark: precision and recall of linking copies (pipelines.stories), and its cost at 100,000 articles.

Pairs, each judged as ``pipelines.stories.find_copies`` judges a candidate: the two signatures share an LSH band
(found) and the exact shingle sets verify (linked).

- true copies: every zh-news gold body (``--set``) and the reference article, each edited as a republication is:
  other boilerplate before and after the body, two sentences corrected, a paragraph cut, all three at once, only
  the first half kept (a harder case: containment with Jaccard near 0.5); and the fixture pages of the reference
  article in its five other templates (parsed from the pages themselves).
- different articles: every pair of zh-news bodies; every pair of the fixture pages' different articles (theory
  pieces and notices of one collection, some on one topic: 机关党建); and pairs of synthetic articles of one
  column and topic (benchmarks/storage.py's generator: one sentence in seven from the same pool of theory
  prose, so that they share phrases), also sharing one column's boilerplate paragraph.

Cost: an archive with ``--articles`` synthetic articles, signed (rows written directly, which is what
store_article leaves), then ``--stored`` more stored through the pipelines (Run.record) with linking and as many
without, and the candidate look-up and link_article alone. Not run by pytest.

    python benchmarks/stories.py --set ../shared/bench/zh-news --articles 100000 --db /tmp/stories-bench/archive.db
    python benchmarks/stories.py --skip-quality --reuse --db /tmp/stories-bench/archive.db   # time again, no fill
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipelines.store  # noqa: E402
from pipelines import stories  # noqa: E402
from pipelines.item import Capture, Kind, Outcome  # noqa: E402
from pipelines.run import Run  # noqa: E402
from pipelines.schema import open_archive  # noqa: E402
from scraper.parse import parse_article  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from storage import Vocabulary, make_article, sentence_pool, training_text  # noqa: E402

AUTHORS = ["魏界亮", "陈明"]
PAGES = ROOT / "tests" / "fixtures" / "pages"
REFERENCE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"
HEADERS = ["南方网讯 记者从潮州市获悉：", "本报讯（记者 陈明）", "【南方+ 潮州频道】"]
FOOTERS = ["（来源：潮州日报 责任编辑：刘洋）", "本文转载自潮州日报，转载请注明出处。欢迎关注南方网潮州频道。",
           "编辑：林晓 审核：黄伟 终审：郑华"]
COLUMN_NOTE = ("编者按：为深入学习贯彻习近平新时代中国特色社会主义思想，本栏目陆续刊发潮州市各级党组织和党员干部的"
               "理论文章，敬请关注。")


def paragraphs_of(body: str) -> list[str]:
    return [p.strip() for p in body.replace("\r", "").split("\n") if p.strip()]


def correct(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Two sentences corrected: a few characters replaced in each."""
    out = list(paragraphs)
    for _ in range(2):
        i = rng.randrange(len(out))
        text = out[i]
        if len(text) < 10:
            continue
        at = rng.randrange(len(text) - 4)
        out[i] = text[:at] + "更正后文字"[: rng.randint(2, 4)] + text[at + 3:]
    return out


def cut(paragraphs: list[str], rng: random.Random) -> list[str]:
    if len(paragraphs) < 3:
        return paragraphs
    i = rng.randrange(1, len(paragraphs))
    return paragraphs[:i] + paragraphs[i + 1:]


def wrap(paragraphs: list[str], n: int) -> list[str]:
    return [HEADERS[n % 3], *paragraphs, FOOTERS[n % 3]]


def variants(body: str, rng: random.Random) -> dict[str, str]:
    paragraphs = paragraphs_of(body)
    half = "".join(paragraphs)
    return {
        "boilerplate": "\n".join(wrap(paragraphs, rng.randrange(3))),
        "corrected": "\n".join(correct(paragraphs, rng)),
        "paragraph cut": "\n".join(cut(paragraphs, rng)),
        "all three": "\n".join(wrap(cut(correct(paragraphs, rng), rng), rng.randrange(3))),
        "first half only": half[: len(half) // 2],
    }


def fixture_articles() -> dict[str, str]:
    """Body of every fixture page that is an article, parsed from the page as the archive would."""
    out = {}
    reference = (ROOT / "scraper" / "samples" / "reference-article.html").read_bytes()
    out["reference"] = parse_article(reference, REFERENCE_URL).body
    for expected in sorted(PAGES.glob("*.expected.json")):
        request = json.loads(expected.read_text("utf-8"))
        if "expected" not in request:
            continue
        page = expected.with_name(expected.name.replace(".expected.json", ".html")).read_bytes()
        out[expected.name.replace(".expected.json", "")] = parse_article(
            page, request["request"]["url"], request["request"]["content_type"]).body
    return out


def zh_news_bodies(path: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in (path / "manifest.jsonl").read_text("utf-8").splitlines() if line]
    return {r["id"]: r["gold"]["body"] for r in rows if (r.get("gold") or {}).get("body")}


class Signed:
    """A text's shingles, signature and band keys, computed once."""

    def __init__(self, text: str):
        self.grams = stories.shingles(text)
        self.signature = stories.sign(self.grams) if len(self.grams) >= stories.MIN_SHINGLES else []
        self.keys = set(stories.band_keys(self.signature))


def judge(a: Signed, b: Signed) -> tuple[bool, bool]:
    """As find_copies judges a candidate: a shared band, the signatures' estimate, then the exact sets."""
    found = bool(a.keys & b.keys)
    close = found and stories.estimate(a.signature, array("I", b.signature).tobytes()) >= stories.MIN_ESTIMATE
    return found, close and stories.compare(a.grams, b.grams).same_story()


def pair_sets(zh: dict[str, str], rng: random.Random, synthetic: int) -> tuple[dict, dict]:
    """({kind: [(a, b)]} of true copies, {kind: [(a, b)]} of different articles), texts as Signed."""
    fixtures = fixture_articles()
    copies: dict[str, list] = {}
    originals = {**{f"zh-news {k}": v for k, v in zh.items()}, "reference": fixtures["reference"]}
    for body in originals.values():
        base = Signed(body)
        for kind, text in variants(body, rng).items():
            copies.setdefault(kind, []).append((base, Signed(text)))
    same = [name for name, body in fixtures.items() if stories.compare(
        stories.shingles(body), stories.shingles(fixtures["reference"])).jaccard > 0.99]
    copies["other template (fixture pages)"] = [(Signed(fixtures["reference"]), Signed(fixtures[n]))
                                                for n in same if n != "reference"]
    different: dict[str, list] = {}
    zh_signed = [Signed(b) for b in zh.values()]
    different["zh-news, every pair"] = list(itertools.combinations(zh_signed, 2))
    others = [Signed(b) for n, b in fixtures.items() if n not in same] + [Signed(fixtures["reference"])]
    different["fixture pages, one collection"] = list(itertools.combinations(others, 2))
    pool_rng = random.Random(7)
    pool = sentence_pool(training_text(), 400, pool_rng)
    vocabulary = Vocabulary()
    generated = [make_article(n, pool, pool_rng, AUTHORS, vocabulary).paragraphs for n in range(synthetic)]
    column = [Signed("\n".join([COLUMN_NOTE, *p[:3]])) for p in generated]  # short pieces: the note weighs most
    different["synthetic, one column and topic"] = list(itertools.combinations(column, 2))
    return copies, different


def quality(args) -> list[str]:
    rng = random.Random(args.seed)
    copies, different = pair_sets(zh_news_bodies(Path(args.set)), rng, args.synthetic)
    lines = ["| pairs | kind | count | found (share a band) | linked |", "| --- | --- | ---: | ---: | ---: |"]
    true_linked = true_total = false_linked = 0
    for kind, pairs in copies.items():
        judged = [judge(a, b) for a, b in pairs]
        found, linked = sum(f for f, _ in judged), sum(k for _, k in judged)
        true_linked += linked
        true_total += len(pairs)
        lines.append(f"| true copies | {kind} | {len(pairs)} | {found} | {linked} |")
    for kind, pairs in different.items():
        judged = [judge(a, b) for a, b in pairs]
        found, linked = sum(f for f, _ in judged), sum(k for _, k in judged)
        false_linked += linked
        most = max(stories.compare(a.grams, b.grams).jaccard for a, b in pairs)
        lines.append(f"| different | {kind} (highest Jaccard {most:.2f}) | {len(pairs)} | {found} | {linked} |")
    precision = true_linked / (true_linked + false_linked) if true_linked + false_linked else 1.0
    lines.append("")
    lines.append(f"Recall {true_linked}/{true_total} = {true_linked / true_total:.3f}; precision "
                 f"{true_linked}/{true_linked + false_linked} = {precision:.3f} (every pair judged once).")
    return lines


def sentence_bank(rng: random.Random, size: int = 20_000) -> list[str]:
    """Sentences as storage.py's generator mixes them (one in seven theory prose), drawn once: an article of the
    filler is ~3,000 characters of them in random order, so filling 100,000 takes minutes, not an hour."""
    pool = sentence_pool(training_text(), 2000, rng)
    vocabulary = Vocabulary()
    return [rng.choice(pool) if rng.random() < 1 / 7 else vocabulary.sentence(rng) for _ in range(size)]


def filler_body(bank: list[str], rng: random.Random) -> str:
    paragraphs = ["".join(rng.choices(bank, k=rng.randint(3, 9))) for _ in range(14)]
    return "\n".join(paragraphs)


def fill(db, count: int, rng: random.Random) -> float:
    """``count`` synthetic articles with their signatures and bands, written directly; returns seconds spent."""
    bank = sentence_bank(rng)
    started = time.perf_counter()
    conn = db.conn
    batch = 2000
    for start in range(0, count, batch):
        conn.execute("BEGIN")
        for n in range(start, min(start + batch, count)):
            body = filler_body(bank, rng)
            conn.execute("INSERT INTO articles (id, url, title, published_at, body) VALUES (?, ?, ?, ?, ?)",
                         [n + 1, f"https://example.org/filler/{n}.html", body[:16], "2020-01-01T00:00:00+08:00", body])
            grams = stories.shingles(body)
            signature = stories.sign(grams)
            conn.execute("INSERT INTO story_signatures VALUES (?, ?, ?)",
                         [n + 1, len(grams), array("I", signature).tobytes()])
            conn.executemany("INSERT OR IGNORE INTO story_bands VALUES (?, ?)",
                             [(k, n + 1) for k in stories.band_keys(signature)])
        conn.execute("COMMIT")
        if (start + batch) % 20_000 == 0:
            print(f"  {min(start + batch, count)} signed", file=sys.stderr)
    return time.perf_counter() - started


def store_times(db, articles, offset: int) -> list[float]:
    run = Run(db, None, None)
    times = []
    for n, article in enumerate(articles):
        capture = Capture(record_id=f"<urn:bench:story:{offset + n}>", url=article.url,
                          fetched_at="2026-01-01T00:00:00Z", status=200, content_type="text/html; charset=utf-8")
        started = time.perf_counter()
        run.record(Outcome(Kind.ARTICLE, article=article), [capture])
        times.append(time.perf_counter() - started)
    return times


def ms(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"median {statistics.median(samples) * 1000:.2f} ms, p95 {samples[int(len(samples) * 0.95)] * 1000:.2f} ms"


def cost(args) -> list[str]:
    rng = random.Random(args.seed)
    os.makedirs(os.path.dirname(args.db) or ".", exist_ok=True)
    reuse = args.reuse and os.path.exists(args.db)
    for suffix in ("", "-wal", "-shm"):
        if not reuse and os.path.exists(args.db + suffix):
            os.remove(args.db + suffix)
    db = open_archive(args.db)
    filled = None
    if not reuse:
        db.execute("PRAGMA foreign_keys = OFF")  # the filler writes articles without sources or captures
        filled = fill(db, args.articles, rng)
        db.execute("PRAGMA foreign_keys = ON")
    start = db.execute("SELECT max(id) FROM articles").fetchone()[0]
    rng = random.Random(args.seed + start)  # a run on a reused archive stores new texts, not the last run's again
    pool = sentence_pool(training_text(), 2000, rng)
    vocabulary = Vocabulary()
    new = [make_article(start + n, pool, rng, AUTHORS, vocabulary) for n in range(2 * args.stored)]
    # In turns, one with linking and one without, so that neither runs on a colder cache than the other.
    real = pipelines.store.link_article
    with_linking, without = [], []
    for n in range(args.stored):
        with_linking += store_times(db, [new[2 * n]], 2 * n)
        pipelines.store.link_article = lambda db, article_id, body: None
        try:
            without += store_times(db, [new[2 * n + 1]], 2 * n + 1)
        finally:
            pipelines.store.link_article = real
    lookups, links = [], []
    for article in new[0::2]:
        grams = stories.shingles(article.body)
        keys = stories.band_keys(stories.sign(grams))
        article_id = db.execute("SELECT id FROM articles WHERE url = ?", [article.url]).fetchone()[0]
        started = time.perf_counter()
        stories.find_candidates(db, article_id, keys)
        lookups.append(time.perf_counter() - started)
        started = time.perf_counter()
        with pipelines.store.write_transaction(db):
            stories.link_article(db, article_id, article.body)
        links.append(time.perf_counter() - started)
    sizes = {}
    try:
        for name in ("story_signatures", "story_bands", "articles"):
            sizes[name] = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", [name]).fetchone()[0]
    except Exception:  # noqa: BLE001 - SQLite built without dbstat
        sizes = {}
    bands = db.execute("SELECT count(*) FROM story_bands").fetchone()[0]
    db.close()
    how = f"filled in {filled:.0f} s: synthesising, shingling and signing" if filled else "reused"
    lines = [f"Archive of {start:,} signed articles ({how}), {bands:,} band rows.",
             f"- store_article through Run.record, with linking: {ms(with_linking)} ({args.stored} new articles)",
             f"- the same without linking: {ms(without)}",
             f"- candidate look-up (find_candidates) alone: {ms(lookups)}",
             f"- link_article alone (shingle, sign, look up, verify, write): {ms(links)}"]
    if sizes:
        lines.append("- sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items() if v))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="../shared/bench/zh-news", help="the zh-news evaluation set")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--stored", type=int, default=300, help="articles timed through store_article, each way")
    parser.add_argument("--synthetic", type=int, default=60, help="synthetic same-column articles (all pairs)")
    parser.add_argument("--db", default="/tmp/chaozhou-bench/stories.db")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="time on the archive --db already holds (no fill)")
    parser.add_argument("--k", type=int, default=stories.SHINGLE_SIZE, help="shingle size to measure")
    args = parser.parse_args(argv)
    stories.SHINGLE_SIZE = args.k
    if not args.skip_quality:
        print("\n".join(quality(args)))
    if not args.skip_cost:
        print()
        print("\n".join(cost(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
