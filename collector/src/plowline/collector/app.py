"""Composition root: config -> sinks -> buffers -> service (+ metrics). One per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Literal

from plowline.collector import framing
from plowline.collector.buffer import BufferSettings, SinkBuffer
from plowline.collector.config import CollectorConfig, SinkConfig
from plowline.collector.metrics import Metrics
from plowline.collector.service import CollectorService
from plowline.collector.sinks import Sink

log = logging.getLogger("plowline.collector")

Stream = Literal["good", "bad"]


def build_sink(config: SinkConfig, stream: Stream) -> Sink:
    """Instantiate the sink a config section describes (cloud clients imported lazily)."""
    binary = stream == "good"
    limit = config.max_record_bytes
    if config.type == "stdout":
        from plowline.collector.sinks.stdout import StdoutSink

        encoding = config.encoding or ("base64" if binary else "raw")
        return StdoutSink(encoding, max_record_bytes=limit or 1_000_000)
    if config.type == "file":
        from plowline.collector.sinks.files import FileSink

        return FileSink(
            config.directory,
            prefix=config.prefix,
            encoding=config.encoding or ("base64" if binary else "raw"),
            rotate_bytes=config.rotate_bytes,
            rotate_seconds=config.rotate_seconds,
            fsync=config.fsync,
            max_record_bytes=limit or 1_000_000,
        )
    if config.type == "memory":
        from plowline.collector.sinks.memory import MemorySink

        return MemorySink(limit or 1_000_000, keep=config.keep)
    if config.type == "kafka":
        from plowline.collector.sinks.kafka import KafkaSink

        return KafkaSink(
            config.bootstrap_servers,
            config.topic,
            extra=config.producer,
            max_record_bytes=limit or 1_000_000,
        )
    if config.type == "kinesis":
        from plowline.collector.sinks.kinesis import KinesisSink

        return KinesisSink(
            config.stream_name,
            region=config.region,
            endpoint_url=config.endpoint_url,
            max_attempts=config.max_attempts,
            max_record_bytes=limit or 1_000_000,
        )
    if config.type == "sqs":
        from plowline.collector.sinks.sqs import SqsSink

        return SqsSink(
            config.queue_url,
            region=config.region,
            endpoint_url=config.endpoint_url,
            max_attempts=config.max_attempts,
            max_record_bytes=limit or 192_000,
        )
    from plowline.collector.sinks.s3 import S3Sink

    return S3Sink(
        config.bucket,
        prefix=config.prefix,
        region=config.region,
        endpoint_url=config.endpoint_url,
        object_max_bytes=config.object_max_bytes,
        format=config.format or ("framed" if binary else "lines"),
        max_record_bytes=limit or 1_000_000,
    )


@dataclass
class CollectorApp:
    """Everything one collector process runs, with its start/stop lifecycle."""

    config: CollectorConfig
    service: CollectorService
    good: SinkBuffer
    bad: SinkBuffer
    metrics: Metrics
    started: bool = False

    def start(self) -> None:
        if not self.started:
            timeout = self.config.buffer.drain_timeout_seconds
            self.good.replay_spilled(timeout)
            self.bad.replay_spilled(timeout)
            self.good.start()
            self.bad.start()
            self.started = True
            log.info(
                "collector started",
                extra={"good_sink": self.good.sink.name, "bad_sink": self.bad.sink.name},
            )

    def stop(self) -> int:
        """Drain both buffers (bounded by the drain timeout); returns records not delivered."""
        timeout = self.config.buffer.drain_timeout_seconds
        lost = self.good.close(timeout) + self.bad.close(timeout)
        log.info("collector stopped", extra={"undelivered_records": lost})
        return lost


def build_app(
    config: CollectorConfig, *, good_sink: Sink | None = None, bad_sink: Sink | None = None
) -> CollectorApp:
    """Wire a collector; sinks may be injected (tests, benchmarks, embedding)."""
    metrics = Metrics()
    b = config.buffer
    settings = BufferSettings(
        max_bytes=b.max_bytes,
        batch_max_records=b.batch_max_records,
        batch_max_bytes=b.batch_max_bytes,
        linger_seconds=b.linger_ms / 1000,
        retry_initial_seconds=b.retry_initial_ms / 1000,
        retry_max_seconds=b.retry_max_ms / 1000,
        flush_timeout_seconds=b.flush_timeout_seconds,
    )
    good_sink = good_sink or build_sink(config.sinks.good, "good")
    bad_sink = bad_sink or build_sink(config.sinks.bad, "bad")
    mode = config.sinks.framing
    pack = None
    if mode is not framing.Framing.NONE:
        pack = partial(framing.pack, framing=mode, max_record_bytes=good_sink.max_record_bytes)
    spill_dir = b.spill_directory
    good = SinkBuffer(
        good_sink,
        settings,
        pack=pack,
        observer=metrics.observer("good"),
        name="good",
        spill_dir=spill_dir,
    )
    bad = SinkBuffer(
        bad_sink, settings, observer=metrics.observer("bad"), name="bad", spill_dir=spill_dir
    )
    metrics.watch_buffer(good)
    metrics.watch_buffer(bad)
    service = CollectorService(
        config,
        good,
        bad,
        metrics_body=metrics.exposition if config.metrics.enabled else None,
        on_response=metrics.count_response,
    )
    return CollectorApp(config, service, good, bad, metrics)
