"""A real HTTP server on 127.0.0.1 for tests: routes map a path to the responses it gives, in order.

Each route holds a list of responses; a request takes the next one, and the last repeats. Every request is
logged (path and headers), so tests can count exactly what a crawl asked for.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent

    @classmethod
    def html(cls, body: str | bytes, status: int = 200, charset: str | None = "utf-8", **headers) -> Reply:
        data = body.encode(charset or "utf-8") if isinstance(body, str) else body
        ctype = "text/html" + (f"; charset={charset}" if charset else "")
        return cls(status, data, {"Content-Type": ctype, **headers})


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hangs up mid-request (a crawl stopped, a fetch past its deadline) is no server error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.hits: list[Hit] = []
        # Pages made on demand for paths no route names (a site without end: an endless pager or calendar).
        self.fallback: Callable[[str], Reply | None] | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                with server._lock:
                    server.hits.append(Hit(self.path, dict(self.headers), time.monotonic()))
                    replies = server.routes.get(self.path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else None
                if reply is None and server.fallback is not None:
                    reply = server.fallback(self.path)
                if reply is None:
                    reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args):
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def count(self, path: str | None = None) -> int:
        return sum(1 for hit in self.hits if path is None or hit.path == path)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
