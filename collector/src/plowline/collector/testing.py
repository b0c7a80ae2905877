"""An in-process collector for tests (ours and other components'): in-memory sinks, ASGI calls.

harness = make_harness({"cookie": {"domains": ["example.com"]}})
response = harness.request("GET", "/i", query="e=pv")
[payload] = harness.payloads()
harness.close()
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from plowline.collector.app import CollectorApp, build_app
from plowline.collector.asgi import AsgiCollector
from plowline.collector.config import CollectorConfig
from plowline.collector.framing import unpack
from plowline.collector.http_types import Response
from plowline.collector.payload import CollectorPayload, decode
from plowline.collector.sinks.memory import MemorySink


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
