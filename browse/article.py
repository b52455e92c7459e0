"""Datasette plugin: the article as a reader wants it, at ``/<database>/articles/<id>/read``.

Title, date, source, authors and breadcrumb, then the paragraphs as paragraphs (section headings set apart),
the images, and links to the original page, its archived capture (``browse.capture``) and the raw row. When the
text was also published at other addresses (``pipelines.stories`` linked them as one story), the page lists them.
Titles in Datasette's table and row views link here (``render_cell``).

Everything that came from a scraped page is escaped into an HTML fragment and the fragment is then cleaned by
nh3 with a short allowlist (no script, no event handler, only http(s) links), so neither a parser slip nor a
hostile page can put markup that runs into the reader's browser. The page also says so in its
Content-Security-Policy, which allows no script at all.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import quote, urlsplit

import nh3
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from . import PLUGIN_NAME
from .archive import archive_database, is_archive, row_id

ALLOWED_TAGS = {"a", "p", "h2", "figure", "figcaption", "img", "span", "time", "nav", "ol", "li", "ul"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class"}, "img": {"src", "alt"}, "time": {"datetime"},
                      "span": {"class"}, "p": {"class"}, "nav": {"class", "aria-label"}, "li": {"class"}}
# Images come from the original site: don't tell it which page of ours the reader is on, load them lazily.
SET_ATTRIBUTES = {"img": {"loading": "lazy", "referrerpolicy": "no-referrer"}}
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "img-src 'self' https: http: data:; style-src 'self'; frame-ancestors 'self'")


def sanitise(fragment: str) -> Markup:
    """The fragment with only the allowed tags and attributes, and only http(s) (or relative) links."""
    return Markup(nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                            set_tag_attribute_values=SET_ATTRIBUTES, url_schemes={"http", "https"},
                            link_rel="noopener noreferrer nofollow", strip_comments=True))


def text(value) -> str:
    return escape(str(value), quote=True) if value is not None else ""


def body_html(body: str | None, headings: list[str]) -> str:
    heads = set(headings)
    out = []
    for paragraph in (body or "").split("\n"):
        if paragraph.strip():
            tag = "h2" if paragraph in heads else "p"
            out.append(f"<{tag}>{text(paragraph)}</{tag}>")
    return "\n".join(out)


def images_html(images: list[dict]) -> str:
    out = []
    for image in images:
        if not (image["url"] or "").startswith(("http://", "https://")):
            continue  # nh3 would drop the src anyway; a broken image helps no reader
        caption = f"<figcaption>{text(image['caption'])}</figcaption>" if image["caption"] else ""
        out.append(f"<figure><img src=\"{text(image['url'])}\" alt=\"{text(image['caption'] or '')}\">"
                   f"{caption}</figure>")
    return "\n".join(out)


def json_list(value: str | None) -> list[str]:
    try:
        items = json.loads(value) if value else []
    except ValueError:
        return []
    return [str(i) for i in items] if isinstance(items, list) else []


def byline_html(row: dict, authors: list[dict], table_url: str) -> str:
    """Date, source, authors and editor: each a link to the article list filtered by it."""
    parts = []
    if row["published_at"]:
        year = row["published_at"][:4]
        parts.append(f"<a class=\"date\" href=\"{text(table_url)}?published_at__startswith={quote(year)}\">"
                     f"<time datetime=\"{text(row['published_at'])}\">{text(display_time(row['published_at']))}"
                     f"</time></a>")
    if row["source"]:
        parts.append(f"<span class=\"source\">来源：<a href=\"{text(table_url)}?source_id={row['source_id']}\">"
                     f"{text(row['source'])}</a></span>")
    if authors:
        names = "、".join(f"<a href=\"{text(table_url)}?_author={a['id']}\">{text(a['name'])}</a>" for a in authors)
        parts.append(f"<span class=\"authors\">作者：{names}</span>")
    if row["editor"]:
        parts.append(f"<span class=\"editor\">责任编辑：{text(row['editor'])}</span>")
    return "<p class=\"byline\">" + " · ".join(parts) + "</p>"


def display_time(value: str) -> str:
    """2020-10-13T11:13:14+08:00 → 2020-10-13 11:13:14 (China time, as precise as the page printed it)."""
    date, _, time = value.partition("T")
    return f"{date} {time.split('+')[0].split('Z')[0]}" if time else date


def hostname(url: str | None) -> str | None:
    """The URL's host, or None: a row's address urlsplit refuses ("http://[::1/x") must not break another page."""
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def copies_html(copies: list[dict], read_url) -> str:
    """The story's other copies: date, site and links to their reader pages and original pages."""
    if not copies:
        return ""
    items = []
    for copy in copies:
        host = hostname(copy["url"]) or copy["site"] or ""
        date = (f"<time datetime=\"{text(copy['published_at'])}\">{text(display_time(copy['published_at']))}</time> "
                if copy["published_at"] else "")
        original = (f" · <a class=\"original\" href=\"{text(copy['url'])}\">原文 · original</a>"
                    if (copy["url"] or "").startswith(("http://", "https://")) and hostname(copy["url"]) else "")
        title = text(copy["title"] or copy["url"])
        items.append(f"<li>{date}<span class=\"site\">{text(host)}</span> · "
                     f"<a href=\"{text(read_url(copy['id']))}\">{title}</a>{original}</li>")
    label = "也发表于 · Also published at"
    return f"<nav class=\"copies\" aria-label=\"{label}\"><p>{label}</p><ul>{''.join(items)}</ul></nav>"


