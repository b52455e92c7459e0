"""No input crashes the parser: arbitrary bytes and mutated pages give an Article or NotAnArticle, nothing else."""

import contextlib
import gzip
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.errors import UnreadableBody
from pipelines.warc import Exchange
from scraper.decode import decode_html
from scraper.discover import MAX_LINKS, find_links
from scraper.errors import NotAnArticle
from scraper.fetch import FetchResult
from scraper.parse import parse_article
from scraper.polite import Scope, read_robots
from scraper.sites import article_page, identity_url
from scraper.urls import canonicalize_url, url_readings

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


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.builds(lambda path: "http://gdxk.southcn.com/cz/" + path,
                                                    st.text(max_size=80))))
@example("http://[gdxk/cz/llwzllzz/content/post_1.html")  # urlsplit raises on it (a saved page said so)
@example("http://gdxk.southcn.com/cz/a/content/post_1_2.html?t=1")
def test_identity_and_article_pages_never_raise(text):
    identity = identity_url(text)
    assert identity_url(identity) == identity
    page = article_page(text)
    assert page is None or page.number >= 1
    assert url_readings_or_none(text) is None or all(isinstance(u, str) for u in url_readings_or_none(text))


def url_readings_or_none(text: str) -> list[str] | None:
    try:
        return url_readings(text)
    except ValueError:  # documented: a URL that cannot be sent
        return None


@given(st.sampled_from(["utm_source=x", "spm=1.2", "from=timeline", "share_token=abc"]))
def test_tracking_parameters_are_removed(param):
    url = f"https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html?{param}#comments"
    assert canonicalize_url(url) == "https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html"


# Printed by the child as its last line: its own peak resident memory. Not getrusage's ru_maxrss, which on Linux
# starts a child at its parent's peak (a test runner that once held 600 MB makes every child "use" 600 MB).
_CHILD_PEAK = """
def _peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
"""


def bounded(code: str) -> tuple[float, float, str]:
    """Run code in a fresh interpreter: (its seconds, its own peak memory in MB, what it printed)."""
    wrapped = ("import time\nstarted = time.monotonic()\n" + _CHILD_PEAK + code +
               "\nprint(time.monotonic() - started, _peak_mb())")
    done = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    *out, last = done.stdout.strip().splitlines()
    seconds, megabytes = map(float, last.split())
    return seconds, megabytes, "\n".join(out)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the child's VmHWM from /proc")
@pytest.mark.slow
def test_the_memory_bound_is_the_child_s_own_peak_not_the_runner_s():
    held = b"x" * (700 * 1024 * 1024)  # the runner's peak is now at least 700 MB, as after the gzip-bomb tests
    _, megabytes, out = bounded("print(len(b'y' * (50 * 1024 * 1024)))")
    assert out == str(50 * 1024 * 1024) and len(held)
    assert 50 <= megabytes < 200, megabytes


@pytest.mark.slow
def test_a_page_ten_megabytes_long_parses_in_bounded_time_and_memory():
    # 100,000 paragraphs: about 3 s and 150 MB here.
    seconds, megabytes, out = bounded("""
from importlib import resources
from scraper.parse import parse_article
sample = resources.files("scraper").joinpath("samples/reference-article.html").read_bytes()
paragraph = "<p>　　开展机关党建工作，一定要把党的政治建设摆在首位，发挥统领作用。</p>\\n".encode()
big = sample.replace(b"</div>\\n<div class=\\"footer\\">", paragraph * 100_000 + b"</div>\\n<div class=\\"footer\\">")
assert len(big) > 10_000_000
print(len(parse_article(big, "https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html").paragraphs))
""")
    assert int(out) >= 100_000
    assert seconds < 30 and megabytes < 600, (seconds, megabytes)


@pytest.mark.slow
def test_a_listing_with_30000_links_is_read_so_far_in_bounded_time_and_memory():
    seconds, megabytes, out = bounded("""
from scraper.discover import find_links
links = b"".join(b'<li><a href="content/post_%d.html">x</a></li>' % i for i in range(30_000))
listing = find_links(b"<html><body><ul>" + links + b"</ul>", "https://gdxk.southcn.com/cz/llwzllzz/", "text/html")
print(len(listing.articles), listing.cut)
""")
    assert out == f"{MAX_LINKS} True"  # the first MAX_LINKS links, and the crawl says so
    assert seconds < 30 and megabytes < 600, (seconds, megabytes)


