"""Politeness: the crawl's scope, robots.txt (RFC 9309, via protego) and the pause between requests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from .errors import ScraperError
from .fetch import FetchError, FetchPolicy, FetchResult, fetch


class RobotsDisallowed(ScraperError):
    """robots.txt forbids this URL to our user agent; it is not requested."""


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
        segments = [s for s in parts.path.split("/") if s]
        # A path of one segment with a dot is a file at the root (/index.html): the whole host is the scope.
        prefix = f"/{segments[0]}/" if segments and (len(segments) > 1 or "." not in segments[0]) else "/"
        return cls(parts.scheme.lower(), parts.netloc.lower(), prefix)

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
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


@dataclass
class Robots:
    """What robots.txt says for one host: rules, allow-all (4xx), or unavailable (5xx/unreachable)."""

    state: str  # "rules", "allow-all", "unavailable"
    parser: Protego | None = None
    retry_after: float = 0.0  # monotonic time when an unavailable robots.txt may be asked again
    detail: str = ""

    def allows(self, url: str, user_agent: str) -> bool:
        if self.state == "allow-all":
            return True
        if self.state == "unavailable":
            return False
        return self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.state != "rules":
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def read_robots(result: FetchResult | None, error: FetchError | None, retry_in: float = 600.0) -> Robots:
    """RFC 9309: 2xx gives rules; 4xx allows everything; 5xx or no answer disallows until retried."""
    if result is None:
        return Robots("unavailable", retry_after=time.monotonic() + retry_in, detail=str(error))
    final = result.final
    if 200 <= final.status < 300:
        try:
            text = final.decoded_body(512 * 1024).decode("utf-8", errors="replace")
        except FetchError:  # a robots.txt bomb: read what the cap allows of it as if it were empty
            text = ""
        return Robots("rules", Protego.parse(text), detail=f"HTTP {final.status}")
    if 400 <= final.status < 500:
        return Robots("allow-all", detail=f"HTTP {final.status}")
    return Robots("unavailable", retry_after=time.monotonic() + retry_in, detail=f"HTTP {final.status}")


def fetch_robots(session, scope: Scope, policy: FetchPolicy | None = None) -> tuple[FetchResult | None, Robots]:
    """Fetch and read robots.txt; redirects are followed only on the same host."""
    same_host = Scope(scope.scheme, scope.netloc, "/")
    try:
        result = fetch(session, scope.robots_url, same_host.allows, policy)
        return result, read_robots(result, None)
    except FetchError as exc:
        return (FetchResult(url=scope.robots_url, hops=exc.hops) if exc.hops else None), read_robots(None, exc)


@dataclass
class Throttle:
    """One request at a time per host, `delay` seconds apart, randomised ×0.5–1.5 as Scrapy does."""

    delay: float = 1.0
    floor: float = 0.0  # robots.txt Crawl-delay: never go below it
    sleep: Callable[[float], None] = time.sleep
    _last: float = field(default=0.0, repr=False)

    def wait(self) -> float:
        base = max(self.delay, self.floor)
        pause = base * random.uniform(0.5, 1.5) if base > 0 else 0.0
        if self.floor:
            pause = max(pause, self.floor)
        remaining = self._last + pause - time.monotonic()
        if remaining > 0:
            self.sleep(remaining)
        self._last = time.monotonic()
        return max(0.0, remaining)
