"""The pipelines from Article to archive.db: schema, validate, normalise, version, store. Real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

import pipelines.search
from pipelines.errors import Dropped, SchemaTooNew, StorageError
from pipelines.item import Article, Capture, Image
from pipelines.normalise import china_time, normalise
from pipelines.schema import known_migrations, open_archive, schema_version, search_index_version
from pipelines.search import SEARCH_TEXT_VERSION
from pipelines.validate import validate
from pipelines.version import content_hash
from scraper.parse import parse_article
from tests.archive_checks import store
from tests.warc_helpers import HTML, REFERENCE_URL, changed_reference_html, reference_html

DATA = Path(__file__).parent / "data"


def capture(n: int, when: str, url: str = REFERENCE_URL) -> Capture:
    return Capture(record_id=f"<urn:test:{n}>", url=url, fetched_at=when, status=200, content_type=HTML)


def article(html: bytes | None = None, url: str = REFERENCE_URL) -> Article:
    return parse_article(html or reference_html(), url, HTML)


def snapshot(db) -> dict:
    tables = ["articles", "article_versions", "article_authors", "authors", "sources", "images", "captures",
              "articles_fts"]
    return {t: db.execute(f"SELECT rowid, * FROM [{t}] ORDER BY rowid").fetchall() for t in tables}


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def test_schema_tables_keys_indexes_and_wal(db):
    assert db.journal_mode == "wal"
    assert schema_version(db) == known_migrations()
    fks = {(fk.table, fk.column, fk.other_table) for t in db.tables for fk in t.foreign_keys}
    assert {("articles", "source_id", "sources"), ("articles", "capture_id", "captures"),
            ("article_authors", "article_id", "articles"), ("article_authors", "author_id", "authors"),
            ("images", "article_id", "articles"), ("article_versions", "article_id", "articles")} <= fks
    indexed = {tuple(i.columns) for i in db["articles"].indexes}
    assert {("url",), ("published_at",), ("source_id",)} <= indexed
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert set(db["articles"].columns_dict) >= {
        "id", "url", "title", "subtitle", "published_at", "source_id", "editor", "body", "headings", "breadcrumb",
        "collection", "column", "char_count", "paragraph_count", "first_seen", "last_seen", "content_hash",
        "parser_version", "capture_id"}


def test_store_reference_article(db):
    assert store(db, article(), capture(1, "2026-01-01T00:00:00Z")) == "new"
    row = db.execute("SELECT * FROM articles").fetchone()
    row = dict(zip([c.name for c in db["articles"].columns], row, strict=True))
    assert row["title"] == "发挥政治统领作用 强化机关政治建设"
    assert row["published_at"] == "2020-10-13T11:13:14+08:00"
    assert (row["collection"], row["column"]) == ("潮州库", "理论文章、理论著作")
    assert row["paragraph_count"] == len(row["body"].split("\n")) > 10
    assert row["char_count"] == len(row["body"].replace("\n", ""))
    assert row["first_seen"] == row["last_seen"] == "2026-01-01T00:00:00Z"
    assert db.execute("SELECT name FROM sources").fetchall() == [("潮州日报",)]
    assert db.execute("SELECT name FROM authors").fetchall() == [("魏界亮",)]
    assert db.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == 1


def test_same_article_twice_changes_nothing(db):
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    before = snapshot(db)
    assert store(db, article(), capture(1, "2026-01-01T00:00:00Z")) == "unchanged"
    assert snapshot(db) == before


def test_changed_text_updates_and_keeps_version(db):
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    (rowid, old_hash), = db.execute("SELECT rowid, content_hash FROM articles").fetchall()
    changed = article(changed_reference_html())
    assert store(db, changed, capture(2, "2026-02-01T00:00:00Z")) == "updated"
    (new_rowid, body, first_seen, last_seen), = db.execute(
        "SELECT rowid, body, first_seen, last_seen FROM articles").fetchall()
    assert new_rowid == rowid  # updated in place: the search row still points at it
    assert "必须把党的政治建设摆在首位" in body
    assert (first_seen, last_seen) == ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")
    versions = db.execute(
        "SELECT article_id, content_hash, body, first_seen, replaced_at FROM article_versions").fetchall()
    assert len(versions) == 1
    assert versions[0][:2] == (rowid, old_hash)
    assert "一定要把党的政治建设摆在首位" in versions[0][2]
    assert versions[0][3:] == ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")
    # Importing either capture again changes nothing.
    before = snapshot(db)
    assert store(db, article(), capture(1, "2026-01-01T00:00:00Z")) == "unchanged"
    assert store(db, changed, capture(2, "2026-02-01T00:00:00Z")) == "unchanged"
    assert snapshot(db) == before


def test_older_capture_arriving_late_goes_to_history(db):
    store(db, article(changed_reference_html()), capture(2, "2026-02-01T00:00:00Z"))
    assert store(db, article(), capture(1, "2026-01-01T00:00:00Z")) == "updated"
    body, first_seen = db.execute("SELECT body, first_seen FROM articles").fetchone()
    assert "必须把党的政治建设摆在首位" in body  # the newer text stays current
    assert first_seen == "2026-01-01T00:00:00Z"
    assert db.execute("SELECT first_seen, replaced_at FROM article_versions").fetchall() == [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")]


def test_metadata_refresh_keeps_text_and_id(db):
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    richer = article()
    richer.authors = ["魏界亮", "另一位作者"]
    richer.images = [Image(url="https://gdxk.southcn.com/cz/a.jpg", caption="图")]
    assert store(db, richer, capture(1, "2026-01-01T00:00:00Z")) == "updated"
    assert db.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM article_authors").fetchone()[0] == 2
    assert db.execute("SELECT article_id, position, url, caption FROM images").fetchall() == [
        (1, 0, "https://gdxk.southcn.com/cz/a.jpg", "图")]
    assert db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"另一 一位\"'").fetchall() == [(1,)]


def test_validate_drops_only_a_page_with_nothing_to_store():
    good = article()
    for change, reason in (
        ({"title": "  "}, "no title"),
        ({"paragraphs": []}, "no body text"),
        ({"url": "file:///tmp/page.html"}, r"not an absolute http\(s\) URL"),
    ):
        bad = replace(good, **change)
        with pytest.raises(Dropped, match=reason):
            validate(bad)
    assert validate(good) is good


def test_validate_cuts_an_odd_field_and_says_so():
    good = article()
    long_title = validate(replace(good, title="长" * 307))
    assert len(long_title.title) == 300 and long_title.paragraphs == good.paragraphs
    assert long_title.warnings == ["title cut from 307 to 300 characters (probably a paragraph)"]
    bad_date = validate(replace(good, published_at="昨天"))
    assert bad_date.published_at is None and "not an ISO 8601 date" in bad_date.warnings[0]
    long_source = validate(replace(good, source="来" * 1000, authors=["甲", "乙" * 400]))
    assert len(long_source.source) == 300 and long_source.authors == ["甲"] and len(long_source.warnings) == 2


def test_normalise():
    raw = Article(url=REFERENCE_URL, title="  发挥 \n 作用 ", authors=["魏界亮", " 魏界亮 ", ""],
                  paragraphs=["  第一段。 ", "", "一、标题"], headings=["一、标题", "不在正文"],
                  published_at="2020-10-13T03:13:14+00:00", images=[Image("https://x/a.jpg"), Image("https://x/a.jpg")])
    clean = normalise(raw)
    assert clean.title == "发挥 作用"
    assert clean.authors == ["魏界亮"]
    assert clean.paragraphs == ["第一段。", "一、标题"]
    assert clean.headings == ["一、标题"]
    assert clean.published_at == "2020-10-13T11:13:14+08:00"
    assert len(clean.images) == 1
    assert china_time("1992-04-23") == "1992-04-23"


def test_content_hash_ignores_metadata_not_text():
    a, b = article(), article()
    b.source, b.authors = "别处", []
    assert content_hash(a) == content_hash(b)
    b.paragraphs = b.paragraphs[1:]
    assert content_hash(a) != content_hash(b)


def test_migration_from_schema_001(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(DATA / "archive-schema-001.db", path)
    db = open_archive(path)
    assert schema_version(db) == known_migrations()
    assert db.journal_mode == "wal"
    assert db.execute("SELECT id, collection, column, char_count > 2000, paragraph_count FROM articles").fetchall() == [
        (7, "潮州库", "理论文章、理论著作", 1, 15)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # The search index was built from the existing rows.
    assert db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"党建\"'").fetchall() == [(7,)]
    # New captures of the same article land on the same row.
    store(db, article(), capture(9, "2026-03-01T00:00:00Z"))
    assert db.execute("SELECT id, last_seen FROM articles").fetchall() == [(7, "2026-03-01T00:00:00Z")]


@pytest.fixture
def tokenised(monkeypatch) -> list[int]:
    """How many article texts the search index has tokenised since the test began."""
    calls = []
    real = pipelines.search.index_row

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(pipelines.search, "index_row", counting)
    return calls


def test_upgrading_a_first_release_archive_tokenises_the_corpus_once(tmp_path, tokenised):
    path = tmp_path / "old.db"
    shutil.copy(DATA / "archive-schema-001.db", path)
    db = open_archive(path)
    (articles,) = db.execute("SELECT count(*) FROM articles").fetchone()
    assert len(tokenised) == articles == 1  # steps 002 and 005 both made an index; it is filled once, after them
    assert search_index_version(db) == SEARCH_TEXT_VERSION
    db.close()
    open_archive(path).close()
    assert len(tokenised) == articles, "an up-to-date index was built again"


def test_the_search_index_is_rebuilt_once_when_its_version_changes(db, tokenised):
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    path = db.execute("PRAGMA database_list").fetchone()[2]
    db.execute("UPDATE archive_meta SET value = '1' WHERE key = 'search_index_version'")
    db.conn.commit()
    tokenised.clear()
    again = open_archive(path)
    assert len(tokenised) == 1 and search_index_version(again) == SEARCH_TEXT_VERSION
    assert again.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"党建\"'").fetchall() == [(1,)]
    again.close()
    open_archive(path).close()
    assert len(tokenised) == 1


def as_before_step_010(db) -> str:
    """Take the archive back to the schema release 3 made (before step 010); returns its path."""
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '010_run_counts_times_archive_meta'")
    db.execute("DROP TABLE archive_meta")
    db.execute("ALTER TABLE runs DROP COLUMN counts")
    db.conn.commit()
    return db.execute("PRAGMA database_list").fetchone()[2]


def test_an_index_built_before_the_version_was_recorded_is_kept(db, tokenised):
    """Archives made before step 010 hold an index release 3 built in full: it is recorded, not rebuilt."""
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    path = as_before_step_010(db)
    tokenised.clear()
    reopened = open_archive(path)
    assert tokenised == [] and search_index_version(reopened) == SEARCH_TEXT_VERSION
    reopened.close()


def test_times_written_with_microseconds_are_brought_to_the_second(db):
    """Release 3's crawl stored capture times with microseconds; step 010 writes them as every writer now does."""
    store(db, article(), capture(1, "2026-01-01T00:00:00.123456Z"))
    path = as_before_step_010(db)
    upgraded = open_archive(path)
    assert upgraded.execute("SELECT fetched_at FROM captures").fetchall() == [("2026-01-01T00:00:00Z",)]
    assert upgraded.execute("SELECT first_seen, last_seen FROM articles").fetchall() == [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")]
    upgraded.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    open_archive(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('chaozhou-archive', '099_from_the_future', '2030-01-01')")
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer release.*099_from_the_future"):
        open_archive(path)


def test_full_disk_rolls_back_the_whole_article(db):
    store(db, article(), capture(1, "2026-01-01T00:00:00Z"))
    before = snapshot(db)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    other = article(url="https://gdxk.southcn.com/cz/llwzllzz/content/post_000002.html")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store(db, other, capture(2, "2026-01-02T00:00:00Z"))
    assert not db.conn.in_transaction
    assert snapshot(db) == before


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are not the droids " * 100)
    with pytest.raises(StorageError, match="not an SQLite database"):
        open_archive(path)
