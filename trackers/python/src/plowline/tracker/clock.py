"""Injected time and event ids: never read statically, so output can be compared exactly."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator

from plowline.tracker.encoding import check_int

Clock = Callable[[], int]
"""Returns the current time in milliseconds since the Unix epoch."""

EventIdFactory = Callable[[], str]
"""Returns a fresh event id (a UUID string) on each call."""


def system_clock_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def random_event_id() -> str:
    """A random (version 4) UUID, as Snowplow trackers send."""
    return str(uuid.uuid4())


def seeded_event_id(seed: int, index: int) -> str:
    """The ``index``-th id of the driver protocol's seeded sequence (same in every language).

    Layout ``SSSSSSSS-0000-4000-8000-NNNNNNNNNNNN``: the seed and the index in hex, with the
    version-4 and RFC 4122 variant nibbles set so enrich accepts it as a UUID.
    """
    check_int("seed", seed, minimum=0)
    check_int("index", index, minimum=0)
    if seed > 0xFFFFFFFF or index > 0xFFFFFFFFFFFF:
        raise ValueError("seed must fit 32 bits and index 48 bits")
    return f"{seed:08x}-0000-4000-8000-{index:012x}"


def seeded_event_ids(seed: int) -> EventIdFactory:
    """An id factory yielding ``seeded_event_id(seed, 0)``, ``(seed, 1)``, ..."""
    counter: Iterator[int] = itertools.count()
    return lambda: seeded_event_id(seed, next(counter))


class ManualClock:
    """A clock that only moves when told to (tests and the conformance driver)."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def set(self, now_ms: int) -> None:
        """Move the clock to ``now_ms``."""
        self.now_ms = now_ms
