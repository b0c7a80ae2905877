"""One consumer loop for every stage: poll -> process -> write -> flush -> commit, commit last.

The shape is getsentry/arroyo's (a chain of steps ending in a commit step that never runs ahead
of the sinks), over this package's Source/Sink contract so that one runner serves Kafka,
Kinesis, SQS, files, stdin and memory alike:

1. `poll` one batch from the source;
2. `process` it (the stage's own step: enrich, load): outputs per channel (good, bad, ...);
3. `write_all` each channel's records to its sink, honouring partial acceptance;
4. every `commit_interval` seconds (or `max_uncommitted` records, or when the source runs
   dry, or before stopping): `flush` every sink, and only then `commit` the source records
   whose outputs were flushed.

A crash anywhere re-reads what was not committed: at-least-once, never a record lost, at most
`commit_interval` worth of records repeated. A Kafka consumer-group rebalance is one more
commit point: the source calls the runner back before its partitions are revoked, and the
runner flushes and commits what it wrote, so the next owner starts where this one stopped.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from plowline.streams.base import Record, Sink, SinkFullError, Source, end_of_input

log = logging.getLogger("plowline.streams")

WRITE_CHUNK = 500


def write_all(sink: Sink, records: Sequence[Record], chunk: int = WRITE_CHUNK) -> None:
    """Write in chunks, each record exactly once and in order (bounded memory, no loss).

    On a full buffer the sink has taken ``accepted`` records of the chunk (a prefix, see
    ``SinkError``): flush, then offer only the rest. A sink that takes nothing right after a
    flush is stuck, and its SinkFullError is raised rather than spinning.
    """
    for start in range(0, len(records), chunk):
        part = records[start : start + chunk]
        flushed = False
        while part:
            try:
                sink.write(part)
            except SinkFullError as exc:
                taken = max(0, min(exc.accepted, len(part)))
                if taken == 0 and flushed:
                    raise
                part = part[taken:]
                sink.flush()
                flushed = True
            else:
                break


@runtime_checkable
class Rebalancing(Protocol):
    """A source whose assignment can change under it (a Kafka consumer group member).

    `on_revoke(hook)`: call `hook` before partitions are taken away, from inside `poll`.
    """

    def on_revoke(self, hook: Callable[[], None]) -> None: ...


Outputs = Mapping[str, Sequence[Record]]
"""What a process step makes of one batch: records per output channel ("good", "bad", ...)."""


Deferred = Callable[[], Outputs]
"""A process step's result still being computed (a future's result): the runner calls it when
the batch's turn to be written comes, up to `depth` batches later."""


class Process(Protocol):
    def __call__(self, records: list[Record], /) -> Outputs | Deferred: ...


@dataclass
class RunnerStats:
    records: int = 0
    batches: int = 0
    commits: int = 0
    revokes: int = 0


