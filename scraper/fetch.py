"""Polite, robust HTTP: one GET with retries, a deadline, a size cap, and every redirect hop checked and kept.

requests follows no redirect here: each hop is fetched by us, so that a redirect that leaves the crawl's scope
is never requested and every hop can be written to the WARC as it was received.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util.retry import Retry

from pipelines.warc import MAX_BODY_BYTES, Exchange

from . import USER_AGENT
from .errors import ScraperError
from .netguard import Deadline, GuardedAdapter, PrivateAddress, deadline, names_private_host
from .urls import request_url

RETRY_STATUSES = (429, 500, 502, 503, 504)


class NoAnswer(StrEnum):
    """Why a request got no response at all: the site could not be reached from here (the text is for people)."""

    NAME_LOOKUP = "name lookup failed"
    REFUSED = "connection refused"
    NO_ROUTE = "could not connect"
    TIMEOUT = "timed out with no answer"


class FetchError(ScraperError):
    """A fetch that failed after its retries; the URL stays in the frontier for a later try. ``no_answer`` says
    why, when no response came at all (None: the site answered, badly)."""

    def __init__(self, url: str, reason: str, hops: list[Exchange] | None = None, no_answer: NoAnswer | None = None,
                 attempts: int = 1):
        self.url = url
        self.reason = reason
        self.hops = hops or []
        self.no_answer = no_answer
        # Requests sent beside the hops, which gave no response (a body read again is another; 0: none was sent).
        self.attempts = attempts
        super().__init__(f"{url}: {reason}")


class OutOfScope(FetchError):
    """A URL (or a redirect) outside the host and path the crawl was pointed at: never requested."""

    def __init__(self, url: str, reason: str, hops: list[Exchange] | None = None):
        super().__init__(url, reason, hops, attempts=0)


class BodyError(FetchError):
    """The connection broke, stalled past the deadline or ended early while the body was read: tried again."""


class ResponseTooLarge(FetchError):
    """The response body passed the size cap while it was read: aborted, not stored, not tried again in this run."""


@dataclass
class FetchResult:
    url: str
    hops: list[Exchange] = field(default_factory=list)  # redirects first, the final response last
    retries: int = 0

    @property
    def final(self) -> Exchange:
        return self.hops[-1]


@dataclass
class FetchPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 90.0  # one request, from sending it to the body's last byte (each retry has its own)
    max_bytes: int = MAX_BODY_BYTES  # what is read of a body, and what it may inflate to: the archive's one cap
    max_redirects: int = 5
    retries: int = 4  # urllib3's, for 429/5xx and connection errors
    body_retries: int = 2  # ours, for errors while reading a body
    backoff: float = 1.0
    retry_after_max: int = 120


def make_session(policy: FetchPolicy | None = None, user_agent: str = USER_AGENT,
                 allow_private: tuple[str, ...] | frozenset[str] = (), proxy: str | None = None) -> requests.Session:
    """A session that retries, ignores the environment, and connects to a private or loopback address only for
    a host named as one (127.0.0.1, localhost) or listed in allow_private (see scraper.netguard); every request
    goes through ``proxy`` when one is given (an http(s) URL, the user's own choice, so it may be a private
    address)."""
    policy = policy or FetchPolicy()
    retry = _ReportingRetry(
        total=policy.retries, connect=policy.retries, read=policy.retries, status=policy.retries,
        redirect=0, raise_on_redirect=False, raise_on_status=False,
        status_forcelist=RETRY_STATUSES, allowed_methods=("GET", "HEAD"),
        backoff_factor=policy.backoff, backoff_jitter=policy.backoff, respect_retry_after_header=True,
        retry_after_max=policy.retry_after_max,
    )
    session = requests.Session()
    # Nothing from the user's environment goes to the site or into the WARC: no ~/.netrc credentials, no proxy
    # settings, no CA-bundle overrides picked up silently.
    session.trust_env = False
    if proxy:
        session.proxies = {"http": proxy, "https": proxy}
        allow_private = (*allow_private, urlsplit(proxy).hostname or "")
    adapter = GuardedAdapter(allow_private, max_retries=retry, pool_connections=2, pool_maxsize=2)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({
        "User-Agent": user_agent,
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
        "Accept-Language": "zh-CN,zh;q=0.9",
        # Only encodings we can undo ourselves with a size cap; no brotli.
        "Accept-Encoding": "gzip, deflate",
    })
    return session


def fetch(session: requests.Session, url: str, in_scope=lambda url: True, policy: FetchPolicy | None = None,
          extra_headers: dict[str, str] | None = None) -> FetchResult:
    """GET url, following at most policy.max_redirects in-scope redirects. Raises FetchError subclasses."""
    policy = policy or FetchPolicy()
    result = FetchResult(url=url)
    current = url
    for _ in range(policy.max_redirects + 1):
        try:
            current = request_url(current)  # judged and sent as one: the form the server will resolve
        except ValueError:
            raise OutOfScope(current, "not a URL that can be requested; not requested", result.hops) from None
        if not in_scope(current):
            raise OutOfScope(current, "outside the crawl's host and path; not requested", result.hops)
        try:
            # Validators (If-None-Match …) belong to the URL first asked for, never to where it redirects.
            exchange, retries = _get_with_body_retries(session, current, policy,
                                                       None if result.hops else extra_headers)
        except FetchError as exc:
            exc.hops = result.hops + exc.hops  # the redirects that led here are kept in the WARC all the same
            raise
        result.retries += retries
        result.hops.append(exchange)
        location = exchange.header("Location")
        if exchange.status in (301, 302, 303, 307, 308) and location:
            current = _redirect_target(url, current, location, result.hops)
            continue
        return result
    raise FetchError(url, f"more than {policy.max_redirects} redirects", result.hops, attempts=0)


def _redirect_target(start: str, current: str, location: str, hops: list[Exchange]) -> str:
    """Where a redirect leads; OutOfScope for one that is malformed, not HTTP, or private when the start is not."""
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        host = parts.hostname
    except ValueError:
        raise OutOfScope(current, f"malformed redirect to {location[:200]!r}; not followed", hops) from None
    if parts.scheme not in ("http", "https"):
        raise OutOfScope(target, "redirect to a non-HTTP address; not followed", hops)
    if names_private_host(host) and not names_private_host(urlsplit(start).hostname):
        raise OutOfScope(target, "redirect to a private or loopback address; not followed", hops)
    return target


def _get_with_body_retries(session, url, policy, extra_headers) -> tuple[Exchange, int]:
    """One GET; errors while reading the body (reset, short body, stall) are retried here, not by urllib3."""
    attempt = 0
    while True:
        try:
            exchange, retries = _get_once(session, url, policy, extra_headers)
            return exchange, retries + attempt
        except BodyError as exc:
            if attempt >= policy.body_retries:
                exc.attempts = attempt + 1  # each was a request: --max-requests counts them all
                raise
        attempt += 1
        time.sleep(policy.backoff * (2 ** attempt) * random.uniform(0.5, 1.0))


def _get_once(session, url, policy, extra_headers) -> tuple[Exchange, int]:
    fetched_at = datetime.now(UTC)
    with deadline(policy.deadline) as watch:
        try:
            response = session.get(url, headers=extra_headers or {}, stream=True, allow_redirects=False,
                                   timeout=(policy.connect_timeout, policy.read_timeout))
        except PrivateAddress as exc:
            raise OutOfScope(url, str(exc)) from None
        except ValueError as exc:  # requests reads a Location even unasked, and a malformed one raises this
            raise FetchError(url, f"request failed: unreadable response ({_short(exc)})") from None
        except requests.exceptions.RequestException as exc:
            if watch.fired:
                raise FetchError(url, f"timed out: no whole response head within {policy.deadline:g}s",
                                 no_answer=NoAnswer.TIMEOUT) from None
            raise FetchError(url, _why(exc), no_answer=no_answer(_last_error(exc))) from None
        retries = len(response.raw.retries.history) if getattr(response.raw, "retries", None) else 0
        try:
            body = _read_body(response, url, policy, watch)
        finally:
            response.close()
    raw_headers = list(response.raw.headers.items())
    request_headers = list(response.request.headers.items())
    version = {10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2"}.get(getattr(response.raw, "version", 11), "HTTP/1.1")
    return Exchange(url=url, request_headers=request_headers, status=response.status_code,
                    reason=response.reason or "", response_headers=raw_headers, body=body,
                    fetched_at=fetched_at, http_version=version), retries


def _read_body(response: requests.Response, url: str, policy: FetchPolicy, watch: Deadline) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise ResponseTooLarge(url, f"Content-Length {int(declared):,} passes the {policy.max_bytes:,}-byte cap")
    chunks, size = [], 0
    try:
        for chunk in response.raw.stream(64 * 1024, decode_content=False):
            chunks.append(chunk)
            size += len(chunk)
            if size > policy.max_bytes:
                raise ResponseTooLarge(url, f"body passed the {policy.max_bytes:,}-byte cap")
            if time.monotonic() - watch.started > policy.deadline:
                raise BodyError(url, f"body: deadline of {policy.deadline:g}s passed while reading")
    except (Urllib3HTTPError, OSError, requests.exceptions.RequestException) as exc:
        if watch.fired:  # the deadline's timer cut the socket (a body dripped slower than the deadline allows)
            raise BodyError(url, f"body: deadline of {policy.deadline:g}s passed while reading") from None
        raise BodyError(url, f"body: connection broke while reading ({_short(exc)})") from None
    if watch.fired:  # cut while the head was still coming: what arrived is not a whole response
        raise BodyError(url, f"body: deadline of {policy.deadline:g}s passed while reading")
    body = b"".join(chunks)
    if declared and declared.isdigit() and len(body) < int(declared):
        raise BodyError(url, f"body: short body ({len(body)} of {declared} bytes)")
    return body


def _last_error(exc: requests.exceptions.RequestException) -> BaseException:
    """urllib3's last error after its retries (a MaxRetryError's reason), or the error itself."""
    return (getattr(exc.args[0], "reason", None) if exc.args else None) or exc


def no_answer(error: BaseException | None) -> NoAnswer | None:
    """Why no response came, by the error's type (requests', urllib3's or the socket's); None when one came."""
    if isinstance(error, NameResolutionError):
        return NoAnswer.NAME_LOOKUP
    if isinstance(error, NewConnectionError):  # a subclass of urllib3's TimeoutError: asked before the timeouts
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ConnectionRefusedError):
            return NoAnswer.REFUSED
        return NoAnswer.TIMEOUT if isinstance(cause, TimeoutError) else NoAnswer.NO_ROUTE
    if isinstance(error, requests.exceptions.Timeout | Urllib3TimeoutError):
        return NoAnswer.TIMEOUT
    if isinstance(error, requests.exceptions.ConnectionError) and error is not _last_error(error):
        return no_answer(_last_error(error))
    return None


# -- telling the user about retries (urllib3 retries, and sleeps between, without a word otherwise) --------------
_on_retry: ContextVar[Callable[[str], None] | None] = ContextVar("on_retry", default=None)


class _ReportingRetry(Retry):
    """urllib3's Retry, saying before each pause what failed and how long it waits (see ``reporting_retries``)."""

    def sleep(self, response=None) -> None:
        tell = _on_retry.get()
        if tell is not None and self.history:
            last = self.history[-1]
            what = f"HTTP {last.status}" if last.status else (no_answer(last.error) or "request failed")
            wait = self.get_retry_after(response) if response is not None else None
            wait = wait if wait is not None else self.get_backoff_time()
            tell(f"retry {len(self.history)} in {wait:.1f}s after: {what}")
        super().sleep(response)


@contextmanager
def reporting_retries(tell: Callable[[str], None]) -> Iterator[None]:
    """Inside the block, every retry made on this thread is told to ``tell`` before its pause."""
    token = _on_retry.set(tell)
    try:
        yield
    finally:
        _on_retry.reset(token)


def _why(exc: requests.exceptions.RequestException) -> str:
    """A short reason: urllib3's last error after its retries, not the pool's whole description."""
    cause = getattr(exc.args[0], "reason", None) if exc.args else None  # MaxRetryError's last error
    detail = _short(cause or exc)
    if isinstance(cause, NewConnectionError):  # a subclass of urllib3's TimeoutError, but a refusal
        return f"request failed ({detail})"
    if isinstance(exc, requests.exceptions.Timeout) or isinstance(cause, Urllib3TimeoutError):
        return f"timed out ({detail})"
    if isinstance(exc, requests.exceptions.RetryError):
        return f"gave up after retries ({detail})"
    return f"request failed ({detail})"


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
