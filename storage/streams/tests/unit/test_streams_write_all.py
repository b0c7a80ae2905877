"""write_all honours partial acceptance: every record reaches the sink exactly once, in order.

The Sink contract (plowline.streams.base.SinkError): a failed write's ``accepted`` says how
many of the offered records (a prefix) the sink took; only the rest is offered again. Before
the shared helper, enrich re-wrote the whole chunk after a partial SinkFullError (a sink that
took 2 of 3 received ``a b a b c``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from plowline.streams import Record, SinkFullError, write_all


class PartialSink:
    """Takes at most ``room`` records per write before a flush; then reports itself full."""

    max_record_bytes = 1 << 20
    url = "test://partial"

    def __init__(self, room: int, room_after_flush: int | None = None) -> None:
        self.room = room if room_after_flush is None else room_after_flush
        self.free = room
        self.received: list[bytes] = []
        self.flushes = 0

    def write(self, records: Sequence[Record]) -> None:
        take = min(self.free, len(records))
        self.received.extend(r.value for r in records[:take])
        self.free -= take
        if take < len(records):
            raise SinkFullError(self.url, "buffer full", accepted=take)

    def flush(self, timeout: float = 10.0) -> None:
        self.flushes += 1
        self.free = self.room

    def healthy(self) -> bool:
        return True

    def close(self, timeout: float = 10.0) -> None:
        return None


def _records(*values: bytes) -> list[Record]:
    return [Record(v) for v in values]


def test_accepts_two_of_three_then_full_gets_each_record_once() -> None:
    sink = PartialSink(room=2, room_after_flush=100)
    write_all(sink, _records(b"a", b"b", b"c"))
    assert sink.received == [b"a", b"b", b"c"]  # not a b a b c
    assert sink.flushes == 1


@pytest.mark.parametrize("room", [1, 2, 3, 7])
def test_many_partial_writes_across_chunks(room: int) -> None:
    values = [str(i).encode() for i in range(23)]
    sink = PartialSink(room=room)
    write_all(sink, _records(*values), chunk=5)
    assert sink.received == values


def test_a_sink_that_stays_full_after_a_flush_raises_instead_of_spinning() -> None:
    sink = PartialSink(room=0)
    with pytest.raises(SinkFullError):
        write_all(sink, _records(b"a"))
    assert sink.received == []
