"""An Article survives a round trip through the database: validate → normalise → store → read back gives the
normalised Article, field for field.

Expected changes, all made by `pipelines.normalise` before storing (so equal to `normalise(article)`):
- text fields are NFC and stripped; one-line fields (title, subtitle, source, editor, authors, crumbs, image
  captions) have runs of whitespace collapsed to one space; empty ones become None (lists drop them);
- authors, headings and images (by URL) lose repeats; headings that are not a paragraph are dropped;
- `published_at` with another offset is re-expressed in China time (+08:00).
And by the storage format:
- `encoding_source` is not stored (it says how the parser chose the encoding; the WARC keeps the bytes);
- the body is the paragraphs joined by newlines, so a paragraph never holds a newline (the parser never makes one:
  `test_parsed_paragraphs_hold_no_newline`).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from pipelines.errors import Dropped
from pipelines.item import Article, Capture, Image
from pipelines.normalise import normalise
from pipelines.schema import open_archive
from scraper.errors import NotAnArticle
from scraper.parse import parse_article
from tests.archive_checks import store

ROUND_TRIP_EXAMPLES = 150
_ids = itertools.count(1)

chinese = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
punctuation = st.sampled_from(list("，。、；：？！“”‘’（）《》【】—…·　 \t\u00a0\u200b"))
anything = st.characters(exclude_categories=("Cs",))  # every code point a str can hold in UTF-8
text = st.text(st.one_of(chinese, chinese, punctuation, anything), max_size=60)
line = text.filter(lambda s: "\n" not in s and "\r" not in s)
paragraph = st.text(st.one_of(chinese, chinese, punctuation, anything), min_size=1, max_size=200).filter(
    lambda s: "\n" not in s and s.strip())
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)),
                                                  timezone(timedelta(hours=-5, minutes=-30))]))
published = st.one_of(st.none(), st.dates().map(lambda d: d.isoformat()),
                      moments.map(lambda m: m.replace(microsecond=0).isoformat()),
                      moments.map(lambda m: m.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
optional = st.one_of(st.none(), line)


@st.composite
def articles(draw) -> Article:
    paragraphs = draw(st.lists(paragraph, min_size=1, max_size=12))
    headings = draw(st.lists(st.one_of(st.sampled_from(paragraphs), line), max_size=4))
    return Article(
        url="https://gdxk.southcn.com/cz/llwzllzz/content/post_0.html",  # replaced by a unique URL per example
        site=draw(optional), extractor=draw(st.sampled_from([None, "gdxk", "generic"])),
        parser_version=draw(st.sampled_from([None, "1", "2.3"])), encoding=draw(st.sampled_from([None, "utf-8"])),
        encoding_source=draw(st.sampled_from([None, "meta", "detector"])),
        title=draw(line.filter(lambda s: s.strip() and len(s.strip()) <= 300)),
        subtitle=draw(optional), published_at=draw(published), source=draw(optional),
        authors=draw(st.lists(line, max_size=4)), editor=draw(optional), breadcrumb=draw(st.lists(line, max_size=4)),
        headings=headings, paragraphs=paragraphs,
        images=draw(st.lists(st.builds(Image, url=st.sampled_from(["https://gdxk.southcn.com/a.jpg", " /b.png ",
                                                                    "https://x/图片.jpg"]),
                                       caption=optional), max_size=3)),
        warnings=draw(st.lists(text, max_size=3)),
        field_rules=draw(st.dictionaries(st.sampled_from(["title", "source", "authors"]), line, max_size=3)),
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    db = open_archive(tmp_path_factory.mktemp("roundtrip") / "archive.db")
    yield db
    db.close()


def read_article(db, url: str) -> Article:
    """The Article as the database holds it (the inverse of pipelines.store.article_row and its join tables)."""
    row = db.execute(
        "select a.id, a.url, a.site, a.extractor, a.parser_version, a.encoding, a.title, a.subtitle, "
        "a.published_at, s.name, a.editor, a.breadcrumb, a.headings, a.body, a.warnings, a.field_rules "
        "from articles a left join sources s on s.id = a.source_id where a.url = ?", [url]).fetchone()
    (article_id, url, site, extractor, parser_version, encoding, title, subtitle, published_at, source, editor,
     breadcrumb, headings, body, warnings, field_rules) = row
    authors = [r[0] for r in db.execute(
        "select au.name from article_authors aa join authors au on au.id = aa.author_id where aa.article_id = ? "
        "order by aa.position", [article_id])]
    images = [Image(u, c) for u, c in db.execute(
        "select url, caption from images where article_id = ? order by position", [article_id])]
    return Article(url=url, site=site, extractor=extractor, parser_version=parser_version, encoding=encoding,
                   encoding_source=None, title=title, subtitle=subtitle, published_at=published_at, source=source,
                   authors=authors, editor=editor, breadcrumb=json.loads(breadcrumb), headings=json.loads(headings),
                   paragraphs=body.split("\n") if body else [], images=images, warnings=json.loads(warnings),
                   field_rules=json.loads(field_rules))


@settings(max_examples=ROUND_TRIP_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(articles())
def test_an_article_survives_the_round_trip(archive, article):
    n = next(_ids)
    article = replace(article, url=f"https://gdxk.southcn.com/cz/llwzllzz/content/post_{n}.html")
    capture = Capture(record_id=f"<urn:uuid:roundtrip-{n}>", url=article.url, fetched_at="2026-01-02T03:04:05Z",
                      status=200, content_type="text/html")
    try:
        assert store(archive, article, capture) == "new"
    except Dropped:
        reject()
    expected = replace(normalise(article), encoding_source=None)
    assert read_article(archive, article.url) == expected
    # Normalising is idempotent, and storing the same text again changes nothing.
    assert normalise(expected) == expected
    again = Capture(record_id=f"<urn:uuid:roundtrip-{n}-again>", url=article.url,
                    fetched_at="2026-01-03T03:04:05Z", status=200, content_type="text/html")
    assert store(archive, article, again) == "unchanged"
    assert read_article(archive, article.url) == expected
    versions = archive.execute("select count(*) from article_versions a join articles b on b.id = a.article_id "
                               "where b.url = ?", [article.url]).fetchone()
    assert versions == (0,)


SAMPLE = resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.integers(0, len(SAMPLE)))
def test_parsed_paragraphs_hold_no_newline(inserted, position):
    page = SAMPLE[:position] + inserted.encode("utf-8", "surrogatepass") + SAMPLE[position:]
    try:
        article = parse_article(page, "https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html")
    except NotAnArticle:
        return
    assert all("\n" not in p for p in article.paragraphs)
