"""The bundled sample: build ``scraper/samples/sample.warc.gz`` from the fixture pages (``python -m
scraper.sample``), and serve its pages as a small site on 127.0.0.1 for ``scraper crawl --sample``.

The pages are reconstructions (see tests/fixtures/pages and scraper/samples/reference-article.html), not
captures of the live site; the WARC's warcinfo record says so. Output is reproducible: fixed dates and record
ids derived from the content, so re-building from unchanged pages gives the same bytes.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .errors import SamplePortBusy
from .templates.gdxk import COLLECTIONS, COLUMNS

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
REFERENCE = ROOT / "scraper" / "samples" / "reference-article.html"
REFERENCE_URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_000001.html"
OUTPUT = ROOT / "scraper" / "samples" / "sample.warc.gz"
SAMPLE_DATE = "2026-01-01T00:00:00Z"
NOTICE = ("Sample WARC for chaozhou-archive. Every page in it is a RECONSTRUCTION written for the test suite from "
          "text extracts and the known layout of gdxk.southcn.com and southcn.com pages; none was fetched from the "
          "live site. URLs and dates are illustrative.")
# A tiny non-HTML response, so that the sample shows a skipped record too.
PIXEL = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


def sample_pages(pages_dir: Path = PAGES) -> list[tuple[str, str | None, bytes, str]]:
    """(url, content type, body, source file name) per page: the reference article, then one page per fixture URL."""
    pages = [(REFERENCE_URL, "text/html; charset=utf-8", REFERENCE.read_bytes(), REFERENCE.name)]
    seen = {REFERENCE_URL}
    for expected in sorted(pages_dir.glob("*.expected.json")):
        html = expected.with_name(expected.name.replace(".expected.json", ".html"))
        if not html.exists():
            continue
        request = json.loads(expected.read_text(encoding="utf-8")).get("request") or {}
        url = request.get("url")
        if not url or url in seen:
            continue  # several fixtures are variants of one URL; a sample with one capture per URL reads plainly
        seen.add(url)
        pages.append((url, request.get("content_type") or "text/html", html.read_bytes(), html.name))
    return pages


def record_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join(parts))}>"


def build_sample(output: Path = OUTPUT, pages_dir: Path = PAGES) -> int:
    """Write the sample WARC; returns the number of page records."""
    pages = sample_pages(pages_dir)
    with open(output, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        info = writer.create_warcinfo_record(output.name, {
            "software": "chaozhou-archive scraper.sample", "format": "WARC File Format 1.1",
            "description": NOTICE, "isPartOf": "chaozhou-archive sample (reconstructed pages)",
        })
        info.rec_headers.replace_header("WARC-Record-ID", record_id("warcinfo", NOTICE))
        info.rec_headers.replace_header("WARC-Date", SAMPLE_DATE)
        writer.write_record(info)
        for url, content_type, body, name in pages:
            write_response(writer, url, content_type, body, comment=f"reconstruction: {name}")
        pixel_url = "https://gdxk.southcn.com/cz/images/sample-pixel.gif"
        write_response(writer, pixel_url, "image/gif", PIXEL, comment="non-HTML record")
    return len(pages)


def write_response(writer: WARCWriter, url: str, content_type: str | None, body: bytes, comment: str,
                   date: str = SAMPLE_DATE, status: str = "200 OK") -> None:
    headers = [("Content-Length", str(len(body)))]
    if content_type:
        headers.insert(0, ("Content-Type", content_type))
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=http,
                                       warc_headers_dict={"WARC-Date": date})
    record.rec_headers.replace_header("WARC-Record-ID", record_id(url, comment, date))
    writer.write_record(record)


# -- the sample as a site: `scraper crawl --sample` ---------------------------------------------------------------
SAMPLE_HOST = "gdxk.southcn.com"
SAMPLE_PORT = 8098  # always: crawling the sample again gives the same URLs, so nothing is stored twice
PER_PAGE = 1  # articles per generated listing page: even this small sample has a pager to walk
SAMPLE_ROBOTS = b"User-agent: *\nDisallow: /cz/search/\n"


def sample_site() -> dict[str, tuple[str, bytes]]:
    """Path -> (content type, body): the bundled WARC's article pages of the collection (/cz/), each once, with a
    robots.txt, the collection's home page, and each column's listing pages, paginated."""
    pages: dict[str, tuple[str, bytes]] = {}
    with resources.files("scraper").joinpath("samples/sample.warc.gz").open("rb") as warc:
        for record in ArchiveIterator(warc):
            url = urlsplit(record.rec_headers.get_header("WARC-Target-URI") or "")
            if (record.rec_type != "response" or url.hostname != SAMPLE_HOST or url.query
                    or "/content/" not in url.path):
                continue
            pages.setdefault(url.path, (record.http_headers.get_header("Content-Type") or "text/html",
                                        record.content_stream().read()))
    columns: dict[str, list[str]] = {}
    for path in sorted(pages):
        columns.setdefault(path.split("/")[2], []).append(path)
    site = {"/robots.txt": ("text/plain", SAMPLE_ROBOTS), **pages}
    home = [f'<li><a href="/cz/{column}/">{COLUMNS.get(column, column)}</a></li>' for column in columns]
    site["/cz/"] = _listing_page(COLLECTIONS["cz"], "".join(home) + '<li><a href="/cz/search/">search</a></li>')
    for column, paths in columns.items():
        chunks = [paths[i:i + PER_PAGE] for i in range(0, len(paths), PER_PAGE)]
        for n, chunk in enumerate(chunks, 1):
            links = "".join(f'<li><a href="{path}">{path.rsplit("/", 1)[1]}</a></li>' for path in chunk)
            if n < len(chunks):
                links += f'<li><a href="index_{n + 1}.html">下一页</a></li>'
            page = _listing_page(COLUMNS.get(column, column), links)
            site[f"/cz/{column}/" if n == 1 else f"/cz/{column}/index_{n}.html"] = page
    return site


def _listing_page(title: str, items: str) -> tuple[str, bytes]:
    html = (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{title}</title></head><body><h1>{title}</h1>"
            f"<ul>{items}</ul><p>Sample: reconstructed pages served on this machine by `scraper crawl --sample`."
            "</p></body></html>")
    return "text/html; charset=utf-8", html.encode("utf-8")


@contextmanager
def serving_sample() -> Iterator[str]:
    """Serve the sample site on 127.0.0.1 while the block runs; yields the collection's start URL."""
    site = sample_site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            content_type, body = site.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in site else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    try:
        server = ThreadingHTTPServer(("127.0.0.1", SAMPLE_PORT), Handler)
    except OSError as exc:  # never another port: the same pages under another address would be stored again
        raise SamplePortBusy(f"cannot serve the sample on 127.0.0.1:{SAMPLE_PORT} ({exc.strerror}); another "
                             "`scraper crawl --sample` may be running: let it finish, or free the port") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cz/"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    count = build_sample()
    print(f"{OUTPUT}: {count} pages (reconstructions) and one non-HTML record", file=sys.stderr)
