"""What the test modules share: the loopback sites, the reconstructed collection on them, the fast crawl, and the
archives the browsing tests read.

Every server listens on 127.0.0.1 only and is stopped when its test ends; every archive is a real SQLite file in
the test's own temporary folder.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipelines.run import RunResult
from scraper.crawl import CrawlOptions, run_crawl
from scraper.fetch import FetchPolicy
from tests import loopback_guard
from tests.browse_helpers import make_archive
from tests.collection import Collection
from tests.fault_server import FaultServer
from tests.search_archive import make_search_archive
from tests.site_server import SiteServer

# A crawl for tests: short timeouts and back-offs, a few retries. Tests of timeouts bring their own policy.
FAST = FetchPolicy(backoff=0.01, retries=2, body_retries=1, connect_timeout=2, read_timeout=3, deadline=10,
                   retry_after_max=2)

loopback_guard.install()


@pytest.fixture(autouse=True)
def only_loopback():
    """Fails a test that tried to connect anywhere but this machine (tests/loopback_guard.py)."""
    before = len(loopback_guard.attempts)
    yield
    strayed = loopback_guard.attempts[before:]
    if strayed:
        pytest.fail(f"the test tried to leave 127.0.0.1: {', '.join(strayed)}")


@pytest.fixture
def site():
    """A well-behaved HTTP server on 127.0.0.1 (tests.site_server)."""
    with SiteServer() as server:
        yield server


@pytest.fixture
def fault_site():
    """An HTTP server on 127.0.0.1 that misbehaves on purpose, path by path (tests.fault_server)."""
    with FaultServer() as server:
        yield server


@pytest.fixture
def collection(site) -> Collection:
    """The reconstructed 潮州库 on the site: 12 theory articles (three listing pages) and 4 大事记 entries."""
    coll = Collection(per_page=5)
    coll.add("llwzllzz", 12)
    coll.add("dsj", 4)
    coll.publish(site)
    return coll


@pytest.fixture
def db_path(tmp_path) -> Path:
    """The archive a test's crawls and imports write: archive.db, its WARC files in archive/ beside it."""
    return tmp_path / "archive.db"


@pytest.fixture
def crawl(db_path):
    """crawl(server, *urls, **options): a crawl of the server's /cz/ (or urls) into db_path, with no delay and the
    FAST policy unless the options say otherwise."""
    def run(server, *urls: str, progress=None, **options) -> RunResult:
        options = {"delay": 0, "policy": FAST, "backoff_start": 0.05, **options}
        return run_crawl(CrawlOptions(start_urls=list(urls) or [server.base + "/cz/"], db_path=str(db_path),
                                      **options), progress)
    return run


@pytest.fixture
def query(db_path):
    """query(sql, *params): rows of the test's archive, as tuples."""
    def run(sql: str, *params) -> list[tuple]:
        conn = sqlite3.connect(db_path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    return run


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory) -> Path:
    """The bundled sample and a hostile page, imported: read by the browsing and export tests, never written."""
    return make_archive(tmp_path_factory.mktemp("sample-archive"))


@pytest.fixture
def history(site, crawl) -> Collection:
    """An archive with a history to judge a run against: a first crawl of a theory column where every article has
    an author, and a 大事记 column where half do."""
    coll = Collection(per_page=10)
    coll.add("llwzllzz", 20)
    for _ in range(10):
        coll.add("dsj", 1, authorless=1)
        coll.add("dsj", 1)
    coll.publish(site)
    first = crawl(site)
    assert first.exit_code == 0 and not first.drift
    assert "no drift" in first.health[0]
    return coll


@pytest.fixture
def story_archive(tmp_path) -> Path:
    """An archive that imported one story's three copies (tests.story_pages) from one WARC, and nothing else."""
    from scraper.importer import import_files
    from tests.story_pages import story_copies
    from tests.warc_helpers import write_warc

    warcs = tmp_path / "archive"
    warcs.mkdir()
    warc = write_warc(warcs / "copies.warc.gz", story_copies(), date="2026-03-04T05:06:07Z")
    path = tmp_path / "archive.db"
    result = import_files(str(path), [str(warc)], drift_check=False)
    assert not result.errors, result.errors
    return path
@pytest.fixture(scope="session")
def search_archive(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """The readers' search page's archive (tests/search_archive.py) and its articles' ids: read, never written."""
    return make_search_archive(tmp_path_factory.mktemp("search-archive"))