def test_deeply_nested_page_does_not_exhaust_recursion():
    started = time.monotonic()
    deep = b"<html><body>" + b"<div>" * 100_000 + "正文，内容。".encode() * 20 + b"</div>" * 100_000
    parse_or_reject(deep)
    # 100,000 unclosed paragraphs, each inside a quote: the parser's depth limit keeps the tree bounded.
    parse_or_reject(b"<html><body><h1>t</h1>" + "<blockquote><p>　　正文，内容。".encode() * 100_000)
    parse_or_reject(b"<html><body>" + b"<table><tr><td>" * 50_000 + "正文。".encode() * 50)
    assert time.monotonic() - started < 10


# -- the crawl's other readers of untrusted bytes ----------------------------------------------------------------
SCOPE = Scope.around("https://gdxk.southcn.com/cz/")
LISTING_PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*list*.html"))
# With a scheme: the crawl canonicalises only absolute URLs (links are joined to their page first). Without one,
# "/////host/" is not idempotent (urlunsplit turns a path of "//host/" into a netloc): see docs/reliability.md.
url_parts = st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", "http:"])
url_text = st.lists(st.sampled_from(list("aZ09.-_~:/?#[]@!$&'()*+,;=% \t\n") + ["潮州", "%e6%bd%ae", "\x00", "\u200b"]),
                    max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(url_parts, st.sampled_from(["gdxk.southcn.com", "GDXK.southcn.com.", "127.0.0.1:8001", "[::1]", "xn--fiq",
                                   "user:pw@host", "", "潮州.中国"]), url_text, url_text)
def test_canonical_url_is_idempotent_on_url_shaped_text(scheme, host, path, query):
    url = f"{scheme}://{host}/{path}?{query}"
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_scope_never_raises_and_never_leaves_the_host(url):
    if SCOPE.allows(url):
        assert url.lower().startswith("https://gdxk.southcn.com/cz/")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(lambda t: ("<html><body>" + t).encode(
    "utf-8", "surrogatepass"))), st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/html; charset=x"]))
def test_listing_links_never_raise_and_stay_in_scope(data, content_type):
    listing = find_links(data, "https://gdxk.southcn.com/cz/llwzllzz/", content_type, SCOPE.allows)
    for url in [u for u, _ in listing.articles] + listing.listings + listing.next_pages:
        assert SCOPE.allows(url)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["gzip", "deflate", "x-gzip", "br", "identity", ""]))
def test_decoding_a_body_raises_nothing_but_unreadable_body(body, encoding):
    for payload in (body, gzip.compress(body)[: len(body) or None]):
        exchange = Exchange("https://gdxk.southcn.com/cz/a.html", [], 200, "OK",
                            [("Content-Encoding", encoding)], payload, datetime.now(UTC))
        with contextlib.suppress(UnreadableBody):
            assert isinstance(exchange.decoded_body(1000), bytes)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)), st.integers(200, 599))
def test_robots_txt_of_any_content_never_raises(body, status):
    exchange = Exchange("https://gdxk.southcn.com/robots.txt", [], status, "", [], body, datetime.now(UTC))
    robots = read_robots(FetchResult(url=exchange.url, hops=[exchange]), None)
    assert robots.allows("https://gdxk.southcn.com/cz/a.html", "chaozhou-archive") in (True, False)
    robots.crawl_delay("chaozhou-archive")


def test_a_number_in_a_title_is_not_an_error_status():
    page = ("<html><head><title>第100404号 大事记</title></head><body><h1>第100404号 大事记</h1>"
            "<p>1992-04-23 来源：中共潮州市委党史研究室</p><p>潮州市召开会议，部署当年的工作。</p></body></html>")
    article = parse_article(page.encode("utf-8"), "https://example.cn/cz/dsj/content/post_1.html")
    assert article.title == "第100404号 大事记"
    error = page.replace("第100404号 大事记", "404 页面不存在")
    with pytest.raises(NotAnArticle, match="error page"):
        parse_article(error.encode("utf-8"), "https://example.cn/cz/dsj/content/post_2.html")
