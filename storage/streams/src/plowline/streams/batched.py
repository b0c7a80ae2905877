"""What the buffered sinks share: open/closed state, health, close = flush + release, and
for the batch-API sinks (Kinesis PutRecords, SQS SendMessageBatch) cutting the buffer into
requests and retrying exactly the entries a reply says failed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from plowline.streams.base import Record, SinkError, SinkFullError, check_sizes

Entry = TypeVar("Entry")


class ClosingSink:
    """Closed-state checks, health from the last error, and close() = flush() then closed."""

    url: str
    _closed: bool = False
    _last_error: str | None = None

    def _check_open(self) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")

    def flush(self, timeout: float = 10.0) -> None:
        raise NotImplementedError

    def healthy(self) -> bool:
        return not self._closed and self._last_error is None

    def close(self, timeout: float = 10.0) -> None:
        if not self._closed:
            try:
                self.flush(timeout)
            finally:
                self._closed = True


def cut(
    entries: Iterable[Entry], size_of: Callable[[Entry], int], max_count: int, max_bytes: int
) -> list[list[Entry]]:
    """Consecutive batches of at most `max_count` entries and `max_bytes` (by `size_of`)."""
    batches: list[list[Entry]] = [[]]
    size = 0
    for entry in entries:
        n = size_of(entry)
        if len(batches[-1]) >= max_count or (batches[-1] and size + n > max_bytes):
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += n
    return [b for b in batches if b]


class BatchApiSink(ClosingSink, Generic[Entry]):
    """A bounded buffer of request entries, flushed in batches with per-entry retries.

    Subclasses say how a record becomes an entry (`_entries`), how the buffer is cut into
    requests (`_batches`) and send one request, returning the entries that failed and
    setting `_last_error` (`_send`). What still fails after `max_attempts` calls or the
    flush timeout stays buffered for the next flush.
    """

    def __init__(
        self, url: str, max_record_bytes: int, max_buffer: int, max_attempts: int | None
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._max_buffer = max_buffer
        self._max_attempts = max_attempts
        self._buffer: list[Entry] = []

    def _entries(self, records: Sequence[Record]) -> Iterable[Entry]:
        raise NotImplementedError

    def _batches(self, entries: list[Entry]) -> list[list[Entry]]:
        raise NotImplementedError

    def _send(self, batch: list[Entry]) -> list[Entry]:
        raise NotImplementedError

    def write(self, records: Sequence[Record]) -> None:
        self._check_open()
        check_sizes(self.url, records, self.max_record_bytes)
        if len(self._buffer) + len(records) > self._max_buffer:
            raise SinkFullError(self.url, f"buffer holds {len(self._buffer)} records; flush first")
        self._buffer.extend(self._entries(records))

    def flush(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        attempts = 0
        while self._buffer:
            attempts += 1
            failed: list[Entry] = []
            for batch in self._batches(self._buffer):
                failed += self._send(batch)
            self._buffer = failed
            if failed:
                out_of_attempts = self._max_attempts is not None and attempts >= self._max_attempts
                if out_of_attempts or time.monotonic() + delay > deadline:
                    raise SinkError(
                        self.url, f"{len(failed)} records not accepted: {self._last_error}"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        self._last_error = None
