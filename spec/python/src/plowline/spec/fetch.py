"""HTTP GET with a hard total deadline and a response size cap (stdlib only).

A socket timeout alone bounds each read, not the request: a registry that trickles one byte a
second would never time out. Here a watchdog timer shuts the socket down when the deadline
passes, which wakes any blocked connect/send/recv, and the request is reported as timed out.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_CHUNK = 65536


class FetchError(Exception):
    """The request failed before a complete response arrived (message says why)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    url: str


def http_get(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float,
    max_bytes: int,
) -> Response:
    """GET ``url`` following up to 5 redirects, all within ``timeout`` seconds in total.

    Raises FetchError on timeout, connection problems, bodies over ``max_bytes`` and
    unsupported URLs. Any HTTP status is returned as a Response (the caller decides).
    """
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        response, location = _get_once(url, headers or {}, deadline, timeout, max_bytes)
        if location is None:
            return response
        url = urljoin(url, location)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _get_once(
    url: str, headers: dict[str, str], deadline: float, timeout: float, max_bytes: int
) -> tuple[Response, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"unsupported URL {url!r}: need http:// or https:// and a host")
    try:
        port = parts.port
    except ValueError:
        raise FetchError(f"invalid port in URL {url!r}") from None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"timed out after {timeout:g}s")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, port, timeout=remaining, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=remaining)
    fired = threading.Event()

    def abort() -> None:
        fired.set()
        sock = conn.sock
        if sock is not None:
            # Already closed is fine: the reader is unblocked anyway.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(remaining, abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conn.request("GET", target, headers={"Accept": "application/json", **headers})
        resp = conn.getresponse()
        location = resp.getheader("Location")
        if resp.status in REDIRECT_STATUSES and location:
            return Response(resp.status, b"", url), location
        declared = resp.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"response of {declared} bytes is over the limit of {max_bytes}")
        body = bytearray()
        while True:
            chunk = resp.read1(_CHUNK) if not fired.is_set() else b""
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"response is over the limit of {max_bytes} bytes")
        if fired.is_set():
            raise FetchError(f"timed out after {timeout:g}s")
        return Response(resp.status, bytes(body), url), None
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if fired.is_set() or isinstance(exc, TimeoutError):
            raise FetchError(f"timed out after {timeout:g}s") from None
        raise FetchError(f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        conn.close()
