"""In-memory sink: the collector's test double and the benchmarks' counting sink.

Not ``memory://`` of plowline.streams on purpose: this one can only count (``keep=False``
for benchmarks, no unbounded list), can be told to fail (back-pressure tests) and belongs to one
collector instead of a process-wide named topic that tests would have to reset.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from plowline.streams import Record, SinkError
from plowline.streams.base import check_sizes


class MemorySink:
    """Keeps every delivered record in a list; can be told to fail, to test back-pressure."""

    url = "memory:"

    def __init__(self, max_record_bytes: int = 1_000_000, *, keep: bool = True) -> None:
        self.max_record_bytes = max_record_bytes
        self._keep = keep
        self._lock = threading.Lock()
        self._records: list[bytes] = []
        self._count = 0
        self.failing = False  # while True every write raises and healthy() is False
        self.closed = False

    def write(self, records: Sequence[Record]) -> None:
        if self.failing:
            raise SinkError(self.url, "memory sink is set to fail")
        check_sizes(self.url, records, self.max_record_bytes)
        with self._lock:
            if self._keep:
                self._records.extend(r.value for r in records)
            self._count += len(records)

    def flush(self, timeout: float = 10.0) -> None:
        return None

    def close(self, timeout: float = 10.0) -> None:
        self.closed = True

    def healthy(self) -> bool:
        return not self.failing

    @property
    def records(self) -> list[bytes]:
        with self._lock:
            return list(self._records)

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._count = 0
