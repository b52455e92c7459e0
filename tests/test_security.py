"""Security: the crawl's scope (host, path, private addresses) and nothing of the user's in the archive.

No DNS is used: names other than localhost are resolved by a patched socket.getaddrinfo, which is also how a
public name that resolves (or is re-bound) to 127.0.0.1 is simulated.
"""

from __future__ import annotations

import base64
import gzip
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from scraper import USER_AGENT
from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy, OutOfScope, fetch, make_session
from scraper.netguard import is_private_address, names_private_host
from scraper.polite import Scope
from tests import fault_server as fs
from tests.collection import Collection

ROOT = Path(__file__).resolve().parent.parent
POLICY = FetchPolicy(backoff=0.01, retries=1, body_retries=0, connect_timeout=1, read_timeout=2, deadline=5)


@pytest.mark.parametrize("address,private", [
    ("127.0.0.1", True), ("127.255.0.9", True), ("10.0.0.1", True), ("10.255.255.255", True),
    ("172.16.0.1", True), ("172.31.255.254", True), ("172.32.0.1", False), ("172.15.255.255", False),
    ("192.168.1.1", True), ("192.169.0.1", False), ("169.254.169.254", True), ("100.64.0.1", True),
    ("0.0.0.0", True), ("224.0.0.1", True), ("255.255.255.255", True),
    ("::1", True), ("::", True), ("fc00::1", True), ("fd12:3456::1", True), ("fe80::1", True),
    ("fe80::1%eth0", True), ("::ffff:127.0.0.1", True), ("::ffff:10.0.0.1", True), ("::ffff:8.8.8.8", False),
    ("8.8.8.8", False), ("14.215.177.38", False), ("2400:3200::1", False), ("2001:4860:4860::8888", False),
    ("gdxk.southcn.com", False), ("", False), ("not an address", False),
])
def test_address_classifier(address, private):
    assert is_private_address(address) is private


@pytest.mark.parametrize("host,private", [
    ("localhost", True), ("LOCALHOST.", True), ("api.localhost", True), ("[::1]", True), ("127.0.0.1", True),
    ("10.1.2.3", True), ("gdxk.southcn.com", False), ("localhost.example.com", False), (None, False),
])
def test_host_names_private(host, private):
    assert names_private_host(host) is private


def test_scope_refuses_private_addresses_unless_the_start_names_one():
    public = Scope.around("https://gdxk.southcn.com/cz/")
    for url in ("http://127.0.0.1/cz/a.html", "https://10.0.0.1/cz/a.html", "http://[::1]/cz/",
                "http://169.254.169.254/cz/", "http://localhost/cz/"):
        assert not public.allows(url)
    assert public.allows("https://gdxk.southcn.com/cz/llwzllzz/content/post_1.html")
    local = Scope.around("http://127.0.0.1:8001/cz/")
    assert local.allows("http://127.0.0.1:8001/cz/a.html")
    assert not local.allows("http://127.0.0.1:8002/cz/a.html"), "another port is another site"
    assert not local.allows("http://10.0.0.1/cz/a.html")


