"""The archive's schema steps, oldest first: ``pipelines.schema`` runs the ones an archive lacks.

Migrations are frozen: once released, a step is never edited, since archives made by that release already ran
it, and a step holds its SQL (and any rule it applies) as released, never a call into today's code, which may
have changed since. A new release appends a step. Kept apart from ``pipelines.schema`` (opening, checking and
upgrading a file) so that each stays short; the steps' names are the ones archives record.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "chaozhou-archive"
migrations = Migrations(MIGRATION_SET)

@migrations(name="001_initial")
def m001_initial(db: Database) -> None:
    db["sources"].create({"id": int, "name": str}, pk="id", not_null={"name"})
    db["sources"].create_index(["name"], unique=True)
    db["authors"].create({"id": int, "name": str}, pk="id", not_null={"name"})
    db["authors"].create_index(["name"], unique=True)
    db["runs"].create(
        {"id": int, "kind": str, "started_at": str, "finished_at": str, "status": str, "inputs": str,
         "scraper_version": str, "parser_version": str, "new": int, "updated": int, "unchanged": int,
         "not_article": int, "dropped": int, "failed": int, "skipped": int, "error": str},
        pk="id",
    )
    db["captures"].create(
        {"id": int, "record_id": str, "url": str, "fetched_at": str, "status": int, "content_type": str,
         "payload_digest": str, "warc_file": str, "warc_offset": int, "warc_length": int, "saved_file": str,
         "run_id": int},
        pk="id", not_null={"record_id", "url"}, foreign_keys=[("run_id", "runs", "id")],
    )
    db["captures"].create_index(["record_id"], unique=True)
    db["captures"].create_index(["url"])
    # body last: SQLite reads a column stored after a long text through the text's overflow pages.
    db["articles"].create(
        {"id": int, "url": str, "title": str, "subtitle": str, "published_at": str, "source_id": int,
         "editor": str, "headings": str, "breadcrumb": str, "site": str, "extractor": str,
         "encoding": str, "warnings": str, "field_rules": str, "first_seen": str, "last_seen": str,
         "content_hash": str, "parser_version": str, "capture_id": int, "body": str},
        pk="id", not_null={"url"},
        foreign_keys=[("source_id", "sources", "id"), ("capture_id", "captures", "id")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["published_at"])
    db["articles"].create_index(["source_id"])
    db["article_authors"].create(
        {"article_id": int, "author_id": int, "position": int}, pk=("article_id", "author_id"),
        foreign_keys=[("article_id", "articles", "id"), ("author_id", "authors", "id")],
    )
    db["article_authors"].create_index(["author_id"])
    db["images"].create(
        {"article_id": int, "position": int, "url": str, "caption": str}, pk=("article_id", "position"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_versions"].create(
        {"id": int, "article_id": int, "title": str, "subtitle": str, "body": str, "headings": str,
         "content_hash": str, "parser_version": str, "capture_id": int, "first_seen": str, "replaced_at": str},
        pk="id", foreign_keys=[("article_id", "articles", "id"), ("capture_id", "captures", "id")],
    )
    db["article_versions"].create_index(["article_id"])
    db["dropped"].create(
        {"id": int, "run_id": int, "url": str, "capture_id": int, "stage": str, "reason": str},
        pk="id", foreign_keys=[("run_id", "runs", "id"), ("capture_id", "captures", "id")],
    )
    db["dropped"].create_index(["run_id"])


@migrations(name="002_collections_counts_search")
def m002_collections_counts_search(db: Database) -> None:
    # Release 2: the 潮州库 collection and column as facetable columns, text sizes, and Chinese search. The
    # backfill applies release 2's rule (_release_2_place); a reparse brings today's. The search table made here
    # is release 2's, dropped by step 005: it is left empty (the index is built once, after the steps).
    articles = db["articles"]
    for name, kind in (("collection", str), ("column", str), ("char_count", int), ("paragraph_count", int)):
        articles.add_column(name, kind)
    # Rebuilt (ids kept) so that body stays the last column and the new ones sit beside the fields they describe.
    articles.transform(column_order=[
        "id", "url", "title", "subtitle", "published_at", "source_id", "collection", "column", "editor",
        "char_count", "paragraph_count", "headings", "breadcrumb", "site", "extractor", "encoding", "warnings",
        "field_rules", "first_seen", "last_seen", "content_hash", "parser_version", "capture_id", "body"])
    for row in db.execute("SELECT id, url, breadcrumb, body FROM articles").fetchall():
        article_id, url, breadcrumb, body = row
        collection, column = _release_2_place(url, json.loads(breadcrumb) if breadcrumb else [])
        paragraphs = body.split("\n") if body else []
        db.execute(
            "UPDATE articles SET collection = ?, column = ?, char_count = ?, paragraph_count = ? WHERE id = ?",
            [collection, column, sum(len(p) for p in paragraphs), len(paragraphs), article_id],
        )
    articles.create_index(["collection", "column"])
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS [articles_fts] "
               "USING fts5(title, subtitle, authors, body, tokenize='unicode61')")


def _release_2_place(url: str, breadcrumb: list[str]) -> tuple[str | None, str | None]:
    """Collection and column as release 2 read them (frozen with step 002)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    crumbs = [c for c in breadcrumb if c not in ("首页", "home", "Home")]
    if parts.hostname == "gdxk.southcn.com":
        collection = {"cz": "潮州库", "zh": "珠海库", "st": "汕头库"}.get(segments[0]) if segments else None
        column = {"llwzllzz": "理论文章、理论著作", "dsj": "大事记"}.get(segments[1]) if len(segments) > 1 else None
        collection = collection or next((c for c in crumbs if c.endswith("库")), None)
        if column is None and crumbs and crumbs[-1] != collection:
            column = crumbs[-1]
        return collection, column
    return None, (crumbs[-1] if len(crumbs) > 1 else None)


