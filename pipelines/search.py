"""Chinese full-text search that plain SQLite and Datasette's search box can use.

FTS5's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so ``党建`` never matches
inside ``开展机关党建工作``. We index the text with each CJK character turned into one token: the character and
the next one (a bigram) when the next token of the text is also a CJK character, else the character alone.
``开展机关。`` becomes ``开展 展机 机关 关``. A query becomes the phrase of the same tokens: ``政治建设`` is
``"政治 治建 建设"`` and ``党建`` is the single token ``"党建"``, one doclist lookup instead of intersecting the
position lists of two very frequent characters. A 1-character query is the prefix query ``"疫" *`` (every
occurrence of a character starts a token), answered from the index's 1-character prefix index
(``prefix='1'``). Token positions stay one per character, so a query matches exactly where the phrase of its
characters would: words and numbers stay whole tokens, punctuation is skipped, and ``建党`` does not match
``党建``.

The index is contentless (``content=''``): the bigram text is never stored, only the index, which any SQLite
client can query with ``MATCH`` (no custom tokenizer). Removing an article's old tokens needs the text they came
from, so ``unindex_article`` runs before the article's row changes, in the article's own transaction.
"""

from __future__ import annotations

import re
import unicodedata

from sqlite_utils import Database

from .cjk import CJK

FTS_TABLE = "articles_fts"
FTS_COLUMNS = ("title", "subtitle", "authors", "body")
# Bump when search_text() changes: open_archive then rebuilds the index once (pipelines.schema), since old rows
# were tokenised differently and a contentless index can only drop tokens it is given again.
SEARCH_TEXT_VERSION = 2

_CJK = f"[{CJK}]"  # unicode61 glues a run of these into one token
# A CJK character, and the next CJK character when only separators (unicode61 keeps letters and numbers as
# token characters; spaces and punctuation separate) stand between them.
_CJK_AND_NEXT = re.compile(rf"({_CJK})(?:(?=[\W_]*({_CJK})))?")
_SPLIT = re.compile(f"({_CJK})")
_TOKEN_CHAR = re.compile(r"[^\W_]")
# Datasette's own query splitting (datasette.utils.escape_fts): whitespace, or a "quoted phrase".
_QUERY_BITS = re.compile(r'\s+|(".*?")')


def search_text(text: str | None) -> str:
    """The text as indexed: NFKC-folded (full-width Ｌａｔｉｎ and digits match ASCII), one token per CJK character."""
    if not text:
        return ""
    return _CJK_AND_NEXT.sub(r" \1\2 ", unicodedata.normalize("NFKC", text))  # \2 is empty at a run's end


def escape_fts(query: str) -> str:
    """Turn a search box query into an FTS5 query: each word or "quoted phrase" becomes a phrase of its tokens.

    Words are ANDed, as in Datasette's own ``escape_fts``; without Chinese the result is the same as its.
    Registered as the ``escape_fts`` SQL function by the Datasette plugin.
    """
    phrases = []
    for bit in query_words(query):
        inner = bit[1:-1] if bit.startswith('"') and bit.endswith('"') and len(bit) > 1 else bit
        phrase = query_phrase(inner)
        if phrase:
            phrases.append(phrase)
    return " ".join(phrases)


def query_words(query: str) -> list[str]:
    """The query's words and "quoted phrases" (quotes kept), as ``escape_fts`` reads them: an unclosed quote is
    closed at the end."""
    if query.count('"') % 2:
        query += '"'
    return [bit for bit in _QUERY_BITS.split(query) if bit and bit != '""']