@pytest.fixture
def fake_dns(monkeypatch):
    """Resolve chosen names to chosen addresses (a list per name: one answer per lookup, the last repeats)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_public_name_resolving_to_loopback_is_never_requested(fake_dns):
    fake_dns["archive-mirror.example"] = ["127.0.0.1"]
    with fs.FaultServer() as server:
        server.route("/cz/a.html", fs.html("<p>secret admin page</p>"))
        url = f"http://archive-mirror.example:{server.port}/cz/a.html"
        with pytest.raises(OutOfScope, match="private or loopback"):
            fetch(make_session(POLICY), url, policy=POLICY)
        assert server.count() == 0, "a request reached the loopback address"
        # Named by the user (a start URL on an intranet mirror): allowed.
        session = make_session(POLICY, allow_private=("archive-mirror.example",))
        assert fetch(session, url, policy=POLICY).final.status == 200


def test_dns_rebinding_during_a_crawl_is_refused(fake_dns, tmp_path):
    # Public when the crawl starts, loopback afterwards: no request may reach the loopback server.
    fake_dns["gdxk-rebound.example"] = ["93.184.216.34", "127.0.0.1"]
    with fs.FaultServer() as server:
        Collection().publish(server)
        stats = run_crawl(CrawlOptions([f"http://gdxk-rebound.example:{server.port}/cz/"],
                                       db_path=str(tmp_path / "archive.db"), delay=0, policy=POLICY,
                                       drift_check=False))
        assert server.count() == 0
    assert stats.exit_code == 3  # robots.txt could not be asked for: nothing is fetched


def test_a_crawl_started_on_localhost_works(tmp_path):
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 2)
    with fs.FaultServer() as server:
        coll.publish(server)
        stats = run_crawl(CrawlOptions([f"http://localhost:{server.port}/cz/"], db_path=str(tmp_path / "a.db"),
                                       delay=0, policy=POLICY, drift_check=False))
    assert stats.counts.new == 2 and stats.exit_code == 0


def test_links_and_redirects_to_other_hosts_ports_and_paths_are_never_requested(tmp_path):
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 3)
    with fs.FaultServer() as server, fs.FaultServer() as other:
        coll.publish(server)
        story = coll.stories["llwzllzz"][0]
        listing = server.routes["/cz/llwzllzz/"][0].body.decode()
        extra = "".join(f'<a href="{u}">x</a>' for u in (
            other.base + "/cz/llwzllzz/content/post_1.html", "http://10.0.0.1/cz/llwzllzz/content/post_2.html",
            "http://169.254.169.254/latest/meta-data/", "/zh/llwzllzz/content/post_3.html",
            "file:///etc/passwd", "ftp://127.0.0.1/cz/x.html", "javascript:alert(1)"))
        server.route("/cz/llwzllzz/", fs.html(listing.replace("</body>", extra + "</body>")))
        server.route(story.path, fs.redirect(other.base + story.path))
        run_crawl(CrawlOptions([server.base + "/cz/"], db_path=str(tmp_path / "a.db"), delay=0, policy=POLICY,
                               drift_check=False))
        assert other.count() == 0
        assert not [h.path for h in server.hits if not h.path.startswith(("/cz/", "/robots.txt"))]


# -- nothing of the user's environment in the archive ------------------------------------------------------------
def test_nothing_from_the_environment_reaches_the_warc_or_the_database(tmp_path):
    home = tmp_path / "home-of-secret-user-7f3a"
    work = home / "work"
    work.mkdir(parents=True)
    login, password, token = "netrc-login-4b1d", "netrc-password-9c2e", "SECRET-TOKEN-5e8f0a"
    (home / ".netrc").write_text(f"machine 127.0.0.1 login {login} password {password}\n"
                                 f"default login {login} password {password}\n")
    (home / ".netrc").chmod(0o600)
    dead = f"127.0.0.1:{fs.closed_port()}"
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 3)
    with fs.FaultServer() as server:
        coll.publish(server)
        env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT), "SECRET_TOKEN": token,
               "HTTP_PROXY": f"http://{login}:{password}@{dead}", "HTTPS_PROXY": f"http://{dead}",
               "ALL_PROXY": f"http://{dead}", "http_proxy": f"http://{dead}", "NO_PROXY": "", "no_proxy": "",
               "REQUESTS_CA_BUNDLE": str(home / "evil-ca.pem"), "USER": "secret-user-7f3a",
               "LOGNAME": "secret-user-7f3a"}
        done = subprocess.run([sys.executable, "-m", "scraper", "crawl", server.base + "/cz/", "--db", "archive.db",
                               "--delay", "0"], cwd=work, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr  # the dead proxy was not used
        sent = [h.headers for h in server.hits]
    assert len(list(sqlite3.connect(work / "archive.db").execute("select 1 from articles"))) == 3
    secrets = [token, login, password, dead, str(home), "secret-user-7f3a", socket.gethostname(),
               base64.b64encode(f"{login}:{password}".encode()).decode()]
    # What the site saw: only the declared headers.
    declared = {"Host", "User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Connection"}
    for headers in sent:
        assert set(headers) <= declared, set(headers) - declared
        assert headers["User-Agent"] == USER_AGENT
    # What was stored: every byte of every WARC record, and every text cell of every table.
    warcs = list((work / "archive").glob("*.warc.gz"))
    assert warcs
    for path in warcs:
        text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        assert "Authorization" not in text and "Proxy-Authorization" not in text
        for secret in secrets:
            assert secret not in text, f"{secret!r} is in {path.name}"
    conn = sqlite3.connect(work / "archive.db")
    tables = [t for (t,) in conn.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for row in conn.execute(f"select * from [{table}]"):
            cells = " ".join(str(cell) for cell in row if cell is not None)
            for secret in secrets:
                assert secret not in cells, f"{secret!r} is in table {table}"
    conn.close()