@migrations(name="003_crawl_frontier")
def m003_crawl_frontier(db: Database) -> None:
    # Release 3: the crawl's frontier lives in the archive, so a killed crawl resumes from it; articles the
    # site now answers 404/410 for are marked gone (and kept).
    db["frontier"].create({
        "url": str, "kind": str, "state": str, "attempts": int, "last_error": str, "next_try": str,
        "found_on": str, "title_hint": str, "discovered_at": str, "fetched_at": str, "etag": str,
        "last_modified": str, "conditional": int, "state_before": str, "queued_run": int,
    }, pk="url", not_null={"kind", "state"}, defaults={"attempts": 0, "conditional": 0})
    db["frontier"].create_index(["state", "next_try"])
    db["articles"].add_column("gone_at", str)
    db["articles"].add_column("gone_status", int)


@migrations(name="004_run_health")
def m004_run_health(db: Database) -> None:
    # Release 3: each run's health measures per collection and column (pipelines.health), for drift reports.
    db["run_health"].create({
        "id": int, "run_id": int, "collection": str, "column": str, "measure": str, "articles": int,
        "value": float, "baseline": float, "drift": int, "examples": str,
    }, pk="id", foreign_keys=[("run_id", "runs", "id")])
    db["run_health"].create_index(["run_id"])


@migrations(name="005_bigram_search")
def m005_bigram_search(db: Database) -> None:
    # Release 3: search by character bigrams, in a contentless index (pipelines.search, SEARCH_TEXT_VERSION 2).
    # The old index stored a spaced copy of every text; it is dropped, and the new one is filled once after the
    # steps (open_archive). content='': the bigram text is not stored (it would be twice the size of the text);
    # prefix='1' makes a 1-character query one lookup instead of a merge of every bigram that starts with it.
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS [articles_fts] USING fts5(title, subtitle, authors, body, "
               "tokenize='unicode61', content='', prefix='1')")


@migrations(name="006_frontier_pick_index")
def m006_frontier_pick_index(db: Database) -> None:
    # Release 3: picking the next URL without sorting every pending one (scraper.frontier.next_due).
    db.execute("CREATE INDEX IF NOT EXISTS frontier_state_kind ON frontier (state, kind)")


@migrations(name="007_frontier_discovered_run")
def m007_frontier_discovered_run(db: Database) -> None:
    # Release 3: which run first saw a URL, so that a link first seen earlier in the same run still counts as
    # new when a listing is judged (scraper.crawl: walk on while every link on a page is new).
    db["frontier"].add_column("discovered_run", int)


@migrations(name="008_search_tuning")
def m008_search_tuning(db: Database) -> None:
    # Release 3: the search index merges 16 segments at a time, not FTS5's 4, kept in its own config table so that
    # any writer does: with one transaction per article, merging is most of the cost of writing the index (15,000
    # articles: 321 -> 423 a second; queries as fast; the index 2% larger),
    # and the search page's column and year facets get indexes to group in, without sorting (at 100,000
    # articles, a search for a common word: column facet 37 -> 25 ms, year 55 -> 29 ms). The year index is on
    # browse.facets.YearFacet's own expression; sqlite-utils' transform() refuses to drop or rename
    # published_at while it exists (drop the index first).
    db.execute("INSERT INTO [articles_fts] ([articles_fts], rank) VALUES ('automerge', 16)")
    db["articles"].create_index(["column"], if_not_exists=True)
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_year ON articles (substr(published_at, 1, 4), published_at)")


