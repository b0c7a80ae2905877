"""RSGI adapter for granian: the fast path (granian's Rust HTTP stack calls us directly)."""

from __future__ import annotations

from typing import Any

from plowline.collector.app import CollectorApp
from plowline.collector.http_types import Request

_TEXT = [("content-type", "text/plain; charset=utf-8")]


def _client_ip(client: str) -> str | None:
    """RSGI gives ``ip:port`` (``[v6]:port`` for IPv6)."""
    if not client:
        return None
    host, sep, _port = client.rpartition(":")
    if not sep:
        return client
    return host.strip("[]") or None


class RsgiCollector:
    """RSGI application; ``__rsgi_init__``/``__rsgi_del__`` start and drain the buffers."""

    def __init__(self, app: CollectorApp, *, manage_lifecycle: bool = True) -> None:
        self.app = app
        self._manage = manage_lifecycle
        self._drop = app.config.limits.drop_payload_bytes
        self._handle = app.service.handle

    def __rsgi_init__(self, loop: Any) -> None:
        if self._manage:
            self.app.start()

    def __rsgi_del__(self, loop: Any) -> None:
        if self._manage:
            self.app.stop()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        await self(scope, proto)

    async def __call__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        method: str = scope.method
        headers: list[tuple[str, str]] = scope.headers.items()
        body = b""
        if method == "POST":
            declared = scope.headers.get("content-length")
            if declared is not None:
                if not declared.isdigit():
                    proto.response_bytes(400, _TEXT, b"invalid content-length")
                    return
                if int(declared) > self._drop:
                    proto.response_bytes(413, _TEXT, b"payload too large")
                    return
                body = await proto()
            else:  # chunked: count as it arrives
                chunks = []
                size = 0
                async for chunk in proto:
                    size += len(chunk)
                    if size > self._drop:
                        proto.response_bytes(413, _TEXT, b"payload too large")
                        return
                    chunks.append(chunk)
                body = b"".join(chunks)
        request = Request(
            method, scope.path, scope.query_string, headers, body, _client_ip(scope.client)
        )
        response = self._handle(request)
        proto.response_bytes(response.status, response.headers, response.body)
