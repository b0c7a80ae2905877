"""A loopback collector that records the wire, for testing code that tracks (and this tracker).

``RecordingCollector`` listens on 127.0.0.1, answers each request according to a script
(``Respond(500)``, ``Respond(429, {"Retry-After": "1"})``, ``Reset()``, ``Hang(2.0)``; then 200
once the script runs out) and decodes every request back into tracker-protocol parameters::

    with RecordingCollector() as collector:
        tracker = Tracker(SyncEmitter(collector.url), app_id="shop")
        tracker.track(PageView(page_url="https://a.example/"))
        assert collector.accepted_events()[0]["e"] == "pv"
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer with this status (and headers)."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reset:
    """Drop the connection with a TCP reset, answering nothing."""


@dataclass(frozen=True, slots=True)
class Hang:
    """Answer nothing for ``seconds`` (longer than the client's timeout), then close."""

    seconds: float


Action = Respond | Reset | Hang


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received, and the status it was answered with (None: no answer)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    answer: int | None

    def events(self) -> list[dict[str, str]]:
        """The tracker-protocol events in this request, decoded as a collector would.

        GET: the querystring (``+`` and ``%XX`` decoded, last duplicate wins). POST: each item
        of the payload_data ``data`` array, with querystring parameters merged in (they win).
        """
        query = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.method == "GET":
            return [query]
        envelope = json.loads(self.body.decode("utf-8"))
        items: list[dict[str, str]] = envelope["data"]
        return [{**item, **query} for item in items]

    def envelope(self) -> Any:
        """The decoded POST body (the payload_data self-describing JSON)."""
        return json.loads(self.body.decode("utf-8"))


class RecordingCollector:
    """A threaded HTTP/1.1 (keep-alive) server on a free loopback port."""

    def __init__(self, script: Iterable[Action] = ()) -> None:
        self._script: deque[Action] = deque(script)
        self._requests: list[RecordedRequest] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="recording-collector",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *actions: Action) -> None:
        """Queue answers for the next requests (after these, requests get 200)."""
        with self._changed:
            self._script.extend(actions)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._changed:
            return list(self._requests)

    def accepted_events(self) -> list[dict[str, str]]:
        """Events of every request answered 2xx, in arrival order."""
        return [
            event
            for request in self.requests
            if request.answer is not None and 200 <= request.answer < 300
            for event in request.events()
        ]

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` requests have been recorded."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RecordingCollector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _next_action(self) -> Action:
        with self._changed:
            return self._script.popleft() if self._script else Respond()

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read the record, not stderr."""

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                action = collector._next_action()
                answer = action.status if isinstance(action, Respond) else None
                collector._record(
                    RecordedRequest(
                        method=self.command,
                        path=parts.path,
                        query=parts.query,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        answer=answer,
                    )
                )
                if isinstance(action, Respond):
                    payload = b"ok"
                    self.send_response(action.status)
                    for name, value in action.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                elif isinstance(action, Reset):
                    # SO_LINGER 0 turns close() into a TCP RST ("connection reset by peer").
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                else:
                    time.sleep(action.seconds)
                    self.close_connection = True

            do_GET = _handle  # noqa: N815 (http.server's naming)
            do_POST = _handle  # noqa: N815

        return Handler
