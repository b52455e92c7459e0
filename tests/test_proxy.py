"""`scraper crawl --proxy URL`: a user who reaches the web only through a proxy names it, and every request goes
through it (the environment's proxy settings are never read), recorded in the WARC's warcinfo record."""

from __future__ import annotations

import base64
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from scraper.cli import cli

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding", "te",
               "trailer", "upgrade"}


class Proxy:
    """A forwarding HTTP proxy on 127.0.0.1: it answers `GET http://host:port/path` by asking the origin and
    relays its answer as it is (status, headers, undecoded body), never following a redirect."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []  # the request line's target, Proxy-Authorization
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                proxy.requests.append((self.path, self.headers.get("Proxy-Authorization")))
                target = urlsplit(self.path)
                if target.scheme != "http" or not target.hostname:
                    self.send_error(400, "a proxy wants an absolute URI")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                origin = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
                try:
                    origin.request("GET", target.path + (f"?{target.query}" if target.query else ""),
                                   headers=headers)
                    answer = origin.getresponse()
                    body = answer.read()
                finally:
                    origin.close()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    server = Proxy()
    server._thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def warcinfo_fields(warc_dir) -> list[dict[str, str]]:
    found = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                if record.rec_type == "warcinfo":
                    text = record.content_stream().read().decode("utf-8")
                    found.append(dict(line.split(": ", 1) for line in text.splitlines() if ": " in line))
    return found


def test_a_crawl_with_proxy_sends_every_request_through_it(site, collection, proxy, db_path, monkeypatch):
    # A proxy in the environment that answers nothing: the crawl must not use it, --proxy is the one.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    result = CliRunner().invoke(cli, ["crawl", site.base + "/cz/", "--db", str(db_path), "--delay", "0",
                                      "--max-articles", "3", "--no-drift-check",
                                      "--proxy", f"http://reader:s3cret@127.0.0.1:{proxy.port}"])
    assert result.exit_code == 0, result.output
    assert "new 3" in result.output
    # Every request the site saw came through the proxy, as an absolute URI with the user's credentials.
    assert site.count() > 3 and len(proxy.requests) == site.count()
    assert {urlsplit(target).netloc for target, _ in proxy.requests} == {f"127.0.0.1:{site.port}"}
    assert any(urlsplit(target).path == "/robots.txt" for target, _ in proxy.requests)
    credentials = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    assert {auth for _, auth in proxy.requests} == {credentials}
    # The site never sees the credentials the proxy was given.
    assert not any("Proxy-Authorization" in hit.headers for hit in site.hits)
    # The warcinfo record says which proxy the captures came through, without its password.
    infos = warcinfo_fields(db_path.parent / "archive")
    assert infos and all(info.get("proxy") == f"http://127.0.0.1:{proxy.port}" for info in infos)
    assert not any("s3cret" in value for info in infos for value in info.values())


def test_a_crawl_without_proxy_records_none_and_ignores_the_environment(site, collection, proxy, db_path,
                                                                        monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    result = CliRunner().invoke(cli, ["crawl", site.base + "/cz/", "--db", str(db_path), "--delay", "0",
                                      "--max-articles", "2", "--no-drift-check"])
    assert result.exit_code == 0, result.output
    assert proxy.requests == [] and site.count() > 2
    assert all("proxy" not in info for info in warcinfo_fields(db_path.parent / "archive"))


@pytest.mark.parametrize("value", ["127.0.0.1:3128", "socks5://127.0.0.1:1080", "http://", "http://host:99999"])
def test_a_proxy_that_is_no_http_url_is_a_usage_error(value, db_path):
    # A start URL on a port nothing listens on: were the value let through, no request could leave this machine.
    result = CliRunner().invoke(cli, ["crawl", "http://127.0.0.1:9/cz/", "--db", str(db_path), "--proxy", value])
    assert result.exit_code == 2
    assert f"Invalid value for --proxy: {value!r} is not an http(s) URL" in result.output
    assert not db_path.exists()


def test_the_deadline_holds_through_a_proxy(site):
    """A proxy that drips its answer a byte at a time is cut off at the request's deadline, as a site is: the
    proxy's sockets are the crawl's own guarded ones."""
    import time

    from scraper.fetch import FetchError, FetchPolicy, fetch, make_session

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 60\r\n\r\n")
            for _ in range(60):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.25)

        def log_message(self, *args):
            pass

    drip = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    drip.daemon_threads = True
    threading.Thread(target=drip.serve_forever, daemon=True).start()
    try:
        policy = FetchPolicy(backoff=0.01, retries=0, body_retries=0, connect_timeout=2, read_timeout=2,
                             deadline=1)
        session = make_session(policy, proxy=f"http://127.0.0.1:{drip.server_address[1]}")
        started = time.monotonic()
        with pytest.raises(FetchError):
            fetch(session, site.base + "/cz/", policy=policy)
        assert time.monotonic() - started < 6  # the drip takes 15 s
    finally:
        drip.shutdown()
        drip.server_close()