class StreamRunner:
    """Drives `process` between one source and its sinks (see the module docstring).

    `sinks` maps each channel the step may return to its sink; a channel without a sink is an
    error (a stage that drops a channel says so in its step). `commit_interval=0` commits
    after every batch. `gather` > 0 keeps polling up to that many seconds to fill a batch of
    `batch_size` (loaders want large batches). A step may return a `Deferred` (work handed
    to a thread or process pool): up to `depth` batches are then in flight while the next are
    polled, and they are written, and later committed, strictly in source order.
    """

    def __init__(
        self,
        source: Source,
        sinks: Mapping[str, Sink],
        process: Process,
        *,
        batch_size: int = 500,
        poll_timeout: float = 1.0,
        commit_interval: float = 1.0,
        max_uncommitted: int | None = None,
        flush_timeout: float = 10.0,
        gather: float = 0.0,
        depth: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.sinks = dict(sinks)
        self.process = process
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.commit_interval = commit_interval
        self.max_uncommitted = max_uncommitted if max_uncommitted is not None else 20 * batch_size
        self.flush_timeout = flush_timeout
        self.gather = gather
        self.depth = depth
        self.stats = RunnerStats()
        self._inflight: deque[tuple[list[Record], Deferred]] = deque()
        self._stopped: Callable[[], bool] = lambda: False
        self._clock = clock
        self._pending: list[Record] = []  # written to the sinks, not yet committed
        self._last_commit = clock()
        if isinstance(source, Rebalancing):
            source.on_revoke(self._before_revoke)

    @property
    def uncommitted(self) -> int:
        return len(self._pending)

    def _poll(self) -> list[Record]:
        if self.gather <= 0:
            return self.source.poll(self.batch_size, self.poll_timeout)
        batch: list[Record] = []
        deadline = self._clock() + self.gather
        while len(batch) < self.batch_size and not self._stopped():
            left = deadline - self._clock()
            if left <= 0:
                break
            got = self.source.poll(self.batch_size - len(batch), min(left, self.poll_timeout))
            if not got:
                break  # drained for now: process what we have
            batch.extend(got)
        return batch

    def _write(self, records: list[Record], outputs: Outputs) -> None:
        for channel, out in outputs.items():
            if not out:
                continue
            sink = self.sinks.get(channel)
            if sink is None:
                raise KeyError(f"the process step returned channel {channel!r} with no sink")
            write_all(sink, out)
        self._pending.extend(records)

    def _finish(self, keep: int = 0) -> None:
        """Write the oldest in-flight batches until at most `keep` are left (source order)."""
        while len(self._inflight) > keep:
            records, deferred = self._inflight[0]
            outputs = deferred()
            self._inflight.popleft()
            self._write(records, outputs)

    def step(self) -> int:
        """Poll, process and write one batch; commit if one is due. Returns records read."""
        records = [] if self._stopped() else self._poll()
        if records:
            result = self.process(records)
            self.stats.records += len(records)
            self.stats.batches += 1
            if callable(result):
                self._inflight.append((records, result))
                self._finish(keep=self.depth)
            else:
                self._finish()
                self._write(records, result)
        else:
            self._finish()  # the source ran dry: nothing is gained by holding batches back
        if self._pending and (
            not records  # the source ran dry: nothing to gain by waiting
            or len(self._pending) >= self.max_uncommitted
            or self._clock() - self._last_commit >= self.commit_interval
        ):
            self.commit()
        return len(records)

    def commit(self) -> None:
        """Flush every sink, then commit what they confirmed (nothing else, nothing before)."""
        if not self._pending:
            self._last_commit = self._clock()
            return
        for sink in self.sinks.values():
            sink.flush(self.flush_timeout)
        self.source.commit(self._pending)
        self._pending = []
        self._last_commit = self._clock()
        self.stats.commits += 1

    def _before_revoke(self) -> None:
        """The group is taking partitions away: flush and commit now, from inside poll.

        Whatever happens, the written records are forgotten here: their partitions' next
        owner reads from the last commit, so a failed flush or commit means repeats, not loss
        (and a commit after the revoke would be refused for a partition no longer ours).
        """
        self.stats.revokes += 1
        try:
            self._finish()
            self.commit()
        except Exception:
            log.warning(
                "flush/commit before a rebalance failed; %d records will be read again by "
                "their partitions' next owner",
                len(self._pending),
                exc_info=True,
            )
            self._pending = []
            self._inflight.clear()

    def run(self, stopped: Callable[[], bool], idle_exit: float | None = None) -> RunnerStats:
        """Step until `stopped()` (or the source gave nothing for `idle_exit` seconds), then
        flush and commit what was written. A source holding an incomplete last record (a
        followed file) hands it out before an idle exit: one more batch."""
        idle_since = self._clock()
        self._stopped = stopped
        while not stopped():
            if self.step():
                idle_since = self._clock()
            elif (
                idle_exit is not None
                and self._clock() - idle_since >= idle_exit
                and not end_of_input(self.source)
            ):
                break
        # On an error the loop never gets here: nothing more is committed, what was written
        # and not committed is read again after a restart.
        self._finish()
        self.commit()
        return self.stats
