"""A small thread-safe LRU cache whose entries expire after a TTL, on an injectable clock."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Clock = Callable[[], float]
"""Seconds as a float (``time.time`` by default); tests pass a fake to move time by hand."""


class TtlCache(Generic[K, V]):
    """At most ``max_size`` entries, least recently used evicted first; each entry lives ``ttl``
    seconds from when it was stored (``None``: until evicted). ``max_size`` 0 disables caching,
    as ``cacheSize: 0`` does for the Iglu client."""

    def __init__(self, max_size: int, ttl: float | None, clock: Clock) -> None:
        if max_size < 0:
            raise ValueError(f"cache size must be >= 0, not {max_size}")
        if ttl is not None and ttl < 0:
            raise ValueError(f"cache TTL must be >= 0 or None, not {ttl}")
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The live value for ``key``, or None when absent or expired (expired ones are dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, stored_at = entry
            if self.ttl is not None and self._clock() - stored_at >= self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def peek(self, key: K) -> tuple[V | None, bool]:
        """The value for ``key`` even when expired (kept until evicted or replaced), and
        whether it is still fresh; ``(None, False)`` when absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None, False
            value, stored_at = entry
            self._entries.move_to_end(key)
            return value, self.ttl is None or self._clock() - stored_at < self.ttl

    def put(self, key: K, value: V) -> None:
        if self.max_size == 0:
            return
        with self._lock:
            self._entries[key] = (value, self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.pop(key, None)
            return None if entry is None else entry[0]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
