"""Raw ASGI adapter (no framework): what both servers (granian, uvicorn) and the in-process
tests call.

ASGI hands header values over as the bytes that came on the wire; they are decoded one byte to
one character (ISO-8859-1), as Snowplow's collector does (its HTTP server, http4s blaze, reads
header bytes that way: ``ParserBase.next`` in ``http4s/blaze``), so any byte is kept and
``value.encode("latin-1")`` gives it back.

Request bodies are bounded three ways: size (``limits.drop_payload_bytes``, 413), time from the
end of the headers to the end of the body (``http.body_timeout_seconds``, 408), and the bytes
all unfinished requests hold together (``limits.max_inflight_body_bytes``, 503 so the tracker
retries); each of these answers closes the connection. A large body is handled in a worker
thread, so splitting a big batch never holds up the event loop (``/health`` and other requests).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from plowline.collector.app import CollectorApp
from plowline.collector.http_types import Request, Response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Bodies at least this large are handled off the event loop (their split can take a while);
# tracker batches are usually far smaller (the JavaScript tracker's default cap is 40 000 bytes).
OFFLOAD_BODY_BYTES: Final = 64 * 1024
OFFLOAD_THREADS: Final = 2

_TEXT: Final = ("content-type", "text/plain; charset=utf-8")
_CLOSE: Final = ("connection", "close")


def _refusal(status: int, text: str, *extra: tuple[str, str]) -> Response:
    """An answer that ends the connection: the rest of the body is never read."""
    return Response(status, [_TEXT, _CLOSE, *extra], text.encode("utf-8"))


_TOO_LARGE: Final = _refusal(413, "payload too large")
_BAD_LENGTH: Final = _refusal(400, "invalid content-length")
_TIMEOUT: Final = _refusal(408, "request body not received in time")
_BUSY: Final = _refusal(
    503, "service unavailable: too many bodies in progress, retry later", ("retry-after", "1")
)


class BodyBudget:
    """The request-body bytes all requests in progress may hold at once.

    Used from the event loop's thread only (the worker threads never touch it), so no lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.max_bytes:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


class BodyDeadlines:
    """Ends body reads that outlive their deadline: one sweeper task per event loop, a dict
    entry per read (``asyncio.timeout`` per request cost about 20 µs, a fifth of a request)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._tick = min(0.5, seconds / 4)
        self._reads: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def enter(self) -> asyncio.Task[Any]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None  # called from a request's task, always
        self._reads[task] = loop.time() + self.seconds
        sweeper = self._sweeper
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not loop:
            self._sweeper = loop.create_task(self._sweep())
        return task

    def leave(self, task: asyncio.Task[Any]) -> bool:
        """Done reading; True when the read was cancelled for its deadline."""
        self._reads.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while self._reads:
            await asyncio.sleep(self._tick)
            now = loop.time()
            for task, deadline in list(self._reads.items()):
                # A registered task is suspended in its receive(): the cancel lands there.
                if deadline <= now and task.get_loop() is loop and task not in self._expired:
                    self._expired.add(task)
                    task.cancel()


class AsgiCollector:
    """ASGI 3 application; the lifespan protocol starts and drains the sink buffers."""

    def __init__(self, app: CollectorApp, *, manage_lifecycle: bool = True) -> None:
        self.app = app
        self._manage = manage_lifecycle
        config = app.config
        self._drop = config.limits.drop_payload_bytes
        self.deadlines = BodyDeadlines(config.http.body_timeout_seconds)
        self.budget = BodyBudget(config.limits.max_inflight_body_bytes)
        self._handle = app.service.handle
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

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
                if self._pool is not None:
                    self._pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(OFFLOAD_THREADS, thread_name_prefix="split")
            return self._pool

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[str, str]] = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]
        ]
        method = scope["method"]
        body = b""
        held = 0
        try:
            if method == "POST":
                read = await self._read_body(headers, receive)
                if read is None:
                    return  # the client went away
                if isinstance(read, Response):
                    await _send(send, read, head=False)
                    return
                body, held = read
            client = scope.get("client")
            request = Request(
                method=method,
                path=scope["path"],
                query_string=scope["query_string"].decode("latin-1"),
                headers=headers,
                body=body,
                client_ip=client[0] if client else None,
            )
            if len(body) >= OFFLOAD_BODY_BYTES:
                loop = asyncio.get_running_loop()
                response = await loop.run_in_executor(self._workers(), self._handle, request)
            else:
                response = self._handle(request)
            await _send(send, response, head=method == "HEAD")
        finally:
            if held:
                self.budget.give_back(held)

    async def _read_body(
        self, headers: list[tuple[str, str]], receive: Receive
    ) -> tuple[bytes, int] | Response | None:
        """(body, bytes taken from the budget), a refusal, or None when the client left."""
        declared = next((v for k, v in headers if k == "content-length"), None)
        if declared is not None:
            declared = declared.strip()
            if not declared.isdigit():
                return _BAD_LENGTH
            if int(declared) > self._drop:
                return _TOO_LARGE
        buffer = bytearray()
        held = 0
        task = self.deadlines.enter()
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    self.budget.give_back(held)
                    return None
                chunk = message.get("body", b"")
                if len(buffer) + len(chunk) > self._drop:
                    self.budget.give_back(held)
                    return _TOO_LARGE
                if chunk:
                    if not self.budget.take(len(chunk)):
                        self.budget.give_back(held)
                        return _BUSY
                    held += len(chunk)
                    buffer += chunk
                more = message.get("more_body", False)
        except asyncio.CancelledError:
            if not self.deadlines.leave(task):
                raise  # not ours: the server cancelled the request
            task.uncancel()
            self.budget.give_back(held)
            return _TIMEOUT
        finally:
            self.deadlines.leave(task)
        return bytes(buffer), held


async def _send(send: Send, response: Response, *, head: bool) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})