def query_phrase(text: str) -> str:
    """One query word as an FTS5 phrase that matches wherever the text's characters occur in a row.

    A CJK character followed by another gives their bigram; the last of a run gives itself when a word or number
    follows it in the query (the text's run ends there too), nothing when the run had two or more characters
    (its last bigram covers it), and a prefix token when it is a 1-character run ending the query.
    """
    parts = _SPLIT.split(unicodedata.normalize("NFKC", text))
    chars, gaps = parts[1::2], parts[0::2]
    out, run, prefix = [gaps[0]], 0, False
    for k, char in enumerate(chars):
        gap = gaps[k + 1]
        run += 1
        if k + 1 < len(chars) and not _TOKEN_CHAR.search(gap):
            out.append(f" {char}{chars[k + 1]} ")
        else:
            if k + 1 < len(chars) or _TOKEN_CHAR.search(gap):  # a word or number follows
                out.append(f" {char} ")
            elif run == 1:
                out.append(f" {char} ")
                prefix = True
            run = 0
        out.append(gap)
    phrase = " ".join("".join(out).split())
    if not phrase:
        return ""
    return '"' + phrase.replace('"', '""') + '"' + (" *" if prefix else "")


def index_row(title: str | None, subtitle: str | None, authors: list[str], body: str | None) -> tuple:
    return (search_text(title), search_text(subtitle), search_text(" ".join(authors)), search_text(body))


def is_indexed(db: Database, article_id: int) -> bool:
    return db.execute(f"SELECT 1 FROM [{FTS_TABLE}_docsize] WHERE id = ?", [article_id]).fetchone() is not None


def index_article(db: Database, article_id: int, title: str | None, subtitle: str | None,
                  authors: list[str], body: str | None) -> None:
    """Index one article. Call inside the article's transaction, after ``unindex_article`` for a stored one."""
    if is_indexed(db, article_id):
        # Indexing again would leave the old tokens behind for good (only their text can remove them).
        raise RuntimeError(f"article {article_id} is already in the search index: unindex_article() it first")
    db.execute(
        f"INSERT INTO [{FTS_TABLE}] (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
        [article_id, *index_row(title, subtitle, authors, body)],
    )


def unindex_article(db: Database, article_id: int) -> None:
    """Remove an article's tokens, computed from its stored title, subtitle, authors and body.

    Call before those change (in the same transaction): a contentless index deletes the tokens it is given.
    """
    if not is_indexed(db, article_id):
        return
    title, subtitle, body = db.execute(
        "SELECT title, subtitle, body FROM articles WHERE id = ?", [article_id]).fetchone()
    authors = [r[0] for r in db.execute(
        "SELECT a.name FROM article_authors aa JOIN authors a ON a.id = aa.author_id WHERE aa.article_id = ? "
        "ORDER BY aa.position", [article_id])]
    db.execute(
        f"INSERT INTO [{FTS_TABLE}] ([{FTS_TABLE}], rowid, {', '.join(FTS_COLUMNS)}) "
        "VALUES ('delete', ?, ?, ?, ?, ?)",
        [article_id, *index_row(title, subtitle, authors, body)],
    )


def rebuild_index(db: Database, batch: int = 500) -> int:
    """Re-create every search row from the articles table (after a change to ``search_text``). Returns the count.

    Reads the articles in batches: at 100,000 articles their text is over a gigabyte.
    """
    db.execute(f"INSERT INTO [{FTS_TABLE}] ([{FTS_TABLE}]) VALUES ('delete-all')")
    authors: dict[int, list[str]] = {}
    for article_id, name in db.execute(
        "SELECT aa.article_id, a.name FROM article_authors aa JOIN authors a ON a.id = aa.author_id "
        "ORDER BY aa.article_id, aa.position"
    ).fetchall():
        authors.setdefault(article_id, []).append(name)
    count, last = 0, -(2**63)
    while True:
        rows = db.execute(
            "SELECT id, title, subtitle, body FROM articles WHERE id > ? ORDER BY id LIMIT ?", [last, batch]
        ).fetchall()
        if not rows:
            return count
        for article_id, title, subtitle, body in rows:
            db.execute(
                f"INSERT INTO [{FTS_TABLE}] (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
                [article_id, *index_row(title, subtitle, authors.get(article_id, []), body)],
            )
        count += len(rows)
        last = rows[-1][0]

