"""Browsing the archive in Datasette: each feature a small Datasette plugin module in this package.

Every module is registered under the ``datasette`` entry point (see pyproject.toml), so plain
``datasette archive.db`` has them all; each touches only databases that look like an archive
(``browse.archive.is_archive``). This package itself is registered too, with no hooks, because Datasette
serves a plugin's ``templates/`` and ``static/`` directories only for a plugin that is a package.

- ``browse.metadata``: title, descriptions (Chinese and English), facets, labels, hidden tables, front-page charts
- ``browse.search``: the search box finds Chinese words of any length, and stays fast for words in most articles
- ``browse.queries``: canned queries (relevance search with snippets, per month, per source, per author)
- ``browse.facets``: the year and author facets, and the ``_author=`` filter they link to
- ``browse.article``: the reader's article page (sanitised with nh3)
- ``browse.capture``: the archived capture of a page, replayed from its WARC record without scripts
- ``browse.feed``: an Atom feed of the newest articles
- ``browse.chart``: SVG charts of articles per month and per column, drawn on the server
- ``browse.csv_bom``: Datasette's CSV with a UTF-8 BOM, for Excel
- ``browse.readonly``: every connection Datasette opens to an archive is ``query_only``
- ``browse.style``: the archive's stylesheet, and column descriptions folded under a ``<details>``
- ``browse.views``: Datasette's own pages tidied: readers' tables first, facets headed in both languages, licence once
- ``browse.columns``: the articles table shows the reader's columns; all the others a click away
- ``browse.reader_search``: the readers' search page (``/<database>/-/search``): each story once, snippets, facets
  (the queries behind it are ``browse.story_search``'s)
- ``browse.coverage``: field coverage per month and per column, as canned queries and a chart (``/-/coverage``)
"""

PLUGIN_NAME = "chaozhou-archive"  # the distribution's name: Datasette serves our static files under it
