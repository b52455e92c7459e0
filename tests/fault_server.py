"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose: one behaviour per path.

HTTP libraries cannot send a body shorter than its Content-Length, broken chunking, a reset in mid-body or headers
one byte at a time; this server writes the bytes itself. Each path holds a list of behaviours, taken in order by
successive requests (the last repeats), like tests.site_server; tests.site_server.Reply works as a behaviour too,
so tests.collection.Collection.publish fills it with a whole collection. Every request is logged.

Bounded: loopback only, at most MAX_CONNECTIONS at once, a stalled behaviour waits at most `max_wait` seconds
and ends at once when the server stops, an endless body stops after `limit` bytes. `with FaultServer() as s:`
stops it cleanly (listener closed, open connections shut, threads joined).
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from tests.site_server import Hit, Reply

MAX_CONNECTIONS = 64
Behaviour = Callable[["Conn"], None]


@dataclass
class Conn:
    """One accepted connection and its request, handed to a behaviour."""

    sock: socket.socket
    server: FaultServer
    path: str
    headers: dict[str, str]

    def send(self, data: bytes) -> bool:
        """Send bytes; False once the client has gone (a behaviour then just returns)."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds: float) -> bool:
        """Sleep, but wake at once when the server stops; False if it did."""
        return not self.server.stopping.wait(min(seconds, self.server.max_wait))


def head(status: int, headers: list[tuple[str, str]] | dict[str, str] | None = None, reason: str = "X") -> bytes:
    items = headers.items() if isinstance(headers, dict) else headers or []
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in items] + ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


# -- behaviours ----------------------------------------------------------------------------------------------
def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
            content_length: int | None = None) -> Behaviour:
    """A plain response; content_length may differ from len(body) (a body shorter than announced)."""
    def run(conn: Conn) -> None:
        declared = len(body) if content_length is None else content_length
        conn.send(head(status, {**(headers or {}), "Content-Length": str(declared)}) + body)
    return run


def html(text: str, status: int = 200, charset: str | None = "utf-8", encoding: str | None = None,
         **headers: str) -> Behaviour:
    """An HTML page; the header names `charset` (None: no charset), the bytes are in `encoding` (default: it)."""
    data = text.encode(encoding or charset or "utf-8")
    ctype = "text/html" + (f"; charset={charset}" if charset else "")
    return respond(status, data, {"Content-Type": ctype, **headers})


def from_reply(reply: Reply) -> Behaviour:
    def run(conn: Conn) -> None:
        if reply.delay and not conn.wait(reply.delay):
            return
        respond(reply.status, reply.body, reply.headers)(conn)
    return run


def retry_after_date(seconds: float) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


def refuse_connection() -> Behaviour:
    """Close at once with a reset, before any response (as a crashed upstream behind a proxy does)."""
    def run(conn: Conn) -> None:
        reset(conn.sock)
    return run


def stall_headers() -> Behaviour:
    """Read the request, then say nothing until the client gives up (or the server stops)."""
    def run(conn: Conn) -> None:
        conn.wait(conn.server.max_wait)
    return run


def stall_body(sent: bytes = b"<html><body><p>", declared: int = 100_000) -> Behaviour:
    """Headers and the first bytes of the body, then silence."""
    def run(conn: Conn) -> None:
        if conn.send(head(200, {"Content-Type": "text/html", "Content-Length": str(declared)}) + sent):
            conn.wait(conn.server.max_wait)
    return run


def drip(data: bytes, every: float, head_too: bool = False, declared: int | None = None) -> Behaviour:
    """One byte every `every` seconds: each read succeeds within any read timeout, the whole never ends."""
    def run(conn: Conn) -> None:
        header = head(200, {"Content-Type": "text/html", "Content-Length": str(declared or len(data))})
        if not head_too and not conn.send(header):
            return
        for byte in (header + data) if head_too else data:
            if not conn.send(bytes([byte])) or not conn.wait(every):
                return
    return run


def reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0): the client sees 'connection reset by peer'."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def reset_mid_body(body: bytes = b"<html><body><p>" + b"x" * 5000, cut: int = 1000) -> Behaviour:
    def run(conn: Conn) -> None:
        if conn.send(head(200, {"Content-Type": "text/html", "Content-Length": str(len(body))}) + body[:cut]):
            time.sleep(0.05)  # let the bytes leave before the reset overtakes them
            reset(conn.sock)
    return run


def broken_chunked(body: bytes = b"<html><body><p>hello</p>") -> Behaviour:
    """Transfer-Encoding: chunked, one good chunk, then a chunk-size line that is not hex, then the end."""
    def run(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"})
                  + f"{len(body):x}\r\n".encode() + body + b"\r\nzz-not-hex\r\n" + b"garbage" * 10)
    return run


def truncated_chunked(body: bytes = b"<html><body><p>hello world</p>") -> Behaviour:
    """Chunked, announcing more than it sends, then the connection closes (no last-chunk)."""
    def run(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"})
                  + f"{len(body) + 500:x}\r\n".encode() + body)
    return run


def endless(chunk: bytes = b"<p>" + b"x" * 65533, content_length: int | None = None,
            limit: int = 256 * 1024 * 1024) -> Behaviour:
    """A body that goes on until the client hangs up (or `limit` bytes): no Content-Length, or a huge one."""
    def run(conn: Conn) -> None:
        headers = {"Content-Type": "text/html"}
        if content_length is not None:
            headers["Content-Length"] = str(content_length)
        if not conn.send(head(200, headers)):
            return
        sent = 0
        while sent < limit and not conn.server.stopping.is_set() and conn.send(chunk):
            sent += len(chunk)
    return run


def gzip_bomb(size: int = 200 * 1024 * 1024, content_type: str = "text/html") -> Behaviour:
    """A small gzip body that inflates to `size` bytes of zeros."""
    data = bomb_bytes(size)

    def run(conn: Conn) -> None:
        conn.send(head(200, {"Content-Type": content_type, "Content-Encoding": "gzip",
                             "Content-Length": str(len(data))}) + data)
    return run


_BOMBS: dict[int, bytes] = {}


def bomb_bytes(size: int) -> bytes:
    if size not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b"\0" * (1024 * 1024)
        parts = [compressor.compress(block) for _ in range(size // len(block))]
        _BOMBS[size] = b"".join(parts) + compressor.flush()
    return _BOMBS[size]


def lying_gzip(text: bytes = b"<html><body><p>plain text</p></body></html>") -> Behaviour:
    """Content-Encoding: gzip on a body that is not compressed at all."""
    return respond(200, text, {"Content-Type": "text/html", "Content-Encoding": "gzip"})


def cut_gzip(text: bytes = b"<html><body>" + bytes(range(256)) * 40) -> Behaviour:
    """A gzip body cut in the middle, with a Content-Length that matches what is sent."""
    data = gzip.compress(text)
    data = data[: len(data) // 2]
    return respond(200, data, {"Content-Type": "text/html", "Content-Encoding": "gzip"})


def raw(data: bytes) -> Behaviour:
    """Exactly these bytes (a broken status line, a header with no colon …), then close."""
    def run(conn: Conn) -> None:
        conn.send(data)
    return run


def redirect(location: str, status: int = 302) -> Behaviour:
    return respond(status, b"", {"Location": location})


# -- the server ----------------------------------------------------------------------------------------------
class FaultServer:
    def __init__(self, max_wait: float = 30.0) -> None:
        self.max_wait = max_wait
        self.routes: dict[str, list] = {}
        self.hits: list[Hit] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    # routes, as tests.site_server.SiteServer has them
    def route(self, path: str, *behaviours) -> None:
        with self._lock:
            self.routes[path] = list(behaviours)

    def count(self, path: str | None = None) -> int:
        return sum(1 for hit in self.hits if path is None or hit.path == path)

    def times(self, path: str) -> list[float]:
        return [hit.at for hit in self.hits if hit.path == path]

    def __enter__(self) -> FaultServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            for sock in list(self._conns):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)

    # internals
    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                reset(sock)  # over the bound: refuse rather than queue without limit
                continue
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self._lock:
                self._conns.add(sock)
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = self._read_head(sock)
            if request is None:
                return
            path, headers = request
            with self._lock:
                self.hits.append(Hit(path, headers, time.monotonic()))
                behaviours = self.routes.get(path)
                behaviour = (behaviours.pop(0) if len(behaviours) > 1 else behaviours[0]) if behaviours else None
            if behaviour is None:
                behaviour = respond(404, b"not found", {"Content-Type": "text/plain"})
            elif isinstance(behaviour, Reply):
                behaviour = from_reply(behaviour)
            behaviour(Conn(sock, self, path, headers))
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
            sock.close()
            self._slots.release()

    def _read_head(self, sock: socket.socket) -> tuple[str, dict[str, str]] | None:
        sock.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return None
            if not chunk or len(data) > 65536:
                return None
            data += chunk
        lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        sock.settimeout(None)
        return parts[1], headers


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
