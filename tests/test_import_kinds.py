"""`scraper import` knows a file by its first bytes: ARC files and WACZ files are read (and read back by `reparse`),
and what it cannot read (a CDX index, a text file, a WARC gzipped whole, a zip of something else) is named in one
line, never taken for a saved page nor reported at a negative offset. Real files, built in tmp_path."""

from __future__ import annotations

import gzip
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.errors import WarcDamaged
from pipelines.filekind import FileKind, file_kind
from pipelines.warc import read_warc
from scraper.cli import cli
from tests.warc_helpers import HTML, REFERENCE_URL, reference_html, write_warc

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02"
       b"\x02D\x01\x00;")
PAGES = [(REFERENCE_URL, "text/html", reference_html()), ("https://gdxk.southcn.com/cz/logo.gif", "image/gif", GIF)]


def write_arc(path: Path, pages: list[tuple[str, str, bytes]], gzipped: bool = False) -> Path:
    """An ARC 1.0 file as the Internet Archive's crawlers wrote them: a filedesc record, then one record per
    response (URL, IP, 14-digit date, type, length, then the HTTP response); gzipped one record a member."""
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [b"filedesc://%s 0.0.0.0 20200102030405 text/plain %d\n%s\n" % (path.name.encode(), len(version),
                                                                              version)]
    for url, content_type, body in pages:
        http = (b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (content_type.encode(),
                                                                                          len(body))) + body
        records.append(b"%s 127.0.0.1 20200102030405 %s %d\n%s\n" % (url.encode(), content_type.encode(), len(http),
                                                                     http))
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if gzipped else b"".join(records))
    return path


def write_wacz(path: Path, warc: Path, compression: int = zipfile.ZIP_STORED) -> Path:
    """A WACZ: its WARC stored (uncompressed) in archive/, beside the indexes and the datapackage."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wacz:
        wacz.writestr("datapackage.json", '{"profile": "data-package", "wacz_version": "1.1.1"}')
        wacz.writestr("indexes/index.cdx", "com,southcn,gdxk)/ 20200102030405 {}\n")
        wacz.write(warc, f"archive/{warc.name}", compress_type=compression)
    return path


def import_(db: Path, *files: Path):
    return CliRunner().invoke(cli, ["import", *map(str, files), "--db", str(db), "--no-drift-check"])


def reparse(db: Path):
    return CliRunner().invoke(cli, ["reparse", "--db", str(db)])


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"select count(*) from [{table}]").fetchone()[0]
    finally:
        conn.close()


def errors(result) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith("Error")]


@pytest.mark.parametrize("gzipped", [False, True], ids=["arc", "arc.gz"])
def test_an_arc_file_is_read_and_read_back(tmp_path, gzipped):
    arc = write_arc(tmp_path / ("old.arc.gz" if gzipped else "old.arc"), PAGES, gzipped)
    db = tmp_path / "archive.db"
    first = import_(db, arc)
    assert first.exit_code == 0, first.output
    assert "new 1, updated 0, unchanged 0, failed 0, not HTML 1" in first.output
    conn = sqlite3.connect(db)
    assert conn.execute("select url, published_at is not null from articles").fetchall() == [(REFERENCE_URL, 1)]
    assert conn.execute("select fetched_at from captures where url = ?", [REFERENCE_URL]).fetchone() == (
        "2020-01-02T03:04:05Z",)
    conn.close()
    again = import_(db, arc)  # an ARC names no record id: the same file again is the same captures
    assert again.exit_code == 0 and "unchanged 1" in again.output
    assert count(db, "captures") == 2
    reparsed = reparse(db)
    assert reparsed.exit_code == 0 and "unchanged 1, failed 0" in reparsed.output, reparsed.output


def test_a_wacz_is_read_and_read_back(tmp_path):
    warc = write_warc(tmp_path / "data.warc.gz", [(url, HTML if t == "text/html" else t, body)
                                                  for url, t, body in PAGES])
    wacz = write_wacz(tmp_path / "crawl.wacz", warc)
    warc.unlink()  # the WACZ alone holds the captures now
    db = tmp_path / "archive.db"
    result = import_(db, wacz)
    assert result.exit_code == 0, result.output
    assert "new 1, updated 0, unchanged 0, failed 0, not HTML 1" in result.output
    assert count(db, "captures") == 2
    reparsed = reparse(db)  # each capture read back from its offset in the .wacz
    assert reparsed.exit_code == 0 and "unchanged 1, failed 0" in reparsed.output, reparsed.output


def test_a_wacz_whose_warc_is_compressed_in_the_zip_is_named(tmp_path):
    warc = write_warc(tmp_path / "data.warc", [(REFERENCE_URL, HTML, reference_html())], gzip=False)
    wacz = write_wacz(tmp_path / "odd.wacz", warc, zipfile.ZIP_DEFLATED)
    result = import_(tmp_path / "archive.db", wacz)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert "odd.wacz" in line and "archive/data.warc is compressed inside the zip" in line


def whole_gzip(path: Path) -> Path:
    plain = write_warc(path.with_name("plain.warc"), [(REFERENCE_URL, HTML, reference_html())] * 3, gzip=False)
    path.write_bytes(gzip.compress(plain.read_bytes()))  # `gzip file.warc`: one member for every record
    plain.unlink()
    return path


@pytest.mark.parametrize(("name", "make", "words"), [
    ("whole.warc.gz", whole_gzip, ["a WARC gzipped as a whole", "warcio recompress"]),
    ("index.cdx.gz", lambda p: p.write_bytes(gzip.compress(
        b" CDX N b a m s k r M S V g\ncom,southcn,gdxk)/cz 20200102030405 https://gdxk.southcn.com/cz/ text/html "
        b"200 ABC - - 1234 0 data.warc.gz\n")), ["a CDX index", "import the WARC files it indexes"]),
    ("index.cdxj", lambda p: p.write_bytes(b'com,southcn,gdxk)/cz 20200102030405 {"url": "https://x/"}\n'),
     ["a CDX index"]),
    ("notes.txt", lambda p: p.write_text("Things to archive:\n- the theory column\n"),
     ["a text file, not an HTML page"]),
    ("photos.zip", lambda p: zipfile.ZipFile(p, "w").close(), ["a zip file with no WARC"]),
    ("page.html.gz", lambda p: p.write_bytes(gzip.compress(reference_html())), ["a gzip file that holds no WARC",
                                                                               "gunzip it"]),
    ("empty.html", lambda p: p.write_bytes(b""), ["an empty file"]),
])
def test_a_file_that_is_no_warc_nor_page_is_named_in_one_line(tmp_path, name, make, words):
    path = tmp_path / name
    make(path)
    db = tmp_path / "archive.db"
    result = import_(db, path)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith(f"Error: {path}: ")
    for word in words:
        assert word in line, line
    assert "--url" not in line and "offset -" not in result.output
    assert "failed 1" in result.output
    assert count(db, "captures") == 0



@pytest.mark.parametrize(("name", "text"), [
    ("passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"),
    ("feed.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>潮州</title></channel></rss>\n'),
    ("reply.eml", "<editor@example.com> wrote:\n> the theory column\n"),
])
def test_a_text_file_that_is_no_page_is_named_as_text_not_asked_for_its_url(tmp_path, name, text):
    """`scraper import /etc/passwd`: a text file is a text file, whatever it starts with; asking for the URL of
    a page it never was sends the user the wrong way."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "archive.db"
    result = import_(db, path)
    assert result.exit_code == 1
    (line,) = errors(result)
    assert line.startswith(f"Error: {path}: a text file, not an HTML page, not read: "), line
    assert "--url" not in result.output
    assert count(db, "captures") == 0


