"""Drive a loader from a stream source: batch, load, write bad rows, then commit."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import FrameType
from typing import Protocol, TextIO, runtime_checkable

from plowline.storage.postgres import LoadResult, Staged
from plowline.storage.prepare import streaming_gc
from plowline.storage.s3loader import S3Loader
from plowline.streams import Record, Sink, Source, end_of_input, write_all


class BatchLoader(Protocol):
    def load(self, lines: Sequence[bytes], batch: str | None = None) -> LoadResult: ...


@runtime_checkable
class StagedLoader(Protocol):
    """A loader whose database-free half can run while the previous batch is applied."""

    def stage(self, lines: Sequence[bytes], batch: str | None = None) -> Staged: ...

    def apply(self, staged: Staged) -> LoadResult: ...


@dataclass
class Progress:
    records: int = 0
    loaded: int = 0
    bad: int = 0
    skipped_batches: int = 0
    started: float = 0.0

    def line(self) -> str:
        took = max(time.monotonic() - self.started, 1e-9)
        return (
            f"records={self.records} loaded={self.loaded} bad={self.bad} "
            f"skipped_batches={self.skipped_batches} rate={self.records / took:,.0f}/s"
        )


class Stopper:
    """Set by SIGINT/SIGTERM: the runner finishes its batch, commits and returns."""

    def __init__(self) -> None:
        self.stopped = False

    def install(self) -> None:
        def handle(_signum: int, _frame: FrameType | None) -> None:
            self.stopped = True

        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)


def gather_batch(source: Source, size: int, wait: float, stop: Stopper) -> list[Record]:
    batch: list[Record] = []
    deadline = time.monotonic() + wait
    while len(batch) < size and not stop.stopped:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        got = source.poll(max_records=size - len(batch), timeout=min(left, 1.0))
        if not got:
            break  # drained for now: load what we have, or let the caller check idle/stop
        batch.extend(got)
    return batch


def idle_over(source: Source, idle_exit: float | None, quiet: float) -> bool:
    """Whether a loader idle for `quiet` seconds stops: once idle past `idle_exit`, a source
    holding an incomplete last record (a followed file) hands it out first (one more batch)."""
    return idle_exit is not None and quiet >= idle_exit and not end_of_input(source)


class Finisher:
    """The end of a batch, in source order: bad rows out, then the source commit (only now:
    the batch is in the database and its bad rows are flushed), then progress."""

    def __init__(
        self,
        source: Source,
        bad_sink: Sink | None,
        progress: Progress,
        every: float,
        out: TextIO,
    ) -> None:
        self._source, self._bad, self._p = source, bad_sink, progress
        self._every, self._out = every, out
        self._last_print = time.monotonic()

    def __call__(self, records: list[Record], result: LoadResult) -> None:
        p = self._p
        if result.bad and self._bad is not None:
            # A full bad-row sink takes part of a chunk: write_all flushes and offers the rest.
            write_all(self._bad, [Record(b) for b in result.bad])
            self._bad.flush()
        self._source.commit(records)
        p.records += len(records)
        p.loaded += result.loaded
        p.bad += len(result.bad)
        p.skipped_batches += int(result.skipped)
        if time.monotonic() - self._last_print >= self._every:
            print(f"plowline-load: {p.line()}", file=self._out, flush=True)
            self._last_print = time.monotonic()


def run_batches(
    source: Source,
    loader: BatchLoader,
    *,
    bad_sink: Sink | None = None,
    batch_size: int = 10_000,
    max_wait: float = 5.0,
    idle_exit: float | None = None,
    progress_every: float = 5.0,
    out: TextIO | None = None,
    stop: Stopper | None = None,
) -> Progress:
    """Load until stopped (or idle for `idle_exit` seconds). Commits follow the database."""
    stop = stop or Stopper()
    out = out or sys.stderr
    p = Progress(started=time.monotonic())
    last_data = time.monotonic()
    finish = Finisher(source, bad_sink, p, progress_every, out)
    staged_loader = loader if isinstance(loader, StagedLoader) else None
    pending: tuple[list[Record], Future[Staged]] | None = None
    with (
        streaming_gc(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="plowline-stage") as pool,
    ):
        while True:
            records = [] if stop.stopped else gather_batch(source, batch_size, max_wait, stop)
            now = time.monotonic()
            if records:
                last_data = now
                values = [r.value for r in records]
                if staged_loader is None:
                    finish(records, loader.load(values))
                else:
                    # Stage this batch in the worker while the previous one is applied.
                    staged = pool.submit(staged_loader.stage, values)
                    if pending is not None:
                        finish(pending[0], staged_loader.apply(pending[1].result()))
                    pending = (records, staged)
                    continue
            if pending is not None and staged_loader is not None:
                finish(pending[0], staged_loader.apply(pending[1].result()))
                pending = None
            if stop.stopped or idle_over(source, idle_exit, now - last_data):
                break
    print(f"plowline-load: done {p.line()}", file=out, flush=True)
    return p


def run_s3(
    source: Source,
    loader: S3Loader,
    *,
    idle_exit: float | None = None,
    progress_every: float = 5.0,
    out: TextIO | None = None,
    stop: Stopper | None = None,
    poll_size: int = 5_000,
    now: Callable[[], float] = time.monotonic,
) -> Progress:
    stop = stop or Stopper()
    out = out or sys.stderr
    p = Progress(started=now())
    last_print = last_data = now()
    while not stop.stopped:
        records = source.poll(max_records=poll_size, timeout=1.0)
        loader.add(records)
        p.records += len(records)
        if records:
            last_data = now()
        if loader.due():
            source.commit(loader.flush())
        if not records and idle_over(source, idle_exit, now() - last_data):
            break
        if now() - last_print >= progress_every:
            print(f"plowline-load: {p.line()} objects={len(loader.uploaded)}", file=out, flush=True)
            last_print = now()
    source.commit(loader.flush())
    p.loaded = p.records
    print(f"plowline-load: done {p.line()} objects={len(loader.uploaded)}", file=out, flush=True)
    return p
