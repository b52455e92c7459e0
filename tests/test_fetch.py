"""Fetching against a real server on 127.0.0.1: retries, Retry-After, redirects in and out of scope, caps."""

import gzip

import pytest

from pipelines.errors import BodyTooLarge
from scraper import USER_AGENT
from scraper.fetch import FetchError, FetchPolicy, OutOfScope, ResponseTooLarge, fetch, make_session
from scraper.polite import Scope, Throttle, fetch_robots
from tests.site_server import Reply

FAST = FetchPolicy(backoff=0.01, retries=3, body_retries=1, connect_timeout=2, read_timeout=2, deadline=10,
                   retry_after_max=2)


def test_user_agent_names_the_project(site):
    site.route("/cz/a.html", Reply.html("<p>正文</p>"))
    fetch(make_session(FAST), site.base + "/cz/a.html", policy=FAST)
    assert site.hits[0].headers["User-Agent"] == USER_AGENT
    assert "chaozhou-archive" in USER_AGENT and "http" in USER_AGENT


def test_503_then_200_is_retried(site):
    site.route("/cz/a.html", Reply(503), Reply(503), Reply.html("<p>好</p>"))
    result = fetch(make_session(FAST), site.base + "/cz/a.html", policy=FAST)
    assert result.final.status == 200 and result.retries == 2
    assert site.count("/cz/a.html") == 3


def test_429_retry_after_is_obeyed(site):
    site.route("/cz/a.html", Reply(429, headers={"Retry-After": "1"}), Reply.html("<p>好</p>"))
    result = fetch(make_session(FAST), site.base + "/cz/a.html", policy=FAST)
    assert result.final.status == 200
    first, second = site.hits
    assert second.at - first.at >= 0.9


def test_persistent_500_returns_the_last_response(site):
    site.route("/cz/a.html", Reply(500))
    result = fetch(make_session(FAST), site.base + "/cz/a.html", policy=FAST)
    assert result.final.status == 500 and site.count("/cz/a.html") == FAST.retries + 1


def test_redirect_hops_are_recorded_and_followed_in_scope(site):
    site.route("/cz/old.html", Reply(301, headers={"Location": "/cz/new.html"}))
    site.route("/cz/new.html", Reply.html("<p>新</p>"))
    scope = Scope.around(site.base + "/cz/old.html")
    result = fetch(make_session(FAST), site.base + "/cz/old.html", scope.allows, FAST)
    assert [h.status for h in result.hops] == [301, 200]
    assert result.final.url == site.base + "/cz/new.html"


def test_redirect_off_site_is_never_requested(site):
    site.route("/cz/away.html", Reply(302, headers={"Location": "http://127.0.0.2:9/cz/x.html"}))
    site.route("/cz/up.html", Reply(302, headers={"Location": "/zh/x.html"}))
    scope = Scope.around(site.base + "/cz/")
    for path in ("/cz/away.html", "/cz/up.html"):
        with pytest.raises(OutOfScope) as info:
            fetch(make_session(FAST), site.base + path, scope.allows, FAST)
        assert info.value.hops[0].status == 302
    assert site.count("/zh/x.html") == 0


def test_redirect_loop_stops(site):
    site.route("/cz/a.html", Reply(302, headers={"Location": "/cz/b.html"}))
    site.route("/cz/b.html", Reply(302, headers={"Location": "/cz/a.html"}))
    with pytest.raises(FetchError, match="redirects"):
        fetch(make_session(FAST), site.base + "/cz/a.html", policy=FAST)
    assert site.count() == FAST.max_redirects + 1


def test_body_over_the_cap_is_aborted(site):
    site.route("/cz/big.html", Reply.html(b"x" * 50_000))
    small = FetchPolicy(**{**FAST.__dict__, "max_bytes": 10_000})
    with pytest.raises(ResponseTooLarge):
        fetch(make_session(small), site.base + "/cz/big.html", policy=small)


def test_gzip_bomb_is_stopped_at_the_cap(site):
    bomb = gzip.compress(b"\0" * 50_000_000)
    site.route("/cz/bomb.html", Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    result = fetch(make_session(FAST), site.base + "/cz/bomb.html", policy=FAST)
    assert len(result.final.body) == len(bomb)  # stored as sent
    with pytest.raises(BodyTooLarge):
        result.final.decoded_body(1_000_000)


def test_headers_that_never_come_time_out(site):
    site.route("/cz/slow.html", Reply(200, "<p>慢</p>".encode(), {"Content-Type": "text/html"}, delay=3))
    quick = FetchPolicy(**{**FAST.__dict__, "read_timeout": 0.5, "retries": 0})
    with pytest.raises(FetchError, match="timed out|gave up|failed"):
        fetch(make_session(quick), site.base + "/cz/slow.html", policy=quick)


@pytest.mark.parametrize("status,state", [(404, "allow-all"), (410, "allow-all"), (503, "unavailable"),
                                          (500, "unavailable")])
def test_robots_status_rules(site, status, state):
    site.route("/robots.txt", Reply(status, b"User-agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}))
    no_retry = FetchPolicy(**{**FAST.__dict__, "retries": 0})
    _, robots = fetch_robots(make_session(no_retry), Scope.around(site.base + "/cz/"), no_retry)
    assert robots.state == state
    assert robots.allows(site.base + "/cz/a.html", USER_AGENT) is (state == "allow-all")


def test_robots_rules_and_crawl_delay(site):
    site.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /cz/private/\nCrawl-delay: 2\n",
                                    {"Content-Type": "text/plain"}))
    _, robots = fetch_robots(make_session(FAST), Scope.around(site.base + "/cz/"), FAST)
    assert robots.allows(site.base + "/cz/a.html", USER_AGENT)
    assert not robots.allows(site.base + "/cz/private/a.html", USER_AGENT)
    assert robots.crawl_delay(USER_AGENT) == 2.0


def test_unreachable_robots_disallows():
    _, robots = fetch_robots(make_session(FAST), Scope.around("http://127.0.0.1:9/cz/"),
                             FetchPolicy(**{**FAST.__dict__, "retries": 0}))
    assert robots.state == "unavailable" and not robots.allows("http://127.0.0.1:9/cz/a", USER_AGENT)


def test_throttle_waits_at_least_the_crawl_delay_floor():
    slept = []
    throttle = Throttle(delay=0.0, floor=1.0, sleep=slept.append)
    throttle.wait()
    throttle.wait()
    assert slept and slept[-1] > 0.9
