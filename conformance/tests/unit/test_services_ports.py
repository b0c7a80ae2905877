"""Port picking on loopback."""

from __future__ import annotations

import socket
import time

from plowline.conformance.services.ports import (
    LOOPBACK,
    pick_free_port,
    port_accepts,
    port_is_free,
    wait_for_port,
)


def test_preferred_port_is_kept_when_free() -> None:
    free = pick_free_port()
    assert pick_free_port(preferred=free) == free


def test_taken_port_gives_another_free_one() -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert not port_is_free(busy)
        other = pick_free_port(preferred=busy)
        assert other != busy
        assert port_is_free(other)


def test_excluded_ports_are_never_returned() -> None:
    first = pick_free_port()
    assert pick_free_port(preferred=first, exclude={first}) != first


def test_port_accepts_and_wait_for_port() -> None:
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen()
        port = server.getsockname()[1]
        assert port_accepts(port)
        assert wait_for_port(port, time.monotonic() + 2)
    closed = pick_free_port()
    assert not port_accepts(closed)
    assert not wait_for_port(closed, time.monotonic() + 0.2)
