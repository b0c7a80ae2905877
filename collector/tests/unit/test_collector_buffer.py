"""Durability: 200 means buffered or delivered; a down sink turns into 503s, nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from plowline.collector.buffer import BufferSettings, SinkBuffer
from plowline.collector.sinks.memory import MemorySink
from plowline.collector.testing import Harness
from plowline.streams import Record, SinkError, SinkFullError

Make = Callable[..., Harness]
TP2 = "/com.snowplowanalytics.snowplow/tp2"
FAST = BufferSettings(
    max_bytes=10_000,
    linger_seconds=0.001,
    retry_initial_seconds=0.005,
    retry_max_seconds=0.02,
    flush_timeout_seconds=1,
)


def test_sink_down_fills_the_buffer_then_503_and_recovery_delivers_every_ack(
    collector: Make,
) -> None:
    h = collector({"buffer": {"max_bytes": 20_000}})
    h.good.failing = True
    statuses = [h.request("GET", "/i", query=f"n={i}").status for i in range(200)]
    assert 503 in statuses
    assert set(statuses) == {200, 503}
    acknowledged = statuses.count(200)
    assert h.request("GET", "/sink-health").status == 503
    h.good.failing = False
    payloads = h.payloads()
    assert len(payloads) == acknowledged
    assert sorted(int(p.querystring.split("=")[1]) for p in payloads if p.querystring) == [
        i for i, s in enumerate(statuses) if s == 200
    ]
    assert h.request("GET", "/i").status == 200


def test_503_carries_cors_headers_and_sets_no_cookie(collector: Make) -> None:
    h = collector({"buffer": {"max_bytes": 1024}})
    h.good.failing = True
    responses = [h.request("POST", TP2, body=b"x" * 400) for _ in range(5)]
    refused = [r for r in responses if r.status == 503]
    assert refused
    assert refused[0].header("access-control-allow-origin") == "*"
    assert refused[0].header_values("set-cookie") == []


class HalfFullSink(MemorySink):
    """Takes half of the first write, then reports itself full (like a full producer queue)."""

    def __init__(self, error: type[SinkError] = SinkFullError) -> None:
        super().__init__()
        self.error = error
        self.attempts: list[int] = []
        self.flushes = 0

    def write(self, records: Sequence[Record]) -> None:
        self.attempts.append(len(records))
        if len(self.attempts) == 1:
            half = len(records) // 2
            super().write(records[:half])
            raise self.error(self.url, "full", accepted=half)
        super().write(records)

    def flush(self, timeout: float = 10.0) -> None:
        self.flushes += 1


@pytest.mark.parametrize("error", [SinkFullError, SinkError])
def test_only_the_records_a_write_did_not_take_are_written_again(
    error: type[SinkError],
) -> None:
    sink = HalfFullSink(error)
    buffer = SinkBuffer(sink, FAST)
    buffer.start()
    records = [bytes([i]) * 10 for i in range(10)]
    assert buffer.offer(records)
    assert buffer.wait_idle(5)
    assert sink.records == records  # in order, none twice
    assert sink.attempts == [10, 5]
    assert buffer.close(1) == 0


class RetainingSink(MemorySink):
    """Holds written records until a flush succeeds; the first two flushes fail (a sink that
    keeps what a failed flush could not confirm, as the stream contract requires)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Record] = []
        self.writes = 0
        self.flushes = 0

    def write(self, records: Sequence[Record]) -> None:
        self.writes += 1
        self.held.extend(records)

    def flush(self, timeout: float = 10.0) -> None:
        self.flushes += 1
        if self.flushes <= 2:
            raise SinkError(self.url, "broker unavailable")
        super().write(self.held)
        self.held = []


def test_a_failed_flush_is_retried_without_writing_again() -> None:
    sink = RetainingSink()
    buffer = SinkBuffer(sink, FAST)
    buffer.start()
    assert buffer.offer([b"a", b"b"])
    assert buffer.wait_idle(5)
    assert sink.records == [b"a", b"b"]
    assert (sink.writes, sink.flushes) == (1, 3)
    assert buffer.close(1) == 0


class AlwaysFullSink(MemorySink):
    def write(self, records: Sequence[Record]) -> None:
        raise SinkFullError(self.url, "full", accepted=0)


def test_a_sink_that_stays_full_after_a_flush_counts_as_a_failure() -> None:
    buffer = SinkBuffer(AlwaysFullSink(), FAST)
    buffer.start()
    assert buffer.offer([b"a"])
    assert not buffer.wait_idle(0.2)
    assert not buffer.healthy()
    assert buffer.close(0.1) == 1


def test_offer_is_all_or_nothing() -> None:
    buffer = SinkBuffer(MemorySink(), FAST)
    assert buffer.offer([b"x" * 6000])
    assert not buffer.offer([b"y" * 3000, b"z" * 3000])
    assert buffer.pending_records == 1
    buffer.start()
    assert buffer.close(1) == 0


