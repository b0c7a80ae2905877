"""The capture collector: a bare recording HTTP server that answers like a Snowplow collector.

It listens on 127.0.0.1 on a free port, records every request byte for byte and answers GET
``/i`` with a 1x1 GIF and POST ``/com.snowplowanalytics.snowplow/tp2`` with 200 ``ok``, unless a
case scripted something else: the next requests may get a status code, a delay, a
``Retry-After`` header or a dropped connection, in order, one scripted answer per request.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final
from urllib.parse import urlsplit

GET_PATH: Final = "/i"
POST_PATH: Final = "/com.snowplowanalytics.snowplow/tp2"
# The smallest transparent GIF, as Snowplow's collector returns for /i.
PIXEL: Final = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
MAX_BODY: Final = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ScriptedAnswer:
    """How to answer one request: status, extra delay, Retry-After, or drop the connection."""

    status: int = 200
    delay_ms: int = 0
    retry_after: str | None = None
    drop: bool = False


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as it arrived, and how it was answered (``status`` None: dropped)."""

    index: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_s: float
    status: int | None
    known_path: bool

    @property
    def accepted(self) -> bool:
        """Answered 2xx on a collector path: the events in it count as delivered."""
        return self.known_path and self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class _State:
    script: list[ScriptedAnswer] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    in_flight: int = 0
    get_path: str = GET_PATH
    post_path: str = POST_PATH


def retry_after_value(scripted: str) -> str:
    """The header value: as scripted, except ``http-date+N`` becomes the HTTP date N s from now."""
    if scripted.startswith("http-date+") and scripted[10:].isdigit():
        return formatdate(time.time() + int(scripted[10:]), usegmt=True)
    return scripted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as trackers use it
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the recording is the log."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        """A browser's CORS preflight: allowed, as Snowplow's collector does, and not recorded."""
        self.send_response(200)
        self._cors()
        self.send_header("Access-Control-Allow-Headers", "Content-Type, SP-Anonymous")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Credentials", "true")

    def _body(self) -> bytes:
        """The request body, by Content-Length or chunked (some HTTP clients stream POSTs)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while total <= MAX_BODY:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
                total += size
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""

    def _handle(self) -> None:
        collector = self.server.collector
        received = time.monotonic()
        try:
            body = self._body()
        except ValueError:
            self.send_error(400, "unreadable body")
            return
        with collector.lock:
            state = collector.state
            state.in_flight += 1
            answer = state.script.pop(0) if state.script else ScriptedAnswer()
            parts = urlsplit(self.path)
            known = (self.command == "GET" and parts.path == state.get_path) or (
                self.command == "POST" and parts.path == state.post_path
            )
        try:
            self._answer(collector, answer, known, parts.path, parts.query, body, received)
        finally:
            with collector.lock:
                state.in_flight -= 1
                collector.changed.notify_all()

    def _answer(
        self,
        collector: CaptureCollector,
        answer: ScriptedAnswer,
        known: bool,
        path: str,
        query: str,
        body: bytes,
        received: float,
    ) -> None:
        status: int | None = None if answer.drop else (answer.status if known else 404)
        with collector.lock:  # recorded on arrival, so the order is the order of sending
            collector.state.requests.append(
                RecordedRequest(
                    index=len(collector.state.requests),
                    method=self.command,
                    path=path,
                    query=query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_s=received,
                    status=status,
                    known_path=known,
                )
            )
            collector.changed.notify_all()
        if answer.delay_ms:
            collector.interrupt.wait(answer.delay_ms / 1000)
        if status is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = PIXEL if self.command == "GET" and known else b"ok"
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "image/gif" if payload is PIXEL else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        if answer.retry_after is not None:
            self.send_header("Retry-After", retry_after_value(answer.retry_after))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, collector: CaptureCollector) -> None:
        self.collector = collector
        super().__init__(("127.0.0.1", 0), _Handler)


class CaptureCollector:
    """Start with ``with CaptureCollector() as c``; ``c.endpoint`` is the tracker's target."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.interrupt = threading.Event()
        self.state = _State()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CaptureCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.interrupt.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(
        self,
        script: Sequence[ScriptedAnswer] = (),
        get_path: str = GET_PATH,
        post_path: str = POST_PATH,
    ) -> None:
        """Forget the recording and arm a new script (for the next case)."""
        self.interrupt.set()  # cut short the delays of the previous case
        self.wait_idle(5.0)
        with self.lock:
            self.interrupt.clear()
            self.state = _State(script=list(script), get_path=get_path, post_path=post_path)

    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self.state.requests)

    def wait_for(self, count: int, timeout_s: float) -> bool:
        """Wait until at least ``count`` requests were recorded."""
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while len(self.state.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no request is being answered."""
        deadline = time.monotonic() + timeout_s
        with self.lock:
            while self.state.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True
