"""Decoding from bytes: BOM, HTTP charset, <meta>, strict UTF-8, detector; and the reason recorded."""

import pytest

from scraper.decode import decode_html, normalise_encoding

TEXT = "开展机关党建工作，一定要把党的政治建设摆在首位。"


def page(charset_meta: str = "", body: str = TEXT) -> str:
    return f"<html><head>{charset_meta}<title>标题</title></head><body><p>{body}</p></body></html>"


def test_bom_wins_over_everything():
    data = b"\xef\xbb\xbf" + page('<meta charset="gbk">').encode("utf-8")
    decoded = decode_html(data, "text/html; charset=iso-8859-1")
    assert decoded.encoding_source == "bom"
    assert TEXT in decoded.text


def test_http_charset_before_meta():
    data = page('<meta charset="utf-8">').encode("gb18030")
    decoded = decode_html(data, "text/html; charset=GBK")
    assert (decoded.encoding, decoded.encoding_source) == ("gb18030", "http-header")
    assert TEXT in decoded.text


def test_meta_http_equiv_gb2312_is_widened_to_gb18030():
    # 镕 is outside GB2312 but inside GBK/GB18030: pages that declare gb2312 use such characters.
    body = TEXT + "朱镕基"
    data = page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', body).encode("gb18030")
    decoded = decode_html(data, "text/html")
    assert (decoded.encoding, decoded.encoding_source) == ("gb18030", "meta")
    assert "朱镕基" in decoded.text


def test_undeclared_utf8_is_read_strictly():
    decoded = decode_html(page().encode("utf-8"), None)
    assert (decoded.encoding, decoded.encoding_source) == ("utf-8", "utf-8")


def test_undeclared_gbk_falls_to_the_detector():
    decoded = decode_html(page(body=TEXT * 5).encode("gbk"), "text/html")
    assert decoded.encoding_source == "detector"
    assert TEXT in decoded.text


def test_header_charset_that_lies_is_passed_over():
    data = page('<meta charset="gbk">', TEXT * 3).encode("gbk")
    decoded = decode_html(data, "text/html; charset=utf-8")
    assert decoded.encoding_source == "meta"
    assert TEXT in decoded.text


@pytest.mark.parametrize("name,expected", [("GB2312", "gb18030"), ("gbk", "gb18030"), ("UTF8", "utf-8"),
                                           ("nonsense-charset", None), ("", None)])
def test_normalise_encoding(name, expected):
    assert normalise_encoding(name) == expected


def stray_bytes_page() -> bytes:
    data = page('<meta charset="gb2312">', TEXT * 40).encode("gb18030")
    return data.replace("一定".encode("gb18030"), b"\xff\xff", 1)


def test_declared_gb2312_with_a_few_stray_bytes_keeps_its_charset():
    # Real GB2312 pages carry a stray byte or two; a browser shows U+FFFD there and reads the rest.
    data = stray_bytes_page()
    decoded = decode_html(data, "text/html")
    assert (decoded.encoding, decoded.encoding_source) == ("gb18030", "meta")
    assert decoded.replaced >= 1 and TEXT in decoded.text


def test_stray_bytes_are_reported_in_the_article_warnings():
    from scraper.parse import parse_article

    data = stray_bytes_page()
    article = parse_article(data, "https://example.cn/a.html")
    assert any(w.startswith("encoding:") for w in article.warnings)
