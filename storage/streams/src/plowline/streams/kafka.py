"""`kafka://<bootstrap>/<topic>?group=<group>` with confluent-kafka (librdkafka).

The sink is an idempotent producer with acks=all; flush() waits for every delivery report.
A record whose delivery report is an error is kept and produced again by the next flush, so a
broker outage longer than `message.timeout.ms` loses nothing. A fatal producer error (e.g. an
idempotence sequence gap) replaces the producer; what it still held comes back as failed and
is re-sent. healthy() is False while librdkafka reports every broker down or a fatal error.
The source disables auto-commit and commits the highest confirmed offset per partition. It is
`Rebalancing`: hooks given to `on_revoke` run (inside `poll`, from librdkafka's rebalance
callback) before the group takes partitions away, so a runner can flush and commit first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from plowline.streams.base import Record, SinkError, SinkFullError, SourceError, check_sizes
from plowline.streams.batched import ClosingSink

DEFAULT_MAX_RECORD_BYTES = 1_000_000  # the broker's default message.max.bytes
# librdkafka errors that mean "no broker reachable right now" (it keeps retrying by itself).
_BROKER_DOWN = (KafkaError._ALL_BROKERS_DOWN, KafkaError._TRANSPORT)


class KafkaSink(ClosingSink):
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
        self._failed: list[tuple[bytes | None, bytes | None]] = []  # (key, value) to re-send
        self._last_failure: str | None = None
        self._fatal: str | None = None
        self._broker_down = False
        self._settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "message.max.bytes": max(max_record_bytes + 1024, 1_048_576),
            "error_cb": self._on_error,
        }
        self._settings.update(config or {})
        self._producer = self._new_producer()
        self._closed = False

    def _new_producer(self) -> Producer:
        try:
            return Producer(self._settings)
        except KafkaException as exc:
            raise SinkError(self.url, f"cannot create producer: {exc}") from exc

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = str(error)
        elif error.code() in _BROKER_DOWN:
            self._broker_down = True

    def _on_delivery(self, error: KafkaError | None, msg: Message) -> None:
        if error is None:
            self._broker_down = False
            return
        with self._lock:
            self._failed.append((msg.key(), msg.value()))
            self._last_failure = str(error)

    def _replace_if_fatal(self) -> None:
        """A fatal error poisons the producer: purge it (its records come back as failed)."""
        if self._fatal is None:
            return
        self._producer.purge()
        self._producer.flush(0)  # serves the purge's delivery reports
        self._producer = self._new_producer()
        self._fatal = None

    def _produce(self, key: bytes | None, value: bytes | None) -> None:
        self._producer.produce(self._topic, value=value, key=key, on_delivery=self._on_delivery)

    def write(self, records: Sequence[Record]) -> None:
        self._check_open()
        check_sizes(self.url, records, self.max_record_bytes)
        self._replace_if_fatal()
        for index, r in enumerate(records):
            try:
                self._produce(r.key, r.value)
            except BufferError as exc:
                self._producer.poll(0)
                raise SinkFullError(
                    self.url,
                    f"producer queue full after {index} of {len(records)} records",
                    accepted=index,
                ) from exc
            except KafkaException as exc:
                raise SinkError(self.url, f"produce failed: {exc}", accepted=index) from exc
        self._producer.poll(0)

    def _resend_failed(self) -> None:
        with self._lock:
            failed, self._failed = self._failed, []
        for index, (key, value) in enumerate(failed):
            try:
                self._produce(key, value)
            except (BufferError, KafkaException):
                with self._lock:  # keep what did not go in for the next flush
                    self._failed[:0] = failed[index:]
                return

    def flush(self, timeout: float = 10.0) -> None:
        self._check_open()
        self._replace_if_fatal()
        self._resend_failed()
        remaining = self._producer.flush(timeout)
        self._replace_if_fatal()
        with self._lock:
            failed, reason = len(self._failed), self._last_failure
        if remaining or failed:
            raise SinkError(
                self.url,
                f"{remaining} records not confirmed within {timeout}s, {failed} failed and "
                f"kept for the next flush ({reason or 'no delivery report yet'})",
            )

    def healthy(self) -> bool:
        return not self._closed and self._fatal is None and not self._broker_down


class KafkaSource:
    def __init__(
        self,
        url: str,
        bootstrap: str,
        topic: str,
        *,
        group: str = "plowline",
        offset_reset: str = "earliest",
        session_timeout_ms: int | None = None,
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
        if session_timeout_ms is not None:
            # librdkafka's default is 45 s: how long a crashed member's partitions wait before
            # the group hands them to a restarted one.
            settings["session.timeout.ms"] = session_timeout_ms
        settings.update(config or {})
        self._revoke_hooks: list[Callable[[], None]] = []
        try:
            self._consumer = Consumer(settings)
            # on_revoke also serves lost partitions (no on_lost given): the hooks' commit then
            # fails, and what they wrote is read again by the partitions' next owner.
            self._consumer.subscribe([topic], on_revoke=self._revoked)
        except KafkaException as exc:
            raise SourceError(url, f"cannot create consumer: {exc}") from exc
        self._closed = False

    def on_revoke(self, hook: Callable[[], None]) -> None:
        """Run `hook` before partitions are revoked (a rebalance, or close)."""
        self._revoke_hooks.append(hook)

    def _revoked(self, _consumer: Consumer, _partitions: list[TopicPartition]) -> None:
        for hook in self._revoke_hooks:
            hook()

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
