"""The plugin manager: built-in templates register exactly as third-party ones do (entry point ``scraper``)."""

from __future__ import annotations

import importlib
from functools import lru_cache

import pluggy

from . import hookspecs

DEFAULT_PLUGINS = (
    "scraper.templates.gdxk",
    "scraper.templates.southcn",
    "scraper.templates.nfapp",
    "scraper.templates.generic",
)


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("scraper")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name)
    pm.load_setuptools_entrypoints("scraper")
    return pm


@lru_cache(maxsize=1)
def all_templates() -> tuple:
    """Every template, in the order they are tried. Asked once per process (for each link of a listing too)."""
    found = [t for group in plugin_manager().hook.scraper_templates() for t in group]
    return tuple(sorted(found, key=lambda t: t.priority))