@migrations(name="009_facet_indexes")
def m009_facet_indexes(db: Database) -> None:
    # Release 3: the articles page counts collection, column, source and year in one pass over one index
    # (browse.facets.ArticleFacet; the year is the index's own expression), and authors in one pass over
    # (author_id, article_id), which also serves the ``_author=`` filter, so the author_id index goes. At 100,000
    # articles, a search for a common word: the four facets 99 -> 42 ms, the author facet 103 -> 43 ms. As with
    # step 008, a later transform() of articles must drop the expression index first.
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_facets "
               "ON articles (source_id, collection, [column], substr(published_at, 1, 4))")
    db.execute("CREATE INDEX IF NOT EXISTS idx_article_authors_author_article "
               "ON article_authors (author_id, article_id)")
    db.execute("DROP INDEX IF EXISTS idx_article_authors_author_id")


@migrations(name="010_run_counts_times_archive_meta")
def m010_run_counts_times_archive_meta(db: Database) -> None:
    # Release 4: every count of a run (listing pages, block pages, redirects, requests …) as JSON beside the
    # columns each job shares. Times to the second, as every writer now writes them: release 3's crawl wrote
    # capture times with microseconds, which compared wrongly as text with times to the second ('.' < 'Z').
    # And archive_meta, which records the version the search index was built with, so that it is rebuilt once,
    # after the steps, when the tokenising changes. An index built before this step (by release 3's step 005)
    # holds every article at version 2; one left empty by today's step 005 does not, and gets no version, so it
    # is built.
    db["runs"].add_column("counts", str)
    fraction = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].*Z"
    for table, column in (("captures", "fetched_at"), ("articles", "first_seen"), ("articles", "last_seen"),
                          ("article_versions", "first_seen"), ("article_versions", "replaced_at")):
        db.execute(f"UPDATE [{table}] SET [{column}] = substr([{column}], 1, 19) || 'Z' WHERE [{column}] GLOB ?",
                   [fraction])
    db.execute("CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT OR IGNORE INTO archive_meta (key, value) SELECT 'search_index_version', '2' "
               "WHERE (SELECT count(*) FROM articles_fts_docsize) = (SELECT count(*) FROM articles)")


@migrations(name="011_dropped_by_url")
def m011_dropped_by_url(db: Database) -> None:
    # Release 5: reparse reads again the pages recorded in dropped that the archive holds no article for, by URL
    # and newest row; without an index that look-up grows with the square of the table.
    db.execute("CREATE INDEX IF NOT EXISTS dropped_url ON dropped (url, id)")


@migrations(name="012_stories_authors")
def m012_stories_authors(db: Database) -> None:
    # Release 6: one story across its republications (pipelines.stories links copies at store time; a NULL
    # story_id is a story of its own until then), and the authors' names on the article's row, so that the
    # articles table shows them beside the title (the join table stays the truth; the store keeps both in step).
    # Rebuilt (ids kept) so that body stays last: the search page reads story_id for every match.
    db.execute("CREATE TABLE IF NOT EXISTS stories (id INTEGER PRIMARY KEY, title TEXT, published_at TEXT, "
               "article_count INTEGER NOT NULL DEFAULT 0)")
    articles = db["articles"]
    for name in ("authors", "story_id"):
        if name not in articles.columns_dict:
            articles.add_column(name, int if name == "story_id" else str)
    order = [c.name for c in articles.columns if c.name not in ("authors", "story_id", "body")]
    at = order.index("source_id") + 1
    order[at:at] = ["authors"]
    at = order.index("column") + 1
    order[at:at] = ["story_id"]
    for index in ("idx_articles_facets", "idx_articles_year"):  # transform() cannot copy an expression index
        db.execute(f"DROP INDEX IF EXISTS {index}")
    articles.transform(column_order=[*order, "body"], add_foreign_keys=[("story_id", "stories", "id")])
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_facets "
               "ON articles (source_id, collection, [column], substr(published_at, 1, 4))")
    db.execute("CREATE INDEX IF NOT EXISTS idx_articles_year ON articles (substr(published_at, 1, 4), published_at)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_story ON articles (story_id, published_at)")
    db.execute("UPDATE articles SET authors = (SELECT group_concat(name, '、') FROM (SELECT au.name "
               "FROM article_authors aa JOIN authors au ON au.id = aa.author_id "
               "WHERE aa.article_id = articles.id ORDER BY aa.position))")


@migrations(name="013_story_signatures")
def m013_story_signatures(db: Database) -> None:
    # Release 6: what pipelines.stories needs to find an article's copies later: each article's MinHash signature
    # (NULL for a text too short to link; the row says the article was signed) and its LSH band keys, looked up
    # by key. Articles stored before this step have no signature row: the write commands sign them in batches.
    db.execute("CREATE TABLE IF NOT EXISTS story_signatures (article_id INTEGER PRIMARY KEY "
               "REFERENCES articles(id), shingle_count INTEGER NOT NULL, signature BLOB)")
    db.execute("CREATE TABLE IF NOT EXISTS story_bands (band_key INTEGER NOT NULL, article_id INTEGER NOT NULL "
               "REFERENCES articles(id), PRIMARY KEY (band_key, article_id)) WITHOUT ROWID")
