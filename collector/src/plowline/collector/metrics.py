"""Prometheus metrics on a registry of the collector's own (several apps may share a process)."""

from __future__ import annotations

from typing import Any

from plowline.collector.buffer import BufferObserver, SinkBuffer
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only add noise to a scrape
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "plowline_collector_requests",
            "HTTP requests answered, by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self._bound: dict[tuple[str, int], Any] = {}
        self._sink_seconds = Histogram(
            "plowline_collector_sink_write_seconds",
            "Time from taking a batch off the buffer to the sink confirming it",
            ["stream"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self._sink_records = Counter(
            "plowline_collector_sink_records",
            "Records the sink confirmed durable",
            ["stream"],
            registry=self.registry,
        )
        self._sink_failures = Counter(
            "plowline_collector_sink_failures",
            "Failed delivery attempts (each is retried)",
            ["stream"],
            registry=self.registry,
        )
        self._fill = Gauge(
            "plowline_collector_buffer_fill_ratio",
            "Share of the buffer taken by records not yet confirmed by the sink (1 = 503s)",
            ["stream"],
            registry=self.registry,
        )
        self._pending = Gauge(
            "plowline_collector_buffer_pending_bytes",
            "Bytes accepted but not yet confirmed by the sink",
            ["stream"],
            registry=self.registry,
        )

    def count_response(self, route: str, status: int) -> None:
        child = self._bound.get((route, status))
        if child is None:
            child = self._requests.labels(route=route, status=str(status))
            self._bound[(route, status)] = child
        child.inc()

    def observer(self, stream: str) -> BufferObserver:
        seconds = self._sink_seconds.labels(stream=stream)
        records = self._sink_records.labels(stream=stream)
        failures = self._sink_failures.labels(stream=stream)

        def delivered(count: int, elapsed: float) -> None:
            seconds.observe(elapsed)
            records.inc(count)

        return BufferObserver(on_delivered=delivered, on_failure=lambda _error: failures.inc())

    def watch_buffer(self, buffer: SinkBuffer) -> None:
        self._fill.labels(stream=buffer.name).set_function(lambda: buffer.fill_ratio)
        self._pending.labels(stream=buffer.name).set_function(lambda: buffer.pending_bytes)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
