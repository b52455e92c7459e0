"""Politeness: the crawl's scope, robots.txt (RFC 9309, via protego) and the pause between requests."""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from protego import Protego
from urllib3.util.retry import Retry

from pipelines.errors import UnreadableBody

from .fetch import FetchError, FetchPolicy, FetchResult, NoAnswer, fetch
from .netguard import names_private_host
from .urls import collection_path, url_readings


@dataclass(frozen=True)
class Scope:
    """One host (scheme and port included) and one path prefix: nothing outside is ever requested."""

    scheme: str
    netloc: str
    path_prefix: str = "/"

    @classmethod
    def around(cls, url: str) -> Scope:
        """The scope of a start URL: its host and its collection, the first path segment (/cz/)."""
        parts = urlsplit(url)
        return cls(parts.scheme.lower(), parts.netloc.lower(), collection_path(parts.path))

    def allows(self, url: str) -> bool:
        """In scope on every reading of the URL as the server may resolve it (see scraper.urls.url_readings)."""
        try:
            readings = url_readings(url)
        except ValueError:
            return False
        return all(self._holds(reading) for reading in readings)

    def _holds(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return False
        # Said outright, though the host check below implies it: a loopback or private address only when the
        # scope's own host is one (a page cannot point the crawl at 127.0.0.1, 10.x or 169.254.169.254).
        if names_private_host(host) and not names_private_host(urlsplit(f"//{self.netloc}").hostname):
            return False
        path = parts.path or "/"
        return (parts.scheme.lower() == self.scheme and parts.netloc.lower() == self.netloc
                and (path + ("/" if not path.endswith("/") else "")).startswith(self.path_prefix))

    @property
    def robots_url(self) -> str:
        return urlunsplit((self.scheme, self.netloc, "/robots.txt", "", ""))

    def widened(self, other: Scope) -> Scope:
        """The common scope of two start URLs on one host (their shared path prefix)."""
        if (self.scheme, self.netloc) != (other.scheme, other.netloc):
            raise ValueError("start URLs on different hosts need separate scopes")
        common = []
        for a, b in zip(self.path_prefix.split("/"), other.path_prefix.split("/"), strict=False):
            if a != b:
                break
            common.append(a)
        prefix = "/".join(common).rstrip("/") + "/"
        return Scope(self.scheme, self.netloc, prefix if prefix.startswith("/") else "/" + prefix)


def start_scopes(urls: list[str]) -> dict[str, Scope]:
    """One scope per host: the collection path of the start URLs on it."""
    scopes: dict[str, Scope] = {}
    for url in urls:
        scope = Scope.around(url)
        key = scope.netloc
        scopes[key] = scopes[key].widened(scope) if key in scopes else scope
    return scopes


# The longest pause between requests a robots.txt Crawl-delay can ask of a run. Heritrix honours a Crawl-delay
# up to 300 s by default (respectCrawlDelayUpToSeconds); a daily run of the 潮州库 (a few hundred requests) must end
# well within the day while it holds the archive's lock, so we stop at 60 s: 500 requests in under nine hours.
MAX_CRAWL_DELAY = 60.0


class RobotsState(StrEnum):
    RULES = "rules"  # 2xx: its rules apply
    ALLOW_ALL = "allow-all"  # 4xx: no robots.txt, everything is allowed
    UNAVAILABLE = "unavailable"  # 5xx or no answer: nothing may be fetched until it answers


@dataclass
class Robots:
    """What robots.txt says for one host: rules, allow-all (4xx), or unavailable (5xx/unreachable)."""

    state: RobotsState
    parser: Protego | None = None
    retry_after: float = 0.0  # monotonic time when an unavailable robots.txt may be asked again
    endless_delay: bool = False  # some group asks for a Crawl-delay no number can hold
    detail: str = ""
    no_answer: NoAnswer | None = None  # unavailable because no response came at all (the site is out of reach)

    def allows(self, url: str, user_agent: str) -> bool:
        if self.state is RobotsState.ALLOW_ALL:
            return True
        if self.state is RobotsState.UNAVAILABLE:
            return False
        try:
            readings = url_readings(url)
        except ValueError:
            return False
        return all(self.parser.can_fetch(reading, user_agent) for reading in readings)

    def crawl_delay(self, user_agent: str) -> float | None:
        """The Crawl-delay robots.txt asks for, as written (None when absent or not a positive number); infinity
        when it asks for more than a number can say (``inf``, ``1e309``: protego drops those, we do not)."""
        if self.state is not RobotsState.RULES:
            return None
        delay = self.parser.crawl_delay(user_agent)
        if delay is None or math.isnan(float(delay)) or float(delay) < 0:
            return math.inf if self.endless_delay else None
        return float(delay)


_CRAWL_DELAY = re.compile(r"^\s*crawl-delay\s*:\s*([^\s#]+)", re.I | re.M)


def _endless(value: str) -> bool:
    try:
        return math.isinf(float(value)) and float(value) > 0
    except ValueError:
        return False


def read_robots(result: FetchResult | None, error: FetchError | None, retry_in: float = 600.0) -> Robots:
    """RFC 9309: 2xx gives rules; 4xx allows everything; 5xx or no answer disallows until retried."""
    if result is None:
        return Robots(RobotsState.UNAVAILABLE, retry_after=time.monotonic() + retry_in, detail=str(error),
                      no_answer=error.no_answer if error else None)
    final = result.final
    if 200 <= final.status < 300:
        try:
            text = final.decoded_body(512 * 1024).decode("utf-8", errors="replace")
        except UnreadableBody:  # a robots.txt bomb, or not gzip as it says: read as if it were empty
            text = ""
        endless = any(_endless(value) for value in _CRAWL_DELAY.findall(text))
        return Robots(RobotsState.RULES, Protego.parse(text), detail=f"HTTP {final.status}", endless_delay=endless)
    if 400 <= final.status < 500:
        return Robots(RobotsState.ALLOW_ALL, detail=f"HTTP {final.status}")
    return Robots(RobotsState.UNAVAILABLE, retry_after=time.monotonic() + retry_in, detail=f"HTTP {final.status}")


def fetch_robots(session, scope: Scope, policy: FetchPolicy | None = None) -> tuple[FetchResult | None, Robots]:
    """Fetch and read robots.txt, following up to 5 redirects even to another host (RFC 9309, 2.3.1.2).

    The session's address guard (scraper.netguard) still refuses a redirect to a private address.
    """
    try:
        result = fetch(session, scope.robots_url, lambda url: url.startswith(("http://", "https://")), policy)
        return result, read_robots(result, None)
    except FetchError as exc:
        return (FetchResult(url=scope.robots_url, hops=exc.hops) if exc.hops else None), read_robots(None, exc)


@dataclass
class Throttle:
    """One request at a time per host, `delay` seconds apart, randomised ×0.5–1.5 as Scrapy does.

    While the site refuses (429, 403, block pages) the pause grows: `backoff_start` (or twice the delay) after
    the first refusal, doubling after each further one up to `backoff_max`, at least what Retry-After asked;
    the first success brings it back to `delay`.
    """

    delay: float = 1.0
    floor: float = 0.0  # robots.txt Crawl-delay: never go below it
    sleep: Callable[[float], None] = time.sleep
    backoff_start: float = 5.0
    backoff_max: float = 600.0
    penalty: float = 0.0  # the pause while refused (0: not refused)
    _last: float = field(default=0.0, repr=False)

    def refused(self, retry_after: float | None = None) -> float:
        """Note a refusal; returns the pause that now comes before the next request."""
        grown = 2 * self.penalty if self.penalty else max(self.backoff_start, 2 * max(self.delay, self.floor))
        self.penalty = min(self.backoff_max, max(grown, retry_after or 0.0))
        return self.penalty

    def recovered(self) -> None:
        self.penalty = 0.0

    def wait(self) -> float:
        base = max(self.delay, self.floor)
        pause = base * random.uniform(0.5, 1.5) if base > 0 else 0.0
        if self.floor or self.penalty:
            pause = max(pause, self.floor, self.penalty)
        remaining = self._last + pause - time.monotonic()
        if remaining > 0:
            self.sleep(remaining)
        self._last = time.monotonic()
        return max(0.0, remaining)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); None when absent or unreadable."""
    try:
        return Retry(retry_after_max=86400).parse_retry_after(value) if value else None
    except Exception:  # noqa: BLE001 - an unreadable header is as good as none
        return None
