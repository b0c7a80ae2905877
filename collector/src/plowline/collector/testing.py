"""An in-process collector for tests (ours and other components'): in-memory sinks, ASGI calls.

harness = make_harness({"cookie": {"domains": ["example.com"]}})
response = harness.request("GET", "/i", query="e=pv")
[payload] = harness.payloads()
harness.close()

It also starts the collector as a real process (`spawn_collector`, `end_group`) for tests that
need its server and signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from plowline.collector.app import CollectorApp, build_app
from plowline.collector.asgi import AsgiCollector
from plowline.collector.config import CollectorConfig
from plowline.collector.http_types import Response
from plowline.collector.sinks.memory import MemorySink
from plowline.spec.collector_payload import CollectorPayload, decode
from plowline.spec.framing import unpack


@dataclass
class AppClient:
    """Calls a collector app in-process through its ASGI adapter (no sockets)."""

    app: CollectorApp
    asgi: AsgiCollector

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        client_ip: str | None = "203.0.113.9",
        chunked: bool = False,
    ) -> Response:
        hdrs = list(headers or [])
        if body and not chunked and not any(k.lower() == "content-length" for k, _ in hdrs):
            hdrs.append(("content-length", str(len(body))))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode("utf-8", "replace"),
            "query_string": query.encode("latin-1"),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in hdrs],
            "client": (client_ip, 50000) if client_ip else None,
            "server": ("127.0.0.1", 8080),
        }
        chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]
        messages = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(dict(message))

        asyncio.run(self.asgi(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Response(
            start["status"],
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
            body_out,
        )

    def close(self) -> int:
        return self.app.stop()


@dataclass
class Harness(AppClient):
    """A started collector whose sinks are lists."""

    good: MemorySink
    bad: MemorySink

    def settle(self) -> None:
        if not (self.app.good.wait_idle(10) and self.app.bad.wait_idle(10)):
            raise TimeoutError("records still pending after 10 s")

    def payloads(self) -> list[CollectorPayload]:
        self.settle()
        return [decode(p) for record in self.good.records for p in unpack(record)]

    def bad_rows(self) -> list[Any]:
        self.settle()
        return [orjson.loads(r) for r in self.bad.records]

    def close(self) -> int:
        self.good.failing = False
        self.bad.failing = False
        return self.app.stop()


def _config(settings: dict[str, Any] | None) -> CollectorConfig:
    data: dict[str, Any] = {"buffer": {"linger_ms": 1, "retry_initial_ms": 5}}
    for key, value in (settings or {}).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return CollectorConfig.model_validate(data)


def make_client(settings: dict[str, Any] | None = None) -> AppClient:
    """A started collector with the sinks its config names (real Kafka, Kinesis...)."""
    app = build_app(_config(settings))
    app.start()
    return AppClient(app, AsgiCollector(app))


def make_harness(
    settings: dict[str, Any] | None = None,
    *,
    good_max: int = 1_000_000,
    bad_max: int = 1_000_000,
) -> Harness:
    """A started collector; ``settings`` is a config dict (sections merged over test defaults)."""
    config = _config(settings)
    good, bad = MemorySink(good_max), MemorySink(bad_max)
    app = build_app(config, good_sink=good, bad_sink=bad)
    app.start()
    return Harness(app, AsgiCollector(app), good, bad)


class CollectorStartError(RuntimeError):
    """The collector process exited or did not listen in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn_collector(
    config: Path, port: int, *, timeout: float = 30.0, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """`plowline.collector.cli --config` as a real process, returned once it listens on `port`.

    It runs in its own process group (so `end_group` also ends the server's workers) and
    without the caller's PLOWLINE_COLLECTOR_* overrides, so `config` alone decides. On
    failure the group is ended and CollectorStartError says why (with stderr if piped).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "plowline.collector.cli", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PLOWLINE_COLLECTOR_")},
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            exited = proc.poll() is not None
            if exited or time.monotonic() > deadline:
                end_group(proc)
                why = "exited during start-up" if exited else f"did not listen within {timeout} s"
                output = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise CollectorStartError(f"collector {why}: {output}".strip()) from None
            time.sleep(0.05)


def end_group(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """End a spawned collector and its workers: SIGTERM (it drains), then SIGKILL the group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
