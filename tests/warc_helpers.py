"""Helpers for the storage tests: real WARC files and the reference article, made in tmp_path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from warcio.warcwriter import WARCWriter

from scraper.sample import write_response

REFERENCE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"
HTML = "text/html; charset=utf-8"


def reference_html() -> bytes:
    return resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()


def changed_reference_html() -> bytes:
    """The reference article with its first sentence edited, as a re-published page would be."""
    html = reference_html()
    old = "开展机关党建工作，一定要把党的政治建设摆在首位".encode()
    assert old in html
    return html.replace(old, "开展机关党建工作，必须把党的政治建设摆在首位".encode(), 1)


def write_warc(path: Path, pages: list[tuple], date: str = "2026-01-02T03:04:05Z", gzip: bool = True) -> Path:
    """A WARC with one response record per (url, content type, body[, status]), all captured at ``date``."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        for url, content_type, body, *status in pages:
            write_response(writer, url, content_type, body, comment=path.name, date=date,
                           status=status[0] if status else "200 OK")
    return path
