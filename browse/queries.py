"""Datasette plugin: canned queries on an archive, and the ``chaozhou_snippet`` SQL function they use.

- ``search``: articles matching ``q`` in relevance order (FTS5 ``bm25``, a title hit weighing most), each with a
  snippet of its body around the first match. Datasette's table view filters but never ranks.
- ``articles_per_month``, ``articles_per_source``, ``articles_per_author``: counts, newest or largest first.

Snippets come from the stored body, not FTS5's ``snippet()``: the index holds normalised tokens (or no text at
all, when it is contentless), not what a reader should see.
"""

from __future__ import annotations

import re
import unicodedata

from datasette import hookimpl

from pipelines.cjk import CJK

from .archive import conn_is_archive, is_archive

SNIPPET_CHARS = 80
MARK_OPEN, MARK_CLOSE = "【", "】"
_QUERY_BITS = re.compile(r'\s+|(".*?")')  # Datasette's own query splitting: whitespace, or a "quoted phrase"
# A Chinese (or Japanese) character on its own, or a run of letters and digits.
_TOKEN = re.compile(f"[{CJK}]|[^\\W_{CJK}]+")
_WORD = re.compile(f"[^\\W_{CJK}]")
_NOT_IN_WORD_BEFORE, _NOT_IN_WORD_AFTER = f"(?<![^\\W_{CJK}])", f"(?![^\\W_{CJK}])"

# rank is the place in the list (1 = most relevant), not the bm25 score, which means nothing to a reader
# (-2.0078e-06). The inner query ranks and limits on the index alone; the body is read (and a snippet cut) for
# 50 rows only.
# An empty query (blanks and quotes only) is an FTS5 syntax error: the constant test before it skips the MATCH.
SEARCH_SQL = """select
  a.id as article_id, a.title, a.published_at, s.name as source, a.column,
  chaozhou_snippet(a.body, :q) as snippet,
  row_number() over (order by hit.rank) as rank
from (
  select rowid, bm25(articles_fts, 10.0, 5.0, 3.0, 1.0) as rank
  from articles_fts
  where trim(:q, char(32, 34, 9, 10, 13, 12288)) != '' and articles_fts match escape_fts(:q)
  order by rank limit 50
) as hit
join articles a on a.id = hit.rowid
left join sources s on s.id = a.source_id
order by hit.rank"""

PER_MONTH_SQL = """select substr(published_at, 1, 7) as month, count(*) as articles
from articles
where published_at glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'
group by month order by month desc"""

PER_SOURCE_SQL = """select s.id as source_id, s.name as source, count(*) as articles
from articles a join sources s on s.id = a.source_id
group by a.source_id order by articles desc, source"""

PER_AUTHOR_SQL = """select au.id as author_id, au.name as author, count(*) as articles
from article_authors aa join authors au on au.id = aa.author_id
group by aa.author_id order by articles desc, author"""

QUERIES = {
    "search": {
        "title": "按相关度检索 · Search by relevance",
        "description": "输入词语（一至四个汉字或更多），按相关度排列，附正文摘要。"
                       " Articles matching q, most relevant first (bm25; title hits weigh most; rank 1 is the best"
                       " match), with a snippet.",
        "sql": SEARCH_SQL,
        "hide_sql": True,
    },
    "articles_per_month": {
        "title": "每月文章数 · Articles per month",
        "description": "按发布月份统计 · Articles by month of publication, newest first",
        "sql": PER_MONTH_SQL,
    },
    "articles_per_source": {
        "title": "各来源文章数 · Articles per source",
        "description": "按来源（刊发媒体）统计 · Articles by the publication they credit",
        "sql": PER_SOURCE_SQL,
    },
    "articles_per_author": {
        "title": "各作者文章数 · Articles per author",
        "description": "按作者统计（合著各计一次）· Articles by author (co-authored articles count for each author)",
        "sql": PER_AUTHOR_SQL,
    },
}


def query_pattern(query: str | None) -> re.Pattern | None:
    """A regex finding in the original text what the search matched: each word or "quoted phrase" of the query
    (split as Datasette splits it), its characters in order, with nothing or punctuation and spaces between
    them (the index skips those). Built from the query, not from the index's tokens, which may change."""
    alternatives = []
    for bit in _QUERY_BITS.split(unicodedata.normalize("NFKC", query or "")):
        tokens = _TOKEN.findall(bit or "")
        if tokens:
            # a word or number matches whole (the index's tokens), not inside a longer one: abc is not in xabcx
            before = _NOT_IN_WORD_BEFORE if _WORD.match(tokens[0]) else ""
            after = _NOT_IN_WORD_AFTER if _WORD.match(tokens[-1]) else ""
            alternatives.append(before + r"[\W_]*".join(re.escape(t) for t in tokens) + after)
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def snippet(body: str | None, query: str | None, chars: int = SNIPPET_CHARS) -> str:
    """About ``chars`` characters of body around the first match of query, matches in 【】, … where cut."""
    if not body:
        return ""
    text = " ".join(body.split("\n"))
    pattern = query_pattern(query)
    match = pattern.search(text) if pattern else None
    start = max(0, match.start() - chars // 3) if match else 0
    end = min(len(text), start + chars)
    window = text[start:end]
    if pattern:
        window = pattern.sub(lambda m: f"{MARK_OPEN}{m.group(0)}{MARK_CLOSE}", window)
    return ("…" if start else "") + window + ("…" if end < len(text) else "")


@hookimpl
def prepare_connection(conn):
    if conn_is_archive(conn):
        conn.create_function("chaozhou_snippet", 2, snippet, deterministic=True)


@hookimpl
def canned_queries(datasette, database):
    if not is_archive(datasette, database):
        return None
    return {name: dict(query) for name, query in QUERIES.items()}
