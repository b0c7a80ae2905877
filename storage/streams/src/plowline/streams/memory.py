"""`memory://<name>`: an in-process broker shared by name (tests, `plowline up`, pipelines)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from plowline.streams.base import Record, SinkError, SinkFullError, SourceError, check_sizes

DEFAULT_MAX_RECORD_BYTES = 10 * 1024 * 1024


@dataclass
class _Topic:
    records: list[Record] = field(default_factory=list)
    committed: dict[str, int] = field(default_factory=dict)  # group -> next offset to read
    cond: threading.Condition = field(default_factory=threading.Condition)


_TOPICS: dict[str, _Topic] = {}
_LOCK = threading.Lock()


def topic(name: str) -> _Topic:
    with _LOCK:
        return _TOPICS.setdefault(name, _Topic())


def reset(name: str | None = None) -> None:
    """Forget one topic (or all): test isolation."""
    with _LOCK:
        if name is None:
            _TOPICS.clear()
        else:
            _TOPICS.pop(name, None)


def contents(name: str) -> list[bytes]:
    """Every value written to a topic so far, in order."""
    t = topic(name)
    with t.cond:
        return [r.value for r in t.records]


class MemorySink:
    def __init__(
        self,
        url: str,
        name: str,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        capacity: int | None = None,
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._topic = topic(name)
        self._capacity = capacity
        self._closed = False

    def write(self, records: Sequence[Record]) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")
        check_sizes(self.url, records, self.max_record_bytes)
        with self._topic.cond:
            if self._capacity is not None and (
                len(self._topic.records) + len(records) > self._capacity
            ):
                raise SinkFullError(self.url, f"topic holds its capacity of {self._capacity}")
            self._topic.records.extend(Record(r.value, r.key) for r in records)
            self._topic.cond.notify_all()

    def flush(self, timeout: float = 10.0) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")

    def healthy(self) -> bool:
        return not self._closed

    def close(self, timeout: float = 10.0) -> None:
        self._closed = True


class MemorySource:
    def __init__(self, url: str, name: str, *, group: str = "default") -> None:
        self.url = url
        self._topic = topic(name)
        self._group = group
        with self._topic.cond:
            self._next = self._topic.committed.get(group, 0)
        self._closed = False

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        with self._topic.cond:
            if self._next >= len(self._topic.records) and timeout > 0:
                self._topic.cond.wait_for(lambda: self._next < len(self._topic.records), timeout)
            chunk = self._topic.records[self._next : self._next + max_records]
            start = self._next
            self._next += len(chunk)
        return [Record(r.value, r.key, start + i) for i, r in enumerate(chunk)]

    def commit(self, records: Sequence[Record]) -> None:
        offsets = [r.position for r in records if isinstance(r.position, int)]
        if len(offsets) != len(records):
            raise SourceError(self.url, "commit got records this source did not produce")
        if not offsets:
            return
        with self._topic.cond:
            current = self._topic.committed.get(self._group, 0)
            self._topic.committed[self._group] = max(current, max(offsets) + 1)

    def close(self) -> None:
        self._closed = True
