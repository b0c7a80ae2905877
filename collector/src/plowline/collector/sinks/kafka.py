"""Kafka sink: confluent-kafka (librdkafka) idempotent producer with acks=all.

librdkafka retries transient failures itself (and, being idempotent, without duplicates), so
``flush`` that times out leaves messages safely queued inside the producer; only messages
whose delivery report is an error are handed back as undelivered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from plowline.collector.sinks import SinkError

log = logging.getLogger("plowline.collector.sinks.kafka")

# How long write() waits for room in librdkafka's local queue before handing records back.
_QUEUE_FULL_WAIT = 1.0


class KafkaSink:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        extra: Mapping[str, str | int | float | bool] | None = None,
        max_record_bytes: int = 1_000_000,
    ) -> None:
        self._topic = topic
        self._max = max_record_bytes
        self._conf: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "client.id": "plowline-collector",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.max.bytes": max(max_record_bytes + 4096, 1_000_000),
            "error_cb": self._on_error,
            "logger": log,  # librdkafka's own log lines go through logging (JSON), not stderr
        }
        self._conf.update(extra or {})
        self._lock = threading.Lock()
        self._failed: list[bytes] = []
        self._broker_down = False
        self._fatal = False
        self._producer = Producer(self._conf)

    @property
    def name(self) -> str:
        return "kafka"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def _on_error(self, err: KafkaError) -> None:
        code = err.code()
        if err.fatal():
            self._fatal = True
            log.error("fatal Kafka producer error: %s", err.str())
        elif code in (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT):
            self._broker_down = True
        log.warning("kafka producer: %s", err.str())

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if err is None:
            self._broker_down = False
            return
        with self._lock:
            self._failed.append(msg.value())

    def _recreate_if_fatal(self) -> None:
        if self._fatal:
            # A fatal idempotence error poisons the producer; its queued messages have all
            # been reported failed (and so come back to us). Start a fresh producer.
            self._producer.flush(0)
            self._producer = Producer(self._conf)
            self._fatal = False

    def write(self, records: Sequence[bytes]) -> None:
        self._recreate_if_fatal()
        produce = self._producer.produce
        for index, record in enumerate(records):
            deadline = time.monotonic() + _QUEUE_FULL_WAIT
            while True:
                try:
                    produce(self._topic, record, on_delivery=self._on_delivery)
                    break
                except BufferError:
                    if time.monotonic() >= deadline:
                        raise SinkError(
                            "kafka producer queue full", undelivered=records[index:]
                        ) from None
                    self._producer.poll(0.05)
                except KafkaException as exc:
                    raise SinkError(f"kafka produce failed: {exc}", records[index:]) from exc
        self._producer.poll(0)

    def flush(self, timeout: float) -> None:
        remaining = self._producer.flush(timeout)
        with self._lock:
            failed, self._failed = self._failed, []
        if failed or remaining:
            raise SinkError(
                f"kafka: {len(failed)} message(s) failed, {remaining} still in flight",
                undelivered=failed,
            )

    def close(self) -> None:
        self._producer.flush(5)

    def healthy(self) -> bool:
        return not (self._broker_down or self._fatal)
