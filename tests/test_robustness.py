"""No input crashes the parser: arbitrary bytes and mutated pages give an Article or NotAnArticle, nothing else."""

from importlib import resources
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.decode import decode_html
from scraper.errors import NotAnArticle
from scraper.parse import parse_article
from scraper.urls import canonicalize_url

SAMPLE = resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()
FIXTURE_PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))
URL = "https://gdxk.southcn.com/cz/llwzllzz/content/post_123456.html"


def parse_or_reject(data: bytes, url: str = URL) -> None:
    try:
        article = parse_article(data, url)
    except NotAnArticle as exc:
        assert str(exc)
        return
    assert article.paragraphs, "an Article is only returned with a body"
    assert article.url


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(data):
    parse_or_reject(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_arbitrary_text_as_html_never_crashes(text):
    parse_or_reject(("<html><body>" + text).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_fixture_pages_never_crash(data):
    source = data.draw(st.sampled_from([SAMPLE] + [p.read_bytes() for p in FIXTURE_PAGES]))
    page = bytearray(source)
    for _ in range(data.draw(st.integers(1, 30))):
        op = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        pos = data.draw(st.integers(0, max(0, len(page) - 1)))
        if op == "flip" and page:
            page[pos] = data.draw(st.integers(0, 255))
        elif op == "delete":
            del page[pos:pos + data.draw(st.integers(1, 400))]
        elif op == "insert":
            page[pos:pos] = data.draw(st.sampled_from([b"<div>", b"</p>", b"<br>", b"<!--", b"<script>", b"\x00",
                                                       b"\xff\xfe", "来源：".encode(), b"<", b"&#0;", b"]]>"]))
        else:
            del page[pos:]
    parse_or_reject(bytes(page))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.one_of(st.none(), st.text(max_size=60)))
def test_decoding_never_raises(data, content_type):
    decoded = decode_html(data, content_type)
    assert isinstance(decoded.text, str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_canonical_url_is_idempotent_and_total(text):
    once = canonicalize_url(text)
    assert canonicalize_url(once) == once


@given(st.sampled_from(["utm_source=x", "spm=1.2", "from=timeline", "share_token=abc"]))
def test_tracking_parameters_are_removed(param):
    url = f"https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html?{param}#comments"
    assert canonicalize_url(url) == "https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html"


def test_a_page_ten_megabytes_long_parses_in_bounded_time():
    paragraph = "<p>　　开展机关党建工作，一定要把党的政治建设摆在首位，发挥统领作用。</p>\n".encode()
    big = SAMPLE.replace(b"</div>\n<div class=\"footer\">", paragraph * 100_000 + b"</div>\n<div class=\"footer\">")
    assert len(big) > 10_000_000
    article = parse_article(big, URL)
    assert len(article.paragraphs) >= 100_000


def test_deeply_nested_page_does_not_exhaust_recursion():
    deep = b"<html><body>" + b"<div>" * 100_000 + "正文，内容。".encode() * 20 + b"</div>" * 100_000
    parse_or_reject(deep)
