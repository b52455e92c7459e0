"""Datasette plugin: the archive's stylesheet on its pages, and column descriptions folded away on its tables.

Every table and column of an archive is described (``browse.metadata``), and Datasette lists all those
descriptions above the rows: on ``articles`` that is 26 entries between the reader and the first article. A few
lines of script (``extra_body_script``) put the list into a ``<details>`` element, closed; without script it
stays as Datasette shows it.
"""

from __future__ import annotations

import json

from datasette import hookimpl

from . import PLUGIN_NAME
from .archive import archive_names, is_archive

SUMMARY = "字段说明 · Column descriptions"


@hookimpl
def extra_css_urls(database, datasette):
    if (database is None and archive_names(datasette)) or is_archive(datasette, database):
        return [datasette.urls.static_plugins(PLUGIN_NAME, "archive.css")]
    return None


@hookimpl
def extra_body_script(view_name, database, datasette):
    if view_name != "table" or not is_archive(datasette, database):
        return None
    return f"""
(function () {{
  var list = document.querySelector("dl.column-descriptions");
  if (!list) return;
  var details = document.createElement("details");
  details.className = "chaozhou-columns";
  var summary = document.createElement("summary");
  summary.textContent = {json.dumps(SUMMARY)} + " (" + list.querySelectorAll("dt").length + ")";
  list.parentNode.insertBefore(details, list);
  details.appendChild(summary);
  details.appendChild(list);
}})();
"""
