"""Datasette plugin: the articles table shows the columns a reader scans; every other column is a click away.

``/archive/articles`` shows title, date, source, column and authors (and the id, which links to the row). The
query still selects every column, so the page's JSON and CSV links export every column unless the reader chose
some; only the HTML table shows fewer. Datasette's own column choices keep their meaning on top of that:

- ``_col=X``: exactly the columns chosen, as in Datasette;
- ``_nocol=X`` with no ``_col``: the reader's columns without X ("Hide this column" on the default page);
- ``_columns=all``: every column (with ``_nocol`` too: all but those).

``_columns=all`` is ours because Datasette's "Show all columns" removes ``_col`` and ``_nocol``, which on this
table leads back to the reader's columns: a little script (``extra_body_script``) points that menu item at
``_columns=all``, and a line above the table links both ways without script.
"""

from __future__ import annotations

import json

from datasette import hookimpl
from datasette.utils import path_with_replaced_args

from .archive import is_archive

TABLE = "articles"
READER_COLUMNS = ("title", "published_at", "source_id", "column", "authors")
ALL_PARAM, ALL_VALUE = "_columns", "all"


def shows_reader_columns(args) -> bool:
    """Whether a request for the articles table gets the reader's columns (it chose none and not all)."""
    return "_col" not in args and args.get(ALL_PARAM) != ALL_VALUE


def pick(display_columns: list[dict], display_rows: list) -> tuple[list[dict], list[list[dict]]]:
    """The columns a reader scans, of those Datasette would show, with the primary key (the row's link)."""
    columns = [c for c in display_columns if c["is_pk"] or c["name"] in READER_COLUMNS]
    names = {c["name"] for c in columns}
    return columns, [[cell for cell in row if cell["column"] in names] for row in display_rows]


@hookimpl
def extra_template_vars(datasette, database, table, request, view_name):
    if view_name != "table" or table != TABLE or request is None or not is_archive(datasette, database):
        return {}
    readers = shows_reader_columns(request.args)
    all_url = path_with_replaced_args(request, {ALL_PARAM: ALL_VALUE, "_col": None, "_nocol": None, "_nosuggest": None})
    reader_url = path_with_replaced_args(request, {ALL_PARAM: None, "_col": None, "_nocol": None, "_nosuggest": None})
    return {"chaozhou_columns": {"readers": readers, "pick": pick, "all_url": datasette.urls.path(all_url),
                                 "reader_url": datasette.urls.path(reader_url),
                                 "chosen": not readers and "_col" in request.args}}


@hookimpl
def extra_body_script(view_name, database, table, datasette):
    if view_name != "table" or table != TABLE or not is_archive(datasette, database):
        return None
    # table.js fills its column menu in the icon's click handler (which stops the event): ours runs just after it
    # and makes "Show all columns" show all, from the reader's columns too.
    return f"""
(function () {{
  var param = {json.dumps(ALL_PARAM)}, value = {json.dumps(ALL_VALUE)};
  function allColumnsUrl() {{
    var params = new URLSearchParams(location.search);
    params.delete("_col"); params.delete("_nocol"); params.set(param, value);
    return "?" + params.toString();
  }}
  document.addEventListener("click", function (ev) {{
    if (!ev.target.closest || !ev.target.closest(".dropdown-menu-icon")) return;
    setTimeout(function () {{
      var link = document.querySelector(".dropdown-menu a.dropdown-show-all-columns");
      if (!link) return;
      var params = new URLSearchParams(location.search);
      var all = params.get(param) === value && !params.has("_col") && !params.has("_nocol");
      link.parentNode.style.display = all ? "none" : "block";
      link.setAttribute("href", allColumnsUrl());
    }}, 0);
  }}, true);
}})();
"""
