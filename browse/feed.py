"""Datasette plugin: an Atom feed of an archive's newest articles, at ``/<database>/articles.atom``.

One entry per article, newest publication first (50 of them): the title, the authors, the first paragraphs as
plain-text summary, a link to the reader's page and one to the original. Entry ids are the articles' canonical
URLs, which never change, so a feed reader shows each article once however often it is re-captured.
Text from the pages goes in as escaped text (never as HTML), minus the control characters XML forbids.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from datasette import hookimpl
from datasette.utils.asgi import Response

from .archive import archive_database
from .metadata import TITLE

ENTRIES = 50
SUMMARY_CHARS = 200
ATOM_TYPE = "application/atom+xml; charset=utf-8"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    return escape(_NOT_XML.sub("", str(value or "")))


def rfc3339(value: str | None) -> str | None:
    """Atom wants a full date-time with offset: a bare date is midnight China time (the site's clock)."""
    if not value:
        return None
    if "T" not in value:
        year, month, day = (value.split("-") + ["01", "01"])[:3]  # 2020, 2020-05 and 2020-05-06 all occur
        value = f"{year}-{month}-{day[:2]}T00:00:00+08:00"
    value = re.sub(r"T(\d\d:\d\d)(?=$|Z|[+-])", r"T\1:00", value)  # RFC 3339 wants seconds
    if not re.search(r"(Z|[+-]\d\d:\d\d)$", value):
        value += "+08:00"
    return value


def summary(body: str | None) -> str:
    text = ""
    for paragraph in (body or "").split("\n"):
        text = f"{text}\n{paragraph}" if text else paragraph
        if len(text) >= SUMMARY_CHARS:
            return text[:SUMMARY_CHARS] + "…"
    return text


def entry_xml(row, authors: list[str], reader_url: str) -> str:
    updated = rfc3339(row["published_at"]) or row["first_seen"]
    parts = [f"<entry><id>{xml_text(row['url'])}</id><title>{xml_text(row['title'] or row['url'])}</title>",
             f"<updated>{xml_text(updated)}</updated>"]
    if row["published_at"]:
        parts.append(f"<published>{xml_text(rfc3339(row['published_at']))}</published>")
    parts += [f"<author><name>{xml_text(name)}</name></author>" for name in authors]
    parts.append(f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(reader_url)}/>")
    if (row["url"] or "").startswith(("http://", "https://")):
        parts.append(f"<link rel=\"related\" type=\"text/html\" href={quoteattr(row['url'])}/>")
    if row["source"]:
        parts.append(f"<source><title>{xml_text(row['source'])}</title></source>")
    parts.append(f"<summary type=\"text\">{xml_text(summary(row['body']))}</summary></entry>")
    return "".join(parts)


async def feed_view(datasette, request):
    db = await archive_database(datasette, request)
    rows = (await db.execute(
        "select a.id, a.url, a.title, a.published_at, a.first_seen, a.body, s.name as source from articles a "
        "left join sources s on s.id = a.source_id order by a.published_at desc, a.id desc limit ?",
        [ENTRIES])).rows
    ids = [row["id"] for row in rows]
    authors: dict[int, list[str]] = {}
    if ids:
        marks = ", ".join("?" * len(ids))
        for r in (await db.execute(
                "select aa.article_id, au.name from article_authors aa join authors au on au.id = aa.author_id "
                f"where aa.article_id in ({marks}) order by aa.article_id, aa.position", ids)).rows:
            authors.setdefault(r[0], []).append(r[1])
    self_url = datasette.absolute_url(request, request.path)
    table_url = datasette.absolute_url(request, datasette.urls.table(db.name, "articles"))
    entries = [entry_xml(row, authors.get(row["id"], []),
                         datasette.absolute_url(request, datasette.urls.path(f"{db.route}/articles/{row['id']}/read")))
               for row in rows]
    updated = max((rfc3339(r["published_at"]) or r["first_seen"] or "" for r in rows), default="") or \
        "1970-01-01T00:00:00Z"
    body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh\">"
            f"<id>{xml_text(table_url)}</id><title>{xml_text(TITLE)}: {xml_text(db.name)}</title>"
            f"<updated>{xml_text(updated)}</updated><author><name>{xml_text(TITLE)}</name></author>"
            f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(self_url)}/>"
            f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(table_url)}/>"
            + "".join(entries) + "</feed>\n")
    return Response(body, content_type=ATOM_TYPE, headers={"Cache-Control": "max-age=300"})


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)/articles\.atom$", feed_view)]
