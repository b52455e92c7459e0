"""Chinese full-text search that plain SQLite and Datasette's search box can use.

FTS5's ``unicode61`` tokenizer keeps a run of Chinese characters as one token, so ``党建`` never matches
inside ``开展机关党建工作``. We index a copy of the text with a space between CJK characters (each character is
then a token) and turn a query into the phrase of its characters: ``党建`` becomes ``"党 建"``, which FTS5 matches
as two adjacent tokens. Any SQLite client can open the database (no custom tokenizer) and Latin words and
numbers are still whole tokens. The copy is written in the article's own transaction by ``index_article``.
"""

from __future__ import annotations

import re
import unicodedata

from sqlite_utils import Database

FTS_TABLE = "articles_fts"
FTS_COLUMNS = ("title", "subtitle", "authors", "body")
# Bump when search_text() changes: a migration then rebuilds the index, since old rows were spaced differently.
SEARCH_TEXT_VERSION = 1

# Han ideographs (all extension blocks), 〇 and 々 (used in Chinese dates and words), and kana, which
# unicode61 also glues into runs.
_CJK = "[\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
# A space wherever a CJK character touches any other non-space character.
_BETWEEN = re.compile(rf"(?<={_CJK})(?=\S)|(?<=\S)(?={_CJK})")
# Datasette's own query splitting (datasette.utils.escape_fts): whitespace, or a "quoted phrase".
_QUERY_BITS = re.compile(r'\s+|(".*?")')


def search_text(text: str | None) -> str:
    """The text as indexed: NFKC-folded (full-width Ｌａｔｉｎ and digits match ASCII) and CJK characters spaced."""
    if not text:
        return ""
    return _BETWEEN.sub(" ", unicodedata.normalize("NFKC", text))


def escape_fts(query: str) -> str:
    """Turn a search box query into an FTS5 query: each word or "quoted phrase" becomes a phrase of its tokens.

    Words are ANDed, as in Datasette's own ``escape_fts``; Chinese text becomes the phrase of its characters.
    Registered as the ``escape_fts`` SQL function by the Datasette plugin.
    """
    if query.count('"') % 2:
        query += '"'
    phrases = []
    for bit in _QUERY_BITS.split(query):
        if not bit or bit == '""':
            continue
        inner = bit[1:-1] if bit.startswith('"') and bit.endswith('"') and len(bit) > 1 else bit
        spaced = search_text(inner).strip()
        if spaced:
            phrases.append('"' + spaced.replace('"', '""') + '"')
    return " ".join(phrases)


def create_index_sql() -> str:
    columns = ", ".join(FTS_COLUMNS)
    return f"CREATE VIRTUAL TABLE IF NOT EXISTS [{FTS_TABLE}] USING fts5({columns}, tokenize='unicode61')"


def index_row(title: str | None, subtitle: str | None, authors: list[str], body: str | None) -> tuple:
    return (search_text(title), search_text(subtitle), search_text(" ".join(authors)), search_text(body))


def index_article(db: Database, article_id: int, title: str | None, subtitle: str | None,
                  authors: list[str], body: str | None) -> None:
    """Write (or rewrite) the search copy of one article. Call inside the article's transaction."""
    db.execute(f"DELETE FROM [{FTS_TABLE}] WHERE rowid = ?", [article_id])
    db.execute(
        f"INSERT INTO [{FTS_TABLE}] (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
        [article_id, *index_row(title, subtitle, authors, body)],
    )


def rebuild_index(db: Database) -> int:
    """Re-create every search row from the articles table (after a change to ``search_text``). Returns the count."""
    db.execute(f"DELETE FROM [{FTS_TABLE}]")
    authors = {}
    for row in db.execute(
        "SELECT aa.article_id, a.name FROM article_authors aa JOIN authors a ON a.id = aa.author_id "
        "ORDER BY aa.article_id, aa.position"
    ).fetchall():
        authors.setdefault(row[0], []).append(row[1])
    count = 0
    for article_id, title, subtitle, body in db.execute(
        "SELECT id, title, subtitle, body FROM articles"
    ).fetchall():
        db.execute(
            f"INSERT INTO [{FTS_TABLE}] (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
            [article_id, *index_row(title, subtitle, authors.get(article_id, []), body)],
        )
        count += 1
    return count


def search_sql(limit: int = 20) -> str:
    """SQL for relevance-ranked search (Datasette's table view never ranks): bind ``:search``."""
    return (
        "SELECT articles.id, articles.title, articles.published_at, bm25(articles_fts) AS rank "
        "FROM articles_fts JOIN articles ON articles.id = articles_fts.rowid "
        f"WHERE articles_fts MATCH escape_fts(:search) ORDER BY rank LIMIT {int(limit)}"
    )