def test_close_drains_everything_buffered() -> None:
    sink = MemorySink()
    buffer = SinkBuffer(sink, BufferSettings(linger_seconds=5))
    buffer.start()
    assert buffer.offer([b"a", b"b", b"c"])
    assert buffer.close(5) == 0
    assert sink.records == [b"a", b"b", b"c"]
    assert sink.closed
    assert not buffer.offer([b"late"])


def test_close_reports_what_a_dead_sink_never_took() -> None:
    sink = MemorySink()
    sink.failing = True
    buffer = SinkBuffer(sink, FAST)
    buffer.start()
    assert buffer.offer([b"a", b"b"])
    assert buffer.close(0.2) == 2
    assert buffer.lost == 2


def test_sink_coming_back_during_the_drain_delivers() -> None:
    sink = MemorySink()
    sink.failing = True
    buffer = SinkBuffer(sink, FAST)
    buffer.start()
    assert buffer.offer([b"a"])
    threading.Timer(0.2, lambda: setattr(sink, "failing", False)).start()
    assert buffer.close(5) == 0
    assert sink.records == [b"a"]


class ExplodingSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, records: Sequence[Record]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("bug in a sink")
        super().write(records)


def test_an_unexpected_sink_exception_does_not_kill_the_worker() -> None:
    sink = ExplodingSink()
    buffer = SinkBuffer(sink, FAST)
    buffer.start()
    assert buffer.offer([b"a"])
    assert buffer.wait_idle(5)
    assert sink.records == [b"a"]
    assert buffer.close(1) == 0


def test_batches_respect_the_configured_limits() -> None:
    sizes: list[int] = []

    class Counting(MemorySink):
        def write(self, records: Sequence[Record]) -> None:
            sizes.append(len(records))
            super().write(records)

    buffer = SinkBuffer(
        Counting(), BufferSettings(batch_max_records=7, batch_max_bytes=10_000, linger_seconds=0.01)
    )
    assert buffer.offer([b"r"] * 50)
    buffer.start()
    assert buffer.wait_idle(5)
    assert max(sizes) <= 7
    assert sum(sizes) == 50
    buffer.close(1)


def test_framed_good_stream_round_trips(collector: Make) -> None:
    h = collector({"sinks": {"framing": "zstd"}})
    for i in range(30):
        h.request("GET", "/i", query=f"n={i}")
    assert [p.querystring for p in h.payloads()] == [f"n={i}" for i in range(30)]
    assert all(r[:4] == b"\x28\xb5\x2f\xfd" for r in h.good.records)


def test_records_a_dead_sink_never_took_are_spilled_and_replayed(tmp_path: Path) -> None:
    dead = MemorySink()
    dead.failing = True
    first = SinkBuffer(dead, FAST, spill_dir=tmp_path, name="good")
    first.start()
    assert first.offer([b"a", b"b"])
    assert first.close(0.2) == 0
    [spilled] = list(tmp_path.iterdir())
    assert spilled.name.startswith("good-")

    still_dead = MemorySink()
    still_dead.failing = True
    second = SinkBuffer(still_dead, FAST, spill_dir=tmp_path, name="good")
    assert second.replay_spilled(0.1) == 0
    assert spilled.exists()  # kept for the next start

    alive = MemorySink()
    third = SinkBuffer(alive, FAST, spill_dir=tmp_path, name="good")
    assert third.replay_spilled(5) == 2
    assert alive.records == [b"a", b"b"]
    assert list(tmp_path.iterdir()) == []
    assert third.pending_records == 0


def test_spilled_payloads_are_framed_on_replay(tmp_path: Path) -> None:
    from functools import partial

    from plowline.spec.framing import Framing, pack, unpack

    dead = MemorySink()
    dead.failing = True
    framed = partial(pack, framing=Framing.GZIP, max_record_bytes=100_000)
    first = SinkBuffer(dead, FAST, pack=framed, spill_dir=tmp_path)
    first.start()
    assert first.offer([b"\x0bp1", b"\x0bp2"])
    assert first.close(0.1) == 0
    alive = MemorySink()
    assert SinkBuffer(alive, FAST, pack=framed, spill_dir=tmp_path).replay_spilled(5) == 2
    assert [p for r in alive.records for p in unpack(r)] == [b"\x0bp1", b"\x0bp2"]


def test_spill_files_are_validated(tmp_path: Path) -> None:
    from plowline.collector import spill

    path = spill.write(tmp_path, "bad", [b"x", b""])
    assert spill.read(path) == [b"x", b""]
    path.write_bytes(path.read_bytes()[:-3] + b"\xff\xff\xff")
    with pytest.raises(spill.SpillError):
        spill.read(path)
    other = tmp_path / "bad-1-1.spill"
    other.write_bytes(b"nope")
    with pytest.raises(spill.SpillError):
        spill.read(other)
