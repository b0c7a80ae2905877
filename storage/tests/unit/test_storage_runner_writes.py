"""The loaders' batch end writes bad rows through the shared write helper: a full bad-row sink
(SinkFullError after taking part of a chunk) gets each bad row once, and the batch is committed
only after them. Before, the first SinkFullError escaped and stopped the loader."""

from __future__ import annotations

import io
from collections.abc import Sequence

from plowline.storage.postgres import LoadResult
from plowline.storage.runner import run_batches
from plowline.streams import Record, SinkFullError, open_sink, open_source
from plowline.streams.memory import reset, topic


class FullingSink:
    """Takes at most 3 records between flushes, then reports itself full (with `accepted`)."""

    max_record_bytes = 1 << 20
    url = "test://full-bad"

    def __init__(self) -> None:
        self.free = 3
        self.received: list[bytes] = []

    def write(self, records: Sequence[Record]) -> None:
        take = min(self.free, len(records))
        self.received.extend(r.value for r in records[:take])
        self.free -= take
        if take < len(records):
            raise SinkFullError(self.url, "buffer full", accepted=take)

    def flush(self, timeout: float = 10.0) -> None:
        self.free = 3

    def healthy(self) -> bool:
        return True

    def close(self, timeout: float = 10.0) -> None:
        return None


class AllBad:
    """A loader for which every line is a bad row (the row is the line, tagged)."""

    def load(self, lines: Sequence[bytes], batch: str | None = None) -> LoadResult:
        return LoadResult(loaded=0, bad=[b"bad:" + line for line in lines])


def test_a_full_bad_row_sink_gets_every_bad_row_once_then_the_batch_commits() -> None:
    reset("loader-full-bad")
    lines = [str(i).encode() for i in range(10)]
    sink = open_sink("memory://loader-full-bad")
    sink.write([Record(line) for line in lines])
    bad = FullingSink()
    progress = run_batches(
        open_source("memory://loader-full-bad", group="loader"), AllBad(), bad_sink=bad,
        batch_size=4, max_wait=0.2, idle_exit=0.2, out=io.StringIO(),
    )  # fmt: skip
    assert bad.received == [b"bad:" + line for line in lines]
    assert progress.bad == 10
    assert topic("loader-full-bad").committed["loader"] == 10
