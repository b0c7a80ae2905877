"""Composition root: config -> sinks -> buffers -> service (+ metrics). One per process.

Sinks are the streams of ``plowline.streams``; the hooks below keep the collector's own
layout (file and object names, base64 lines, framed S3 objects) as documented in the README.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Literal

from plowline.collector.buffer import BufferSettings, SinkBuffer
from plowline.collector.config import CollectorConfig, SinkConfig
from plowline.collector.metrics import Metrics
from plowline.collector.service import CollectorService
from plowline.spec import framing
from plowline.streams import Sink

log = logging.getLogger("plowline.collector")

Stream = Literal["good", "bad"]
OPEN_SUFFIX = ".open"  # the file being written; renamed without it on rotation


def _file_name(prefix: str, ext: str, seq: int) -> str:
    """``<prefix>-<UTC start>-<pid>-<seq>.<ext>``: unique across restarts and processes."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}-{seq:06d}.{ext}"


def _object_key(prefix: str, ext: str) -> str:
    """``<prefix>YYYY/MM/DD/HH/<epoch ms>-<uuid>.<ext>`` (UTC)."""
    now = datetime.now(UTC)
    return f"{prefix}{now:%Y/%m/%d/%H}/{int(time.time() * 1000)}-{uuid.uuid4().hex}.{ext}"


def _framed_object(values: Sequence[bytes]) -> bytes:
    """One gzip'd §2.6 batch per object, readable with ``plowline.spec.framing.unpack``."""
    return framing.encode_batch(values, framing.Framing.GZIP)


def build_sink(config: SinkConfig, stream: Stream) -> Sink:
    """Open the stream sink a config section describes (cloud clients imported lazily)."""
    binary = stream == "good"
    limit = config.max_record_bytes
    if config.type == "stdout":
        from plowline.streams.stdio import StdoutSink

        encoding = config.encoding or ("base64" if binary else "raw")
        return StdoutSink("stdout:", encoding=encoding, max_record_bytes=limit or 1_000_000)
    if config.type == "file":
        from plowline.streams.files import FileSink

        encoding = config.encoding or ("base64" if binary else "raw")
        ext = "b64" if encoding == "base64" else "lines"
        return FileSink(
            f"file://{config.directory.absolute()}/",
            config.directory,
            directory=True,
            encoding=encoding,
            name=partial(_file_name, config.prefix, ext),
            in_progress_suffix=OPEN_SUFFIX,
            max_bytes=config.rotate_bytes,
            max_age=config.rotate_seconds,
            fsync=config.fsync,
            max_record_bytes=limit or 1_000_000,
        )
    if config.type == "memory":
        from plowline.collector.sinks.memory import MemorySink

        return MemorySink(limit or 1_000_000, keep=config.keep)
    if config.type == "kafka":
        from plowline.streams.kafka import KafkaSink

        return KafkaSink(
            f"kafka://{config.bootstrap_servers}/{config.topic}",
            config.bootstrap_servers,
            config.topic,
            max_record_bytes=limit or 1_000_000,
            # librdkafka's own log lines go through logging (JSON), not stderr.
            config={"client.id": "plowline-collector", "logger": log, **config.producer},
        )
    if config.type == "kinesis":
        from plowline.streams.kinesis import KinesisSink

        return KinesisSink(
            f"kinesis://{config.stream_name}",
            config.stream_name,
            region=config.region,
            endpoint_url=config.endpoint_url,
            max_attempts=config.max_attempts,
            max_record_bytes=limit or 1_000_000,
        )
    if config.type == "sqs":
        from plowline.streams.sqs import SqsSink

        name = config.queue_url.rstrip("/").rsplit("/", 1)[-1]
        return SqsSink(
            f"sqs://{name}",
            name,
            queue_url=config.queue_url,
            region=config.region,
            endpoint_url=config.endpoint_url,
            max_attempts=config.max_attempts,
            max_record_bytes=limit or 192_000,
        )
    from plowline.streams.s3 import S3Sink

    framed = (config.format or ("framed" if binary else "lines")) == "framed"
    ext = "framed.gz" if framed else "jsonl.gz"
    return S3Sink(
        f"s3://{config.bucket}/{config.prefix}",
        config.bucket,
        config.prefix,
        region=config.region,
        endpoint_url=config.endpoint_url,
        max_object_bytes=config.object_max_bytes,
        key=partial(_object_key, config.prefix, ext),
        body=_framed_object if framed else None,  # lines: the stream's gzip'd lines
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
                extra={"good_sink": self.good.kind, "bad_sink": self.bad.kind},
            )

    def stop(self) -> int:
        """Drain both buffers (bounded by the drain timeout); returns records not delivered."""
        timeout = self.config.buffer.drain_timeout_seconds
        lost = self.good.close(timeout) + self.bad.close(timeout)
        log.info("collector stopped", extra={"undelivered_records": lost})
        return lost


def _open(injected: Sink | None, config: SinkConfig, stream: Stream) -> Sink:
    return build_sink(config, stream) if injected is None else injected


def build_app(
    config: CollectorConfig,
    *,
    good_sink: Sink | None = None,
    bad_sink: Sink | None = None,
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
    good_out = _open(good_sink, config.sinks.good, "good")
    bad_out = _open(bad_sink, config.sinks.bad, "bad")
    mode = config.sinks.framing
    pack = None
    if mode is not framing.Framing.NONE:
        pack = partial(framing.pack, framing=mode, max_record_bytes=good_out.max_record_bytes)
    spill_dir = b.spill_directory
    good = SinkBuffer(
        good_out,
        settings,
        pack=pack,
        observer=metrics.observer("good"),
        name="good",
        spill_dir=spill_dir,
    )
    bad = SinkBuffer(
        bad_out, settings, observer=metrics.observer("bad"), name="bad", spill_dir=spill_dir
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
