"""Guards on the crawl's sockets: no private addresses unless the crawl was pointed at one, and a hard deadline.

Both act on the socket itself, below requests and urllib3:

- The address check reads the peer address after the TCP connect, before a byte is sent. A public host name that
  resolves (or is re-bound, DNS rebinding) to 127.x, 10.x, 169.254.169.254 … is refused, whatever DNS said when
  the crawl started. Host names that are themselves such addresses (or ``localhost``) pass: the URL says so.
- The deadline shuts the socket down from a timer: a read timeout is per read, so a server that drips one byte
  every few seconds (headers or body) would otherwise hold a fetch for hours.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class PrivateAddress(Exception):  # noqa: N818 - read as "refused: private address"
    """A connection landed on a loopback/private/link-local address the crawl was not pointed at.

    Deliberately not an OSError: urllib3 would retry those; a policy refusal is final.
    """

    def __init__(self, host: str, address: str):
        self.host = host
        self.address = address
        super().__init__(f"{host} resolves to {address}, a private or loopback address; not requested")


def is_private_address(address: str) -> bool:
    """True for an address no public web site has: loopback, RFC 1918 and fc00::/7, link-local (169.254/16,
    where cloud metadata lives; fe80::/10), shared (100.64/10), unspecified, reserved and multicast ranges."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is not part of it
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def names_private_host(host: str | None) -> bool:
    """True when the host name itself is a private address literal or localhost (RFC 6761)."""
    host = (host or "").strip("[]").rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost") or is_private_address(host)


def resolves_private(host: str | None) -> bool:
    """True when host names a private address or resolves to one now (an intranet mirror the user chose)."""
    if names_private_host(host):
        return True
    try:
        infos = socket.getaddrinfo((host or "").strip("[]"), None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(is_private_address(info[4][0]) for info in infos)


# -- the deadline ------------------------------------------------------------------------------------------------
_local = threading.local()


class Deadline:
    """The time limit of one request: from asking for its response to the last byte of its body."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.monotonic()
        self.fired = False
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def arm(self, sock: socket.socket) -> None:
        """A request was sent on sock: its time starts now (each of urllib3's retries gets its own)."""
        with self._lock:
            self._cancel()
            self.fired, self._sock, self.started = False, sock, time.monotonic()
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._sock is None:
                return
            self.fired = True
            # The plain socket's shutdown, also for TLS: the blocked read returns, the TLS state is untouched.
            with suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._sock = None, None

    def stop(self) -> None:
        with self._lock:
            self._cancel()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Every request made on this thread inside the block is cut off `seconds` after it was sent."""
    watch = Deadline(seconds)
    previous = getattr(_local, "deadline", None)
    _local.deadline = watch
    try:
        yield watch
    finally:
        watch.stop()
        _local.deadline = previous


# -- connections -------------------------------------------------------------------------------------------------
class _Guarded:
    allow_private: frozenset[str] = frozenset()

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            peer = sock.getpeername()[0]
        except OSError:
            return sock
        if is_private_address(peer) and not names_private_host(self.host) \
                and self.host.lower() not in self.allow_private:
            sock.close()
            raise PrivateAddress(self.host, peer)
        return sock

    def getresponse(self, *args, **kwargs):
        watch = getattr(_local, "deadline", None)
        if watch is not None and self.sock is not None:
            watch.arm(self.sock)
        return super().getresponse(*args, **kwargs)


class GuardedAdapter(HTTPAdapter):
    """requests' adapter with guarded connections; hosts in allow_private may resolve to private addresses."""

    def __init__(self, allow_private: Iterable[str] = (), **kwargs):
        attrs = {"allow_private": frozenset(h.strip("[]").lower() for h in allow_private)}
        http = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), attrs)
        https = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), attrs)
        self._pool_classes = {
            "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy (--proxy) the sockets are the proxy's: guarded as well, so that the deadline holds
        # and the proxy's address passes only because the user named it (the proxy resolves the site's names).
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self._pool_classes
        return manager
