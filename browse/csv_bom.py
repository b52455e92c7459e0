"""Datasette plugin: CSV for Excel (UTF-8 with a byte order mark), one click away in the table view.

Excel on Windows opens UTF-8 CSV without a BOM as mojibake, and Datasette has no option for one. Rather than a
second CSV writer, ``asgi_wrapper`` adds the three bytes in front of Datasette's own CSV when the query string
says ``_bom=1``: every CSV option (filters, search, ``_stream=on`` for all rows, ``_labels``, ``_dl``) keeps
working, and so does streaming. Datasette already ends rows with CRLF, as Excel expects.

Excel runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a scraped title can start so
(``=HYPERLINK(...)``). Each row of that CSV is therefore re-written with every cell through
``pipelines.export.neutralise_formula``, the rule ``scraper export --excel`` follows, as the rows stream by.

The link: next to "CSV" in the table's (and a query's) "This data as" line, by a few lines of script
(``extra_body_script``: no template has a hook there), and in the table's actions menu (``table_actions``),
which needs no script.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from pipelines.export import neutralise_formula

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


class FormulaGuard:
    """Datasette's CSV body, given chunk by chunk, back a whole row at a time with each cell neutralised.

    Chunks may end anywhere, inside a row or a character. A row ends at a line end outside quotes; the csv module
    doubles every quote within a field, so a line end after an even number of quotes (counted from a row's
    start) is outside them.
    """

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        text = self.pending + self.decoder.decode(data, final)
        end = len(text) if final else whole_rows_end(text)
        self.pending = text[end:]
        return neutralised_rows(text[:end]).encode("utf-8")


def whole_rows_end(text: str) -> int:
    """Where the last whole row of text (which starts at a row's start) ends."""
    end = start = quotes = 0
    while (newline := text.find("\n", start)) != -1:
        quotes += text.count('"', start, newline)
        if quotes % 2 == 0:
            end = newline + 1
        start = newline + 1
    return end


def neutralised_rows(text: str) -> str:
    """CSV rows again, written as Datasette writes them (the csv module's excel dialect), each cell neutralised."""
    if not text:
        return ""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([neutralise_formula(cell) for cell in row])
    written = out.getvalue()
    return written if text.endswith("\n") else written.removesuffix("\r\n")


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
            guard = FormulaGuard()

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict((k.lower(), v) for k, v in message.get("headers", []))
                    state["csv"] = message["status"] == 200 and headers.get(b"content-type", b"").startswith(
                        (b"text/csv", b"text/plain"))
                    if state["csv"]:
                        # The body grows by three bytes: drop a length Datasette may have set.
                        message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                          if k.lower() != b"content-length"]}
                elif message["type"] == "http.response.body" and state["csv"]:
                    body = guard.feed(message.get("body", b""), final=not message.get("more_body", False))
                    if not state["started"]:
                        state["started"] = True
                        body = BOM + body
                    message = {**message, "body": body}
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
