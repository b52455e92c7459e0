"""Datasette plugin: CSV for Excel (UTF-8 with a byte order mark), one click away in the table view.

Excel on Windows opens UTF-8 CSV without a BOM as mojibake, and Datasette has no option for one. Rather than a
second CSV writer, ``asgi_wrapper`` adds the three bytes in front of Datasette's own CSV when the query string
says ``_bom=1``: every CSV option (filters, search, ``_stream=on`` for all rows, ``_labels``, ``_dl``) keeps
working, and so does streaming. Datasette already ends rows with CRLF, as Excel expects.

The link: next to "CSV" in the table's (and a query's) "This data as" line, by a few lines of script
(``extra_body_script``: no template has a hook there), and in the table's actions menu (``table_actions``),
which needs no script.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from .archive import is_archive

BOM = "\ufeff".encode()
LABEL = "CSV for Excel"
# Paging and format options of the current page that make no sense in a full export.
DROPPED_ARGS = {"_next", "_size", "_stream", "_dl", "_bom", "_labels", "_nocount", "_nofacet", "_nosuggest",
                "_format"}


def wants_bom(scope) -> bool:
    return scope.get("type") == "http" and scope.get("path", "").endswith(".csv") and \
        ("_bom", "1") in parse_qsl(scope.get("query_string", b"").decode("latin-1"))


def database_route(datasette, path: str) -> str:
    base = datasette.setting("base_url") or "/"
    if path.startswith(base):
        path = "/" + path[len(base):]
    return path.lstrip("/").split("/", 1)[0].removesuffix(".csv")


def archive_route(datasette, route: str) -> bool:
    try:
        return is_archive(datasette, datasette.get_database(route=route).name)
    except KeyError:
        return False


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_bom(scope, receive, send):
            if not wants_bom(scope) or not archive_route(datasette, database_route(datasette, scope["path"])):
                await app(scope, receive, send)
                return
            # Drop our argument byte for byte, leaving the rest of the query exactly as sent.
            query = b"&".join(part for part in scope["query_string"].split(b"&") if part != b"_bom=1")
            scope = {**scope, "query_string": query}
            state = {"csv": False, "started": False}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                    state["csv"] = message["status"] == 200 and headers.get(b"content-type", b"").startswith(
                        (b"text/csv", b"text/plain"))
                    if state["csv"]:
                        # The body grows by three bytes: drop a length Datasette may have set.
                        message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                          if k.lower() != b"content-length"]}
                elif message["type"] == "http.response.body" and state["csv"] and not state["started"]:
                    state["started"] = True
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            await app(scope, receive, send_with_bom)
        return with_bom
    return wrap


def excel_csv_url(datasette, request) -> str:
    """This page's rows (all of them, streamed) as CSV with a BOM, downloaded, foreign keys with their labels."""
    route_path = request.scope.get("route_path", request.path)
    query = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True)
             if k not in DROPPED_ARGS and not k.startswith("_facet")]
    query += [("_stream", "on"), ("_size", "max"), ("_labels", "on"), ("_dl", "1"), ("_bom", "1")]
    return datasette.urls.path(f"{route_path}.csv?{urlencode(query)}")


@hookimpl
def extra_body_script(view_name, database, request, datasette):
    if view_name not in ("table", "query") or request is None or not is_archive(datasette, database):
        return None
    url = json.dumps(excel_csv_url(datasette, request))
    label = json.dumps(LABEL)
    return f"""
(function () {{
  var links = document.querySelector("p.export-links");
  if (!links) return;
  var csv = Array.prototype.find.call(links.querySelectorAll("a"), function (a) {{ return a.textContent === "CSV"; }});
  if (!csv) return;
  var a = document.createElement("a");
  a.href = {url};
  a.textContent = {label};
  a.className = "chaozhou-excel-csv";
  a.title = "UTF-8 with BOM: Excel shows the Chinese text correctly";
  csv.after(", ", a);
}})();
"""


@hookimpl
def table_actions(datasette, database, table, request):
    if request is None or not is_archive(datasette, database):
        return None
    return [{"href": excel_csv_url(datasette, request), "label": f"{LABEL} (UTF-8 with BOM)"}]
