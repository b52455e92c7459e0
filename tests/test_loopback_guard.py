"""The guard that keeps every test on this machine (tests/loopback_guard.py, installed by conftest)."""

from __future__ import annotations

import socket

import pytest

from tests import loopback_guard


@pytest.mark.parametrize("family, address, allowed", [
    (socket.AF_INET, ("127.0.0.1", 80), True), (socket.AF_INET, ("127.3.2.1", 80), True),
    (socket.AF_INET6, ("::1", 80, 0, 0), True), (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0), True),
    (socket.AF_INET, ("localhost", 80), True),
    (socket.AF_INET, ("192.0.2.1", 80), False), (socket.AF_INET, ("gdxk.southcn.com", 443), False),
    (socket.AF_INET6, ("2001:db8::1", 80, 0, 0), False), (socket.AF_INET6, ("::ffff:192.0.2.1", 80, 0, 0), False),
])
def test_only_loopback_addresses_pass(family, address, allowed):
    assert loopback_guard.is_loopback(family, address) is allowed


def test_a_connection_elsewhere_is_refused_and_recorded():
    before = len(loopback_guard.attempts)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="only 127.0.0.1"):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: nothing answers there; the guard must answer first
    assert loopback_guard.attempts[before:] == [repr(("192.0.2.1", 80))]
    del loopback_guard.attempts[before:]  # recorded as it should be: not this test's stray


def test_a_connection_to_loopback_goes_through():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
