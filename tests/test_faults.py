"""The fault matrix, part 1: one fetch against a server that misbehaves in each way a real one does.

Each row names the fault, how tests.fault_server produces it, and what `scraper.fetch.fetch` must do: return the
response, or raise a FetchError that says why, within a bounded time, after a bounded number of requests, with
bounded memory. Part 2 (test_fault_crawl.py) runs whole crawls through the same faults.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from dataclasses import dataclass, field

import pytest

from pipelines.errors import BodyTooLarge, UnreadableBody
from scraper import USER_AGENT
from scraper.fetch import FetchError, FetchPolicy, OutOfScope, ResponseTooLarge, _redirect_target, fetch, make_session
from scraper.polite import Scope, Throttle, fetch_robots
from tests import fault_server as fs

POLICY = FetchPolicy(connect_timeout=1, read_timeout=0.5, deadline=1.5, retries=2, body_retries=1, backoff=0.01,
                     retry_after_max=2, max_bytes=2 * 1024 * 1024)
PAGE = fs.html("<html><head><title>好</title></head><body><p>正文。</p></body></html>")


def lazy(make):
    """A behaviour built at request time (an HTTP date must be computed when it is sent)."""
    return lambda conn: make()(conn)


@dataclass
class Fault:
    name: str
    behaviours: list
    status: int | None = None  # the final status fetch returns; None: it raises
    error: type[Exception] = FetchError
    message: str = ""  # a regex the error's reason matches
    hits: int | None = None  # requests the server saw, exactly
    max_seconds: float = 5.0
    min_gap: float = 0.0  # at least this long between the first two requests (Retry-After obeyed)
    decode_error: type[Exception] | None = None  # decoded_body(max_bytes) must raise this
    extra: dict = field(default_factory=dict)


FAULTS = [
    Fault("429 with Retry-After in seconds", [fs.respond(429, headers={"Retry-After": "1"}), PAGE], status=200,
          hits=2, min_gap=0.9),
    Fault("429 with Retry-After as an HTTP date",
          [lazy(lambda: fs.respond(429, headers={"Retry-After": fs.retry_after_date(2)})), PAGE],
          status=200, hits=2, min_gap=0.9),
    Fault("429 with a Retry-After of an hour (capped)", [fs.respond(429, headers={"Retry-After": "3600"}), PAGE],
          status=200, hits=2, min_gap=1.5, max_seconds=4),
    *[Fault(f"{code} burst, then 200", [fs.respond(code), fs.respond(code), PAGE], status=200, hits=3)
      for code in (500, 502, 503, 504)],
    Fault("persistent 503", [fs.respond(503)], status=503, hits=POLICY.retries + 1),
    Fault("404", [fs.respond(404, b"not found")], status=404, hits=1),
    Fault("410", [fs.respond(410, b"gone")], status=410, hits=1),
    Fault("connection reset before any response", [fs.refuse_connection()], message="request failed|gave up",
          hits=POLICY.retries + 1),
    Fault("headers that never come", [fs.stall_headers()], message="timed out|gave up",
          hits=POLICY.retries + 1, max_seconds=(POLICY.retries + 1) * POLICY.read_timeout + 2),
    Fault("headers dripped a byte at a time", [fs.drip(b"<p>x</p>", every=0.1, head_too=True)],
          message="deadline", max_seconds=(POLICY.body_retries + 1) * POLICY.deadline * (POLICY.retries + 1) + 2),
    Fault("a body that stalls", [fs.stall_body()], message="^body:", hits=POLICY.body_retries + 1,
          max_seconds=(POLICY.body_retries + 1) * (POLICY.read_timeout + 0.5) + 2),
    Fault("a body dripped slower than the deadline", [fs.drip(b"<p>" + b"x" * 200, every=0.1)],
          message="deadline", hits=POLICY.body_retries + 1,
          max_seconds=(POLICY.body_retries + 1) * POLICY.deadline + 2),
    Fault("connection reset mid-body", [fs.reset_mid_body()], message="^body: connection broke",
          hits=POLICY.body_retries + 1),
    Fault("connection reset mid-body once, then whole", [fs.reset_mid_body(), PAGE], status=200, hits=2),
    Fault("Content-Length longer than the body", [fs.respond(200, b"<p>short</p>", {"Content-Type": "text/html"},
                                                             content_length=5000)],
          message="^body:", hits=POLICY.body_retries + 1),
    Fault("broken chunked encoding", [fs.broken_chunked()], message="^body:", hits=POLICY.body_retries + 1),
    Fault("chunked body cut short", [fs.truncated_chunked()], message="^body:", hits=POLICY.body_retries + 1),
    Fault("a huge body, no Content-Length", [fs.endless()], error=ResponseTooLarge, message="cap", hits=1),
    Fault("a huge Content-Length", [fs.endless(content_length=10 ** 12)], error=ResponseTooLarge,
          message="Content-Length", hits=1),
    Fault("a gzip bomb (200 MB of zeros in 200 kB)", [fs.gzip_bomb()], status=200, hits=1,
          decode_error=BodyTooLarge),
    Fault("Content-Encoding gzip on a plain body", [fs.lying_gzip()], status=200, decode_error=UnreadableBody),
    Fault("a gzip body cut short", [fs.cut_gzip()], status=200, decode_error=UnreadableBody),
    Fault("a status line that is not HTTP", [fs.raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")],
          message="request failed|gave up|body:"),
    Fault("binary garbage instead of a response", [fs.raw(bytes(range(256)) * 4)],
          message="request failed|gave up|body:"),
    Fault("a redirect loop", [fs.redirect("/cz/loop.html")], message="redirects",
          hits=POLICY.max_redirects + 1),
    Fault("a redirect to a malformed URL", [fs.redirect("http://[::1/cz/x.html")], message="unreadable", hits=1),
    Fault("a redirect to file:///etc/passwd", [fs.redirect("file:///etc/passwd")], error=OutOfScope,
          message="non-HTTP", hits=1),
    *[Fault(f"a redirect to {target}", [fs.redirect(target)], error=OutOfScope, message="outside", hits=1)
      for target in ("http://10.0.0.1/cz/a.html", "http://192.168.1.1/cz/a.html",
                     "http://169.254.169.254/latest/meta-data/", "http://[::1]/cz/a.html",
                     "http://127.0.0.2/cz/a.html", "http://localhost/cz/a.html", "/zh/other-collection.html")],
]


@pytest.fixture
def server():
    with fs.FaultServer(max_wait=10) as srv:
        yield srv


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fetch_survives(server, fault):
    path = "/cz/loop.html" if "loop" in fault.name else "/cz/fault.html"
    server.route(path, *fault.behaviours)
    scope = Scope.around(server.base + "/cz/")
    started = time.monotonic()
    tracemalloc.start()
    try:
        try:
            result = fetch(make_session(POLICY), server.base + path, scope.allows, POLICY)
        except FetchError as exc:
            result, error = None, exc
        if result is not None and fault.decode_error:
            with pytest.raises(fault.decode_error):
                result.final.decoded_body(POLICY.max_bytes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    if fault.status is not None:
        assert result is not None, f"raised {error!r}"
        assert result.final.status == fault.status
    else:
        assert result is None, f"returned HTTP {result.final.status}"
        assert type(error) is fault.error or isinstance(error, fault.error), repr(error)
        assert re.search(fault.message, error.reason), error.reason
    assert elapsed < fault.max_seconds, f"took {elapsed:.1f}s"
    # Memory: the body cap bounds what one fetch holds (a body and its decompressed copy), whatever was sent.
    assert peak < 3 * POLICY.max_bytes + 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    if fault.hits is not None:
        assert server.count() == fault.hits
    if fault.min_gap:
        first, second = server.times(path)[:2]
        assert second - first >= fault.min_gap
    assert server.count("/zh/other-collection.html") == 0


def test_connection_refused_fails_fast():
    url = f"http://127.0.0.1:{fs.closed_port()}/cz/a.html"
    started = time.monotonic()
    with pytest.raises(FetchError, match="request failed|gave up"):
        fetch(make_session(POLICY), url, policy=POLICY)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("target", [
    "http://10.1.2.3/cz/a.html", "http://172.16.0.1/cz/a.html", "http://192.168.0.1/cz/a.html",
    "http://127.0.0.1:8080/cz/a.html", "http://169.254.169.254/latest/meta-data/", "http://[::1]/cz/a.html",
    "http://[fd00::1]/cz/a.html", "http://[fe80::1]/cz/a.html", "http://0.0.0.0/cz/a.html",
    "http://localhost/cz/a.html", "http://[::ffff:127.0.0.1]/cz/a.html", "http://100.64.0.1/cz/a.html",
])
def test_redirect_from_a_public_site_to_a_private_address_is_refused_without_scope(target):
    # No scope given at all: the private-address rule still holds on its own.
    with pytest.raises(OutOfScope, match="private"):
        _redirect_target("https://gdxk.southcn.com/cz/a.html", "https://gdxk.southcn.com/cz/a.html", target, [])
    assert _redirect_target("http://127.0.0.1:1/cz/", "http://127.0.0.1:1/cz/", target, []) == target


# -- robots.txt faults ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,behaviour,state", [
    ("robots.txt 404", fs.respond(404, b"nope"), "allow-all"),
    ("robots.txt 410", fs.respond(410, b"gone"), "allow-all"),
    ("robots.txt 503", fs.respond(503, b"busy"), "unavailable"),
    ("robots.txt 500", fs.respond(500), "unavailable"),
    ("robots.txt timeout", fs.stall_headers(), "unavailable"),
    ("robots.txt reset", fs.reset_mid_body(b"User-agent: *\nDisallow: /\n" * 100, cut=30), "unavailable"),
    ("robots.txt gzip bomb", fs.gzip_bomb(content_type="text/plain"), "rules"),
    ("robots.txt binary garbage", fs.respond(200, bytes(range(256)) * 40, {"Content-Type": "text/plain"}), "rules"),
])
def test_robots_faults(server, name, behaviour, state):
    server.route("/robots.txt", behaviour)
    _, robots = fetch_robots(make_session(POLICY), Scope.around(server.base + "/cz/"), POLICY)
    assert robots.state == state, robots.detail
    assert robots.allows(server.base + "/cz/a.html", USER_AGENT) is (state != "unavailable")


def test_the_pause_grows_with_each_refusal_and_comes_back_after_a_success():
    slept = []
    throttle = Throttle(delay=1.0, backoff_start=5.0, backoff_max=60.0, sleep=slept.append)
    assert [throttle.refused() for _ in range(5)] == [5.0, 10.0, 20.0, 40.0, 60.0]  # doubling, capped
    throttle.recovered()
    assert throttle.refused(retry_after=30) == 30.0  # Retry-After wins over the first step
    throttle.wait()
    throttle.wait()
    assert slept and slept[-1] > 29
    throttle.recovered()
    throttle.wait()
    assert slept[-1] < 1.6  # back to the ordinary delay (randomised ×0.5–1.5)
    assert Throttle(delay=0.0, backoff_start=0.0).refused() == 0.0  # a local mirror with no pause at all
