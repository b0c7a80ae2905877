"""Loopback port helpers: pick a free port, see whether one is taken, wait for a listener."""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on host:port and we could bind it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_free_port(
    preferred: int | None = None, host: str = LOOPBACK, exclude: set[int] | None = None
) -> int:
    """The preferred port when it is free, else one the kernel hands out.

    There is a window between this check and the service binding the port; the local
    starters retry with fresh ports when a service reports "address already in use".
    """
    skip = exclude or set()
    if preferred is not None and preferred not in skip and port_is_free(preferred, host):
        return preferred
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in skip:
            return port
    raise OSError(f"no free port on {host} after 50 tries")


def port_accepts(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port succeeds within timeout."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(port: int, deadline: float, host: str = LOOPBACK) -> bool:
    """Poll until host:port accepts or time.monotonic() passes deadline."""
    while time.monotonic() < deadline:
        if port_accepts(port, host):
            return True
        time.sleep(0.05)
    return False
