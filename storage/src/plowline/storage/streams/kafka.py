"""`kafka://<bootstrap>/<topic>?group=<group>` with confluent-kafka (librdkafka).

The sink is an idempotent producer with acks=all; flush() waits for every delivery report.
The source disables auto-commit and commits the highest confirmed offset per partition.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from plowline.storage.streams.base import Record, SinkError, SinkFullError, SourceError, check_sizes

DEFAULT_MAX_RECORD_BYTES = 1_000_000  # the broker's default message.max.bytes


class KafkaSink:
    def __init__(
        self,
        url: str,
        bootstrap: str,
        topic: str,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._topic = topic
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self._fatal: str | None = None
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.max.bytes": max(max_record_bytes + 1024, 1_048_576),
            "error_cb": self._on_error,
        }
        settings.update(config or {})
        try:
            self._producer = Producer(settings)
        except KafkaException as exc:
            raise SinkError(url, f"cannot create producer: {exc}") from exc
        self._closed = False

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = str(error)

    def _on_delivery(self, error: KafkaError | None, _msg: Message) -> None:
        if error is not None:
            with self._lock:
                self._failures.append(str(error))

    def write(self, records: Sequence[Record]) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")
        check_sizes(self.url, records, self.max_record_bytes)
        for index, r in enumerate(records):
            try:
                self._producer.produce(
                    self._topic, value=r.value, key=r.key, on_delivery=self._on_delivery
                )
            except BufferError as exc:
                self._producer.poll(0)
                raise SinkFullError(
                    self.url, f"producer queue full after {index} of {len(records)} records"
                ) from exc
            except KafkaException as exc:
                raise SinkError(self.url, f"produce failed: {exc}") from exc
        self._producer.poll(0)

    def flush(self, timeout: float = 10.0) -> None:
        remaining = self._producer.flush(timeout)
        with self._lock:
            failures, self._failures = self._failures, []
        if remaining:
            raise SinkError(self.url, f"{remaining} records not confirmed within {timeout}s")
        if failures:
            raise SinkError(self.url, f"{len(failures)} deliveries failed: {failures[0]}")

    def healthy(self) -> bool:
        return not self._closed and self._fatal is None

    def close(self, timeout: float = 10.0) -> None:
        if not self._closed:
            try:
                self.flush(timeout)
            finally:
                self._closed = True


class KafkaSource:
    def __init__(
        self,
        url: str,
        bootstrap: str,
        topic: str,
        *,
        group: str = "plowline",
        offset_reset: str = "earliest",
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": offset_reset,
            "enable.partition.eof": False,
        }
        settings.update(config or {})
        try:
            self._consumer = Consumer(settings)
            self._consumer.subscribe([topic])
        except KafkaException as exc:
            raise SourceError(url, f"cannot create consumer: {exc}") from exc
        self._closed = False

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        try:
            messages = self._consumer.consume(max_records, timeout)
        except KafkaException as exc:
            raise SourceError(self.url, f"consume failed: {exc}") from exc
        out: list[Record] = []
        for m in messages:
            error = m.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise SourceError(self.url, f"consume failed: {error}")
            value = m.value()
            out.append(
                Record(
                    value if isinstance(value, bytes) else b"",
                    m.key() if isinstance(m.key(), bytes) else None,
                    (m.topic(), m.partition(), m.offset()),
                )
            )
        return out

    def commit(self, records: Sequence[Record]) -> None:
        highest: dict[tuple[str, int], int] = {}
        for r in records:
            if not (isinstance(r.position, tuple) and len(r.position) == 3):
                raise SourceError(self.url, "commit got records this source did not produce")
            topic, partition, offset = r.position
            key = (topic, partition)
            highest[key] = max(highest.get(key, -1), offset)
        if not highest:
            return
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in highest.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise SourceError(self.url, f"commit failed: {exc}") from exc

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()
