"""HTTP transport: stdlib ``http.client`` with one keep-alive connection per emitter.

Why stdlib: zero dependencies for a library that lands in other people's applications, and a
single worker sends one request at a time, so one persistent connection is all the pooling
needed. ``urllib.request`` would open a connection per request; requests/httpx/urllib3 would
add a dependency tree for features (pools, redirects, cookies) a tracker does not use.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from plowline.tracker.errors import ConfigurationError, TransportError


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the collector listens: scheme, host, port and an optional path prefix."""

    scheme: str
    host: str
    port: int
    base_path: str = ""

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Parse ``http(s)://host[:port][/prefix]``; a bare ``host[:port]`` means https."""
        if not isinstance(url, str) or not url:
            raise ConfigurationError(f"collector endpoint must be a URL, got {url!r}")
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"collector endpoint must be http(s)://host[:port], got {url!r}"
            )
        if parts.query or parts.fragment:
            raise ConfigurationError(f"collector endpoint must not carry a query: {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise ConfigurationError(f"bad port in collector endpoint {url!r}: {error}") from None
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What the emitter needs from a response: the status and the Retry-After header."""

    status: int
    retry_after: str | None = None


class Transport(Protocol):
    """Sends one HTTP request and returns its response, or raises TransportError."""

    def send(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> HttpResponse: ...

    def close(self) -> None: ...


class HttpClientTransport:
    """One persistent ``http.client`` connection, reopened after any failure.

    Not thread-safe by design: the emitter serialises sends under its own lock.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout_s: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ConfigurationError(f"timeout_s must be positive, got {timeout_s}")
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._ssl_context = ssl_context
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        ep = self._endpoint
        if ep.scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(
                ep.host, ep.port, timeout=self._timeout_s, context=context
            )
        return http.client.HTTPConnection(ep.host, ep.port, timeout=self._timeout_s)

    def send(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> HttpResponse:
        reused = self._connection is not None
        try:
            return self._exchange(method, target, body, headers)
        except (OSError, http.client.HTTPException) as first:
            self.close()
            # A kept-alive connection the server closed while idle fails on first use; one
            # immediate retry on a fresh connection is what every HTTP client does here.
            if reused and isinstance(first, http.client.RemoteDisconnected | BrokenPipeError):
                try:
                    return self._exchange(method, target, body, headers)
                except (OSError, http.client.HTTPException) as second:
                    self.close()
                    raise TransportError(_describe(second)) from second
            raise TransportError(_describe(first)) from first

    def _exchange(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> HttpResponse:
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        connection.request(method, self._endpoint.base_path + target, body, dict(headers))
        response = connection.getresponse()
        response.read()  # drain so the connection can be reused
        if response.will_close:
            self.close()
        return HttpResponse(response.status, response.getheader("Retry-After"))

    def close(self) -> None:
        """Close the connection (the next send opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def after_fork(self) -> None:
        """Forget the parent's socket without shutting it down (the parent still uses it)."""
        self._connection = None


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
