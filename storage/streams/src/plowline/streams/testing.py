"""The one contract every Source/Sink pair must honour, as a pytest mixin.

A test module subclasses `StreamContract` and provides a `stream` fixture returning a
`StreamUnderTest`: factories for a sink and a source over the same fresh stream, and, where the
test can make the transport fail on demand, `outage`: a context manager during which the sink
cannot deliver. Class flags declare what the transport cannot promise (ordering, keys, durable
commits, values holding newlines), nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar

import pytest
from plowline.streams import Record, Sink, SinkError, Source


@dataclass
class StreamUnderTest:
    sink: Callable[[], Sink]
    source: Callable[[], Source]
    # While entered, the sink cannot deliver (broker stopped, endpoint refusing); None when
    # the test has no way to make this transport fail.
    outage: Callable[[], AbstractContextManager[object]] | None = None


def drain(source: Source, want: int, deadline_s: float = 60.0) -> list[Record]:
    """Poll until `want` records arrived (or the deadline passed); never commits."""
    out: list[Record] = []
    end = time.monotonic() + deadline_s
    while len(out) < want and time.monotonic() < end:
        out.extend(source.poll(max_records=want - len(out), timeout=1.0))
    return out


def values(n: int, tag: str) -> list[bytes]:
    # Non-ASCII and tab bytes on purpose; never a newline (line framing's separator).
    return [f"{tag}-{i:04d}\t\u00e9\u2603".encode() + bytes([0x80 + i % 64]) for i in range(n)]


class StreamContract:
    ordered: ClassVar[bool] = True  # records come back in write order
    keys_preserved: ClassVar[bool] = True
    durable_commit: ClassVar[bool] = True  # a new source resumes after the committed records
    redelivers_uncommitted: ClassVar[bool] = True
    binary_safe: ClassVar[bool] = True  # values may hold any byte, newlines included
    # Flush timeout while the outage lasts: short, so the flush gives up inside it.
    outage_flush_timeout: ClassVar[float] = 2.0

    def _write(self, sink: Sink, vals: list[bytes], keyed: bool = False) -> None:
        recs = [Record(v, f"k{i}".encode() if keyed else None) for i, v in enumerate(vals)]
        sink.write(recs)
        sink.flush(timeout=30)

    def _round_trip(self, stream: StreamUnderTest, sent: list[bytes]) -> list[bytes]:
        """Write `sent` with a new sink, close it, read as many back with a new source."""
        sink = stream.sink()
        self._write(sink, sent)
        sink.close()
        source = stream.source()
        got = [r.value for r in drain(source, len(sent))]
        source.close()
        return got

    def test_round_trip(self, stream: StreamUnderTest) -> None:
        sent = values(60, "rt")
        got = self._round_trip(stream, sent)
        if self.ordered:
            assert got == sent
        else:
            assert sorted(got) == sorted(sent)

    def test_keys_round_trip(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        sent = values(5, "key")
        self._write(sink, sent, keyed=True)
        sink.close()
        source = stream.source()
        got = drain(source, 5)
        source.close()
        keys = {r.value: r.key for r in got}
        if self.keys_preserved:
            assert {keys[v] for v in sent} == {f"k{i}".encode() for i in range(5)}
        else:  # a values-only transport drops keys visibly, never garbles them
            assert sorted(keys) == sorted(sent)
            assert set(keys.values()) == {None}

    def test_oversize_record_is_rejected_with_the_url(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        with pytest.raises(SinkError) as err:
            sink.write([Record(b"x" * (sink.max_record_bytes + 1))])
        assert err.value.url in str(err.value)
        sink.write([Record(b"fine")])  # the sink still works afterwards
        sink.flush(timeout=30)
        assert sink.healthy()
        sink.close()

    def test_a_refused_write_takes_none_of_its_records(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        with pytest.raises(SinkError) as err:
            sink.write([Record(b"refused-1"), Record(b"x" * (sink.max_record_bytes + 1))])
        assert err.value.accepted == 0
        self._write(sink, [b"taken"])
        sink.close()
        source = stream.source()
        got = drain(source, 1)
        got += source.poll(max_records=10, timeout=0.5)
        source.close()
        assert [r.value for r in got] == [b"taken"]

    def test_binary_values_round_trip(self, stream: StreamUnderTest) -> None:
        if not self.binary_safe:
            pytest.skip("declared: this framing cannot carry newlines (use base64 or length)")
        sent = [b"a\nb", b"\r\n", b"\x00\xff\n", bytes(range(256))]
        assert sorted(self._round_trip(stream, sent)) == sorted(sent)

    def test_records_a_failed_flush_kept_are_delivered_once_by_the_next_flush(
        self, stream: StreamUnderTest
    ) -> None:
        if stream.outage is None:
            pytest.skip("this test cannot make the transport fail on demand")
        sink = stream.sink()
        sent = values(20, "outage")
        with stream.outage():
            sink.write([Record(v) for v in sent])
            with pytest.raises(SinkError):
                sink.flush(timeout=self.outage_flush_timeout)
            assert not sink.healthy()
        deadline = time.monotonic() + 120
        while True:  # the transport is back: flushing again delivers what the sink kept
            try:
                sink.flush(timeout=10)
                break
            except SinkError:
                if time.monotonic() > deadline:
                    raise
        assert sink.healthy()
        sink.close()
        source = stream.source()
        got = drain(source, len(sent))
        got += source.poll(max_records=50, timeout=2.0)
        source.close()
        assert sorted(r.value for r in got) == sorted(sent)  # all of them, none twice

    def test_write_after_close_fails(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        sink.close()
        with pytest.raises(SinkError):
            sink.write([Record(b"late")])

    def test_committed_records_are_not_read_again(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        first = values(10, "first")
        self._write(sink, first)
        source = stream.source()
        got = drain(source, 10)
        assert sorted(r.value for r in got) == sorted(first)
        source.commit(got)
        source.close()
        if not self.durable_commit:
            sink.close()
            return  # commit accepted the records; nothing outlives this source (declared)
        second = values(4, "second")
        self._write(sink, second)
        sink.close()
        again = stream.source()
        rest = drain(again, 4)
        rest += again.poll(max_records=50, timeout=1.0)
        again.close()
        assert sorted(r.value for r in rest) == sorted(second)

    def test_uncommitted_records_are_read_again(self, stream: StreamUnderTest) -> None:
        sink = stream.sink()
        sent = values(6, "again")
        self._write(sink, sent)
        sink.close()
        source = stream.source()
        assert len(drain(source, 6)) == 6
        source.close()  # nothing committed
        if not self.redelivers_uncommitted:
            return  # a transport that cannot replay (declared): delivered once, as asserted
        again = stream.source()
        got = drain(again, 6)
        again.close()
        assert sorted(r.value for r in got) == sorted(sent)

    def test_empty_poll_returns_a_list(self, stream: StreamUnderTest) -> None:
        source = stream.source()
        assert source.poll(max_records=10, timeout=0.2) == []
        source.commit([])
        source.close()
