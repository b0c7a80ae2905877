"""The enrich app through a sink that accepts part of a write: every event reaches it once.

The Sink contract (plowline.streams.base.SinkError): a failed write's ``accepted``
says how many of the offered records (a prefix) the sink took; only the rest is offered again.
The shared helper itself is tested in storage/streams/tests/unit/test_streams_write_all.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from plowline.enrich.app import EnrichApp
from plowline.enrich.testing import payload_from_request
from plowline.enrich.worker import WorkerConfig
from plowline.spec.collector_payload import encode
from plowline.streams import Record, SinkFullError, open_sink, open_source
from plowline.streams.memory import contents, reset


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


def test_the_streaming_app_writes_each_event_once_through_a_partial_sink() -> None:
    reset()
    query = "e=pv&p=web&tv=t&eid=00000000-0000-4000-8000-{:012d}"
    values = [encode(payload_from_request("GET", "/i", query.format(i))) for i in range(7)]
    raw = open_sink("memory://partial-raw")
    raw.write([Record(v) for v in values])
    raw.flush()
    good = PartialSink(room=3)
    app = EnrichApp(open_source("memory://partial-raw"), good, open_sink("memory://partial-bad"),
                    None, WorkerConfig(), workers=1)  # fmt: skip
    try:
        app.run(threading.Event(), idle_exit=0.2)
    finally:
        app.close()
    ids = [line.split(b"\t")[6].decode() for line in good.received]
    assert ids == [f"00000000-0000-4000-8000-{i:012d}" for i in range(7)]
    assert contents("partial-bad") == []
