"""In-memory sink: for tests, benchmarks and the embedded pipeline."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from plowline.collector.sinks import SinkError


class MemorySink:
    """Keeps every delivered record in a list; can be told to fail, to test back-pressure."""

    def __init__(self, max_record_bytes: int = 1_000_000, *, keep: bool = True) -> None:
        self._max = max_record_bytes
        self._keep = keep
        self._lock = threading.Lock()
        self._records: list[bytes] = []
        self._count = 0
        self.failing = False  # while True every write raises and healthy() is False
        self.closed = False

    @property
    def name(self) -> str:
        return "memory"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def write(self, records: Sequence[bytes]) -> None:
        if self.failing:
            raise SinkError("memory sink is set to fail", undelivered=records)
        too_big = [r for r in records if len(r) > self._max]
        ok = [r for r in records if len(r) <= self._max]
        with self._lock:
            if self._keep:
                self._records.extend(ok)
            self._count += len(ok)
        if too_big:
            raise SinkError(f"{len(too_big)} record(s) above {self._max} bytes", too_big)

    def flush(self, timeout: float) -> None:
        return None

    def close(self) -> None:
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
