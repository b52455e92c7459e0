"""Tests reach only this machine: a connection anywhere but loopback is refused and fails the test that made it.

Installed by tests/conftest.py for the whole run. The crawler treats a refused connection as an unreachable site,
so refusing alone could let a test that strayed pass quietly; each attempt is therefore also recorded, and the
test that made it fails (``check_attempts``). Processes the tests start (``scraper serve``, Chromium) are not
covered: they are pointed at 127.0.0.1 by the tests themselves.
"""

from __future__ import annotations

import ipaddress
import socket

attempts: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def is_loopback(family: int, address) -> bool:
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # a Unix socket or socketpair never leaves the machine
    host = address[0]
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name: connect() would resolve it and go wherever it points
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def refuse(sock: socket.socket, address) -> None:
    if not is_loopback(sock.family, address):
        attempts.append(repr(address))
        raise ConnectionRefusedError(f"tests reach only 127.0.0.1, not {address!r}")


def guarded_connect(self, address):
    refuse(self, address)
    return _real_connect(self, address)


def guarded_connect_ex(self, address):
    refuse(self, address)
    return _real_connect_ex(self, address)


def install() -> None:
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
