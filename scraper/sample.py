"""Build ``scraper/samples/sample.warc.gz`` from the fixture pages: ``python -m scraper.sample``.

The pages are reconstructions (see tests/fixtures/pages and scraper/samples/reference-article.html), not
captures of the live site; the WARC's warcinfo record says so. Output is reproducible: fixed dates and record
ids derived from the content, so re-building from unchanged pages gives the same bytes.
"""

from __future__ import annotations

import json
import sys
import uuid
from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

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


if __name__ == "__main__":
    count = build_sample()
    print(f"{OUTPUT}: {count} pages (reconstructions) and one non-HTML record", file=sys.stderr)
