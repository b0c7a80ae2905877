"""One ASGI app for `plowline up`: inspection API, UI and OpenAPI first, collector for the rest."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Callable
from importlib import resources
from typing import Any, Final, Protocol

from plowline.collector.asgi import AsgiCollector, Message, Receive, Scope, Send
from plowline.conformance.up.api import MicroApi, Reply, error

UI_PATH: Final = "/micro/ui"
MAX_API_BODY: Final = 1_048_576
DURABLE_TIMEOUT: Final = 30.0  # seconds a collector answer may wait for the journal
_UI_FILES: Final = ("index.html", "app.js", "style.css")


def _package_file(name: str) -> bytes:
    return (resources.files("plowline.conformance.up") / name).read_bytes()


class UpAsgi:
    def __init__(
        self,
        api: MicroApi,
        collector: AsgiCollector,
        *,
        on_startup: Callable[[], None] = lambda: None,
        on_shutdown: Callable[[], None] = lambda: None,
        acks: Acknowledging | None = None,
    ) -> None:
        self.api = api
        self.collector = collector
        self.acks = acks
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self._static: dict[str, tuple[str, bytes]] = {}
        for name in _UI_FILES:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._static[name] = (f"{kind}; charset=utf-8", _package_file(f"ui/{name}"))
        self._openapi = _package_file("openapi.json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/":
            await _send(send, Reply(302, "text/plain", b""), [("location", UI_PATH + "/")])
            return
        if path == "/openapi.json":
            await _send(send, Reply(200, "application/json", self._openapi))
            return
        if path == UI_PATH:
            await _send(send, Reply(302, "text/plain", b""), [("location", UI_PATH + "/")])
            return
        if path.startswith(UI_PATH + "/"):
            name = path[len(UI_PATH) + 1 :] or "index.html"
            found = self._static.get(name)
            reply = Reply(200, *found) if found else error(404, f"no UI file {name!r}")
            await _send(send, reply, [("cache-control", "no-cache")])
            return
        if path.startswith(("/micro/", "/plowline/")):
            body = await _read_body(receive)
            if body is None:
                await _send(send, error(413, "request body too large"))
                return
            # Store reads and resets may touch the disk: keep the event loop free for the
            # collector meanwhile.
            answer = await asyncio.to_thread(self.api.handle, method, path, body)
            await _send(send, answer or error(404, f"no such route: {path}"))
            return
        if self.acks is None:
            await self.collector(scope, receive, send)
        else:
            await self.collector(scope, receive, _DurableSend(send, self.acks))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._on_startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self._on_shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return


class Acknowledging(Protocol):
    async def wait(self, timeout: float) -> bool: ...


class _DurableSend:
    """Holds the collector's answer until what it accepted is journaled; answers 503 instead
    when that does not happen in time (the tracker then sends again)."""

    def __init__(self, send: Send, acks: Acknowledging) -> None:
        self._send = send
        self._acks = acks
        self._replaced = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if not await self._acks.wait(DURABLE_TIMEOUT):
                self._replaced = True
                await _send(self._send, error(503, "not stored in time; retry later"))
                return
        elif self._replaced:
            return
        await self._send(message)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_API_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, reply: Reply, extra: list[tuple[str, str]] | None = None) -> None:
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        (b"access-control-allow-origin", b"*"),
    ]
    headers += [(k.encode(), v.encode()) for k, v in extra or []]
    message: dict[str, Any] = {"type": "http.response.start", "status": reply.status}
    message["headers"] = headers
    await send(message)
    await send({"type": "http.response.body", "body": reply.body})
