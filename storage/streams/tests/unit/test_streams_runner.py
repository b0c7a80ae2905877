"""StreamRunner: poll -> process -> write -> flush -> commit, commit last and throttled, and a
flush + commit before a rebalance takes partitions away."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from plowline.streams import (
    Outputs,
    Record,
    SinkError,
    StreamRunner,
    open_sink,
    open_source,
)
from plowline.streams.memory import contents, reset, topic


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def upper(records: list[Record]) -> Outputs:
    return {
        "good": [Record(r.value.upper()) for r in records if not r.value.startswith(b"x")],
        "bad": [Record(r.value) for r in records if r.value.startswith(b"x")],
    }


def fill(name: str, values: Sequence[bytes]) -> None:
    reset(name)
    sink = open_sink(f"memory://{name}")
    sink.write([Record(v) for v in values])


def committed(name: str) -> int:
    return topic(name).committed.get("g", 0)


def test_outputs_by_channel_then_commit_after_the_sinks() -> None:
    fill("run-in", [b"a", b"x1", b"b"])
    reset("run-good")
    reset("run-bad")
    runner = StreamRunner(
        open_source("memory://run-in", group="g"),
        {"good": open_sink("memory://run-good"), "bad": open_sink("memory://run-bad")},
        upper,
        poll_timeout=0.01,
    )
    stats = runner.run(lambda: False, idle_exit=0.05)
    assert contents("run-good") == [b"A", b"B"]
    assert contents("run-bad") == [b"x1"]
    assert committed("run-in") == 3
    assert stats.records == 3


class FailingFlush:
    max_record_bytes = 1 << 20
    url = "test://failing"

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, records: Sequence[Record]) -> None:
        self.written.extend(r.value for r in records)

    def flush(self, timeout: float = 10.0) -> None:
        raise SinkError(self.url, "not confirmed")

    def healthy(self) -> bool:
        return False

    def close(self, timeout: float = 10.0) -> None:
        return None


def test_nothing_is_committed_when_a_sink_cannot_flush() -> None:
    fill("run-fail", [b"a", b"b"])
    sink = FailingFlush()
    runner = StreamRunner(
        open_source("memory://run-fail", group="g"),
        {"good": sink, "bad": sink},
        upper,
        commit_interval=0,
        poll_timeout=0.01,
    )
    with pytest.raises(SinkError):
        runner.run(lambda: False, idle_exit=0.05)
    assert sink.written == [b"A", b"B"]
    assert committed("run-fail") == 0


def test_commits_are_throttled_and_never_ahead_of_a_flush() -> None:
    fill("run-slow", [str(i).encode() for i in range(10)])
    reset("run-slow-good")
    flushes: list[int] = []
    good = open_sink("memory://run-slow-good")
    original = good.flush

    def counting_flush(timeout: float = 10.0) -> None:
        flushes.append(len(contents("run-slow-good")))
        original(timeout)

    good.flush = counting_flush  # type: ignore[method-assign]
    clock = Clock()
    runner = StreamRunner(
        open_source("memory://run-slow", group="g"),
        {"good": good},
        lambda records: {"good": records},
        batch_size=2,
        poll_timeout=0,
        commit_interval=5.0,
        clock=clock,
    )
    for _ in range(3):
        runner.step()
    assert committed("run-slow") == 0  # not due yet
    assert runner.uncommitted == 6
    clock.now = 5.0
    runner.step()  # due: flush, then commit the 8 written
    assert flushes == [8]
    assert committed("run-slow") == 8
    runner.step()
    assert committed("run-slow") == 8  # due again only at 10 s
    runner.step()  # the source ran dry: commit at once
    assert committed("run-slow") == 10
    assert flushes == [8, 10]


def test_max_uncommitted_forces_a_commit() -> None:
    fill("run-many", [str(i).encode() for i in range(6)])
    runner = StreamRunner(
        open_source("memory://run-many", group="g"),
        {"good": open_sink("memory://run-many-good")},
        lambda records: {"good": records},
        batch_size=2,
        poll_timeout=0,
        commit_interval=1e9,
        max_uncommitted=4,
    )
    runner.step()
    assert committed("run-many") == 0
    runner.step()
    assert committed("run-many") == 4


class RebalancingSource:
    """A memory source that runs the revoke hook inside its second poll (as librdkafka does)."""

    def __init__(self, name: str) -> None:
        self._inner = open_source(f"memory://{name}", group="g")
        self._hook: Callable[[], None] | None = None
        self.polls = 0
        self.committed_at_revoke: list[int] = []
        self._name = name

    def on_revoke(self, hook: Callable[[], None]) -> None:
        self._hook = hook

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        self.polls += 1
        if self.polls == 2 and self._hook is not None:
            self._hook()
            self.committed_at_revoke.append(committed(self._name))
        return self._inner.poll(max_records, timeout)

    def commit(self, records: Sequence[Record]) -> None:
        self._inner.commit(records)

    def close(self) -> None:
        self._inner.close()


def test_a_revoke_flushes_and_commits_what_was_written_before_partitions_go() -> None:
    fill("run-rebalance", [b"a", b"b", b"c", b"d"])
    source = RebalancingSource("run-rebalance")
    runner = StreamRunner(
        source,
        {"good": open_sink("memory://run-rebalance-good")},
        lambda records: {"good": records},
        batch_size=2,
        poll_timeout=0,
        commit_interval=1e9,
    )
    runner.step()
    assert committed("run-rebalance") == 0
    runner.step()  # the revoke fires inside this poll
    assert source.committed_at_revoke == [2]
    assert runner.stats.revokes == 1


def test_a_channel_without_a_sink_is_an_error() -> None:
    fill("run-nochannel", [b"a"])
    runner = StreamRunner(
        open_source("memory://run-nochannel", group="g"),
        {"good": open_sink("memory://run-nochannel-good")},
        lambda records: {"pii": records},
        poll_timeout=0,
    )
    with pytest.raises(KeyError, match="pii"):
        runner.step()
    assert committed("run-nochannel") == 0


def test_deferred_batches_are_written_and_committed_in_source_order_within_depth() -> None:
    fill("run-deferred", [str(i).encode() for i in range(6)])
    reset("run-deferred-good")
    calls: list[str] = []

    def step(records: list[Record]) -> Callable[[], Outputs]:
        tag = records[0].value.decode()
        calls.append(f"submit {tag}")

        def done() -> Outputs:
            calls.append(f"done {tag}")
            return {"good": records}

        return done

    runner = StreamRunner(
        open_source("memory://run-deferred", group="g"),
        {"good": open_sink("memory://run-deferred-good")},
        step,
        batch_size=2,
        poll_timeout=0,
        commit_interval=0,
        depth=1,
    )
    runner.step()
    assert calls == ["submit 0"]  # in flight, nothing written or committed
    assert committed("run-deferred") == 0
    runner.step()  # the next batch is submitted before the first is finished
    assert calls == ["submit 0", "submit 2", "done 0"]
    assert committed("run-deferred") == 2
    runner.run(lambda: False, idle_exit=0)
    assert [c for c in calls if c.startswith("done")] == ["done 0", "done 2", "done 4"]
    assert contents("run-deferred-good") == [str(i).encode() for i in range(6)]
    assert committed("run-deferred") == 6


def test_gather_fills_a_batch_from_several_polls() -> None:
    fill("run-gather", [str(i).encode() for i in range(7)])
    sizes: list[int] = []

    class Trickle:
        """Hands out at most 2 records per poll."""

        def __init__(self) -> None:
            self.inner = open_source("memory://run-gather", group="g")

        def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
            return self.inner.poll(min(max_records, 2), 0)

        def commit(self, records: Sequence[Record]) -> None:
            self.inner.commit(records)

        def close(self) -> None:
            self.inner.close()

    def step(records: list[Record]) -> Outputs:
        sizes.append(len(records))
        return {}

    runner = StreamRunner(Trickle(), {}, step, batch_size=5, gather=5.0, poll_timeout=0.01)
    runner.run(lambda: False, idle_exit=0)
    assert sizes == [5, 2]
    assert committed("run-gather") == 7