def test_a_page_whose_url_is_unknown_is_still_asked_for_it(tmp_path):
    """The other side of the line above: markup that is a page (an XHTML one behind its XML declaration) is read
    as one, and only its URL is missing."""
    path = tmp_path / "page.xhtml"
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>'
                    "<p>正文</p></body></html>\n", encoding="utf-8")
    result = import_(tmp_path / "archive.db", path)
    (line,) = errors(result)
    assert "--url" in line

def test_a_warc_is_known_by_its_bytes_not_its_name(tmp_path):
    warc = write_warc(tmp_path / "saved-page.html", [(REFERENCE_URL, HTML, reference_html())])
    result = import_(tmp_path / "archive.db", warc)
    assert result.exit_code == 0 and "new 1" in result.output, result.output


def test_file_kinds(tmp_path):
    made = {
        "a.warc": write_warc(tmp_path / "a.warc", PAGES, gzip=False),
        "a.warc.gz": write_warc(tmp_path / "a.warc.gz", PAGES),
        "a.arc": write_arc(tmp_path / "a.arc", PAGES),
        "a.arc.gz": write_arc(tmp_path / "a.arc.gz", PAGES, gzipped=True),
        "whole.warc.gz": whole_gzip(tmp_path / "whole.warc.gz"),
    }
    made["a.wacz"] = write_wacz(tmp_path / "a.wacz", made["a.warc.gz"])
    (tmp_path / "page.htm").write_bytes(b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body>x</body></html>")
    (tmp_path / "utf16.html").write_bytes("<html><body>x</body></html>".encode("utf-16"))
    kinds = {name: file_kind(path) for name, path in made.items()}
    kinds.update({name: file_kind(tmp_path / name) for name in ("page.htm", "utf16.html")})
    assert kinds == {"a.warc": FileKind.WARC, "a.warc.gz": FileKind.WARC, "a.arc": FileKind.ARC,
                     "a.arc.gz": FileKind.ARC, "whole.warc.gz": FileKind.WHOLE_GZIP, "a.wacz": FileKind.WACZ,
                     "page.htm": FileKind.HTML, "utf16.html": FileKind.HTML}


def test_reading_a_warc_gzipped_whole_never_gives_a_negative_offset(tmp_path):
    # What read_warc itself says if it is handed such a file (the import asks pipelines.filekind first).
    whole = whole_gzip(tmp_path / "whole.warc.gz")
    with pytest.raises(WarcDamaged) as caught:
        list(read_warc(whole))
    assert caught.value.offset == 0 and "one record each" in str(caught.value)
