"""The scraper's extension points. Site templates are plugins on these hooks, the built-in ones included."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("scraper")
hookimpl = pluggy.HookimplMarker("scraper")


@hookspec
def scraper_templates():
    """Return a list of ``scraper.templates.Template``: page layouts this plugin knows how to read.

    Templates are tried in ascending ``priority``; the first whose ``matches(page)`` is true extracts the
    fields. The generic template (priority 1000) matches every page and is the fallback.
    """
