"""What site rules cost: each page parsed with no rules, with a rules file for another site (the lxml path alone),
and with the rules file `scraper doctor` suggests for it (BeautifulSoup and soupsieve), timed on the same pages.

Usage (from the repository root, offline):

    python benchmarks/site_rules.py [--set ../shared/bench/zh-news] [--repeat 3]

It also counts the pages the suggested rules file parses exactly as shown (every field the same), which is what
`scraper doctor` promises of it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.zh_news import fixture_pages, load_set  # noqa: E402
from scraper.errors import NotAnArticle  # noqa: E402
from scraper.parse import extract_article, read_page  # noqa: E402
from scraper.pinning import as_rules, suggest_pins  # noqa: E402
from scraper.rules import SiteRule, SiteRules  # noqa: E402

ELSEWHERE = SiteRules("elsewhere.toml", (SiteRule("elsewhere", ("news.example.invalid",), (), ()),))


def best_ms(data: bytes, url: str, content_type: str | None, rules: SiteRules | None, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        extract_article(read_page(data, url, content_type), rules)
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ROOT.parent / "shared" / "bench" / "zh-news")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    pages = [(row["id"], row["data"], row["url"], None) for row in load_set(args.set)] if args.set.is_dir() else []
    pages += fixture_pages()
    plain, elsewhere, pinned, same, pins, total = [], [], [], 0, 0, 0
    for _, data, url, content_type in pages:
        try:
            article = extract_article(read_page(data, url, content_type))
        except NotAnArticle:
            continue
        suggestion = suggest_pins(read_page(data, url, content_type), article)
        rules = as_rules(suggestion)
        total += 1
        pins += len(suggestion.pins)
        again = extract_article(read_page(data, url, content_type), rules).to_dict()
        shown = article.to_dict()
        same += all(again[k] == shown[k] for k in shown if k != "field_rules")
        # Interleaved, so that a slow spell of the machine hits every variant alike.
        plain.append(best_ms(data, url, content_type, None, args.repeat))
        elsewhere.append(best_ms(data, url, content_type, ELSEWHERE, args.repeat))
        pinned.append(best_ms(data, url, content_type, rules, args.repeat))
    median = statistics.median
    print(f"pages: {total} ({len(pages) - total} not articles); fields pinned by doctor's rules: {pins} "
          f"({pins / max(total, 1):.1f} per page); parsed as shown with them: {same}/{total}")
    print("| variant | ms/page median | ÷ no rules |")
    print("|---|---|---|")
    for name, times in (("no rules", plain), ("a rules file for another site", elsewhere),
                        ("doctor's rules for the page (BeautifulSoup + soupsieve)", pinned)):
        print(f"| {name} | {median(times):.1f} | {median(times) / median(plain):.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