async def load_copies(db, row: dict) -> list[dict]:
    if row.get("story_id") is None:
        return []
    return [dict(r) for r in (await db.execute(
        "select id, url, site, title, published_at from articles where story_id = ? and id != ? "
        "order by published_at is null, published_at, id", [row["story_id"], row["id"]])).rows]


def breadcrumb_html(crumbs: list[str]) -> str:
    if not crumbs:
        return ""
    items = "".join(f"<li>{text(c)}</li>" for c in crumbs)
    label = "原网页导航 · Breadcrumb on the original page"
    return f"<nav class=\"breadcrumb\" aria-label=\"{label}\"><ol>{items}</ol></nav>"


async def load_article(db, article_id: int) -> tuple[dict, list[dict], list[dict], int]:
    row = (await db.execute(
        "select a.*, s.name as source from articles a left join sources s on s.id = a.source_id where a.id = ?",
        [article_id])).first()
    if row is None:
        raise NotFound("No such article")
    authors = [dict(r) for r in (await db.execute(
        "select au.id, au.name from article_authors aa join authors au on au.id = aa.author_id "
        "where aa.article_id = ? order by aa.position", [article_id])).rows]
    images = [dict(r) for r in (await db.execute(
        "select url, caption from images where article_id = ? order by position", [article_id])).rows]
    versions = (await db.execute(
        "select count(*) from article_versions where article_id = ?", [article_id])).first()[0]
    return dict(row), authors, images, versions


async def article_view(datasette, request):
    db = await archive_database(datasette, request)
    row, authors, images, versions = await load_article(db, row_id(request.url_vars["id"]))
    table_url = datasette.urls.table(db.name, "articles")
    original = row["url"] if (row["url"] or "").startswith(("http://", "https://")) else None
    context = {
        "database": db.name,
        "table": "articles",
        "title": row["title"] or row["url"],
        "subtitle": row["subtitle"],
        "breadcrumb_html": sanitise(breadcrumb_html(json_list(row["breadcrumb"]))),
        "byline_html": sanitise(byline_html(row, authors, table_url)),
        "body_html": sanitise(body_html(row["body"], json_list(row["headings"]))),
        "images_html": sanitise(images_html(images)),
        "copies_html": sanitise(copies_html(await load_copies(db, row), lambda i: datasette.urls.path(
            f"{db.route}/articles/{i}/read"))),
        "original_url": sanitise(f"<a href=\"{text(original)}\">{text(original)}</a>") if original else "",
        "capture_url": (datasette.urls.path(f"{db.route}/captures/{row['capture_id']}/replay")
                        if row["capture_id"] else None),
        "row_url": datasette.urls.row(db.name, "articles", str(row["id"])),
        "versions": versions,
        "versions_url": datasette.urls.table(db.name, "article_versions") + f"?article_id={row['id']}",
        "gone": row.get("gone_at"),
        "gone_status": row.get("gone_status"),
        "column": row["column"],
        "column_url": f"{table_url}?column={quote(row['column'] or '')}",
        "css_url": datasette.urls.static_plugins(PLUGIN_NAME, "reader.css"),
    }
    return await reader_page(datasette, request, "chaozhou_article.html", context)


async def reader_page(datasette, request, template: str, context: dict, status: int = 200) -> Response:
    """A reader's page rendered from a template, under the CSP that allows no script."""
    response = Response.html(await datasette.render_template(
        template, context, request=request, view_name=template.removesuffix(".html")), status=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@hookimpl
def register_routes():
    return [(r"^/(?P<database>[^/.]+)/articles/(?P<id>[0-9]+)/read$", article_view)]


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """A title links to the article's reader page: in the articles table and row views (by ``id``), and in query
    results that name the article ``article_id`` (the ranked search does)."""
    if column != "title" or value is None or table not in ("articles", None):
        return None
    key = "id" if table == "articles" else "article_id"
    try:
        article_id = int(row[key])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not is_archive(datasette, database):
        return None
    route = datasette.get_database(database).route
    href = datasette.urls.path(f"{route}/articles/{article_id}/read")
    return Markup('<a href="{}">{}</a>').format(href, value)
