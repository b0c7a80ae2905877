"""Raw ASGI adapter (no framework): used by uvicorn and by the in-process tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from plowline.collector.app import CollectorApp
from plowline.collector.http_types import Request, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TOO_LARGE = Response(413, [("content-type", "text/plain; charset=utf-8")], b"payload too large")


class AsgiCollector:
    """ASGI 3 application; the lifespan protocol starts and drains the sink buffers."""

    def __init__(self, app: CollectorApp, *, manage_lifecycle: bool = True) -> None:
        self.app = app
        self._manage = manage_lifecycle
        self._drop = app.config.limits.drop_payload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._manage:
                    self.app.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._manage:
                    self.app.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[str, str]] = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]
        ]
        body = b""
        if scope["method"] == "POST":
            declared = next((v for k, v in headers if k == "content-length"), None)
            if declared is not None and declared.isdigit() and int(declared) > self._drop:
                await _send(send, _TOO_LARGE, head=False)
                return
            chunks = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self._drop:
                    await _send(send, _TOO_LARGE, head=False)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
        client = scope.get("client")
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query_string=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=body,
            client_ip=client[0] if client else None,
        )
        response = self.app.service.handle(request)
        await _send(send, response, head=scope["method"] == "HEAD")


async def _send(send: Send, response: Response, *, head: bool) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})
