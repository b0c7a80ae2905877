"""Drive a loader from a stream source: plowline.streams' StreamRunner with the load as its
process step (batch, load, write bad rows, flush them, then commit)."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import FrameType
from typing import Protocol, TextIO, runtime_checkable

from plowline.storage.postgres import LoadResult, Staged
from plowline.storage.prepare import streaming_gc
from plowline.storage.s3loader import S3Loader
from plowline.streams import Outputs, Record, Sink, Source, StreamRunner, end_of_input
from plowline.streams.runner import Deferred, Process


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


def idle_over(source: Source, idle_exit: float | None, quiet: float) -> bool:
    """Whether a loader idle for `quiet` seconds stops: once idle past `idle_exit`, a source
    holding an incomplete last record (a followed file) hands it out first (one more batch)."""
    return idle_exit is not None and quiet >= idle_exit and not end_of_input(source)


class BatchEnd:
    """The loader half of a batch's end, run by the StreamRunner in source order: progress
    counts and lines; the runner then writes the bad rows (write_all, so a full bad-row sink
    takes them in parts), flushes the bad-row sink and only then commits the batch."""

    def __init__(self, progress: Progress, every: float, out: TextIO) -> None:
        self._p, self._every, self._out = progress, every, out
        self._last_print = time.monotonic()

    def __call__(self, records: Sequence[Record], result: LoadResult) -> Outputs:
        p = self._p
        p.records += len(records)
        p.loaded += result.loaded
        p.bad += len(result.bad)
        p.skipped_batches += int(result.skipped)
        if time.monotonic() - self._last_print >= self._every:
            print(f"plowline-load: {p.line()}", file=self._out, flush=True)
            self._last_print = time.monotonic()
        return {"bad": [Record(b) for b in result.bad]}


def loader_runner(
    source: Source,
    process: Process,
    bad_sink: Sink | None,
    *,
    batch_size: int,
    max_wait: float,
    depth: int,
) -> StreamRunner:
    """The StreamRunner every loader loop is: batches of up to `batch_size` records gathered
    for up to `max_wait` seconds, a commit after each batch (its rows are in the database and
    its bad rows flushed), `depth` batches in flight."""
    return StreamRunner(
        source,
        {"bad": bad_sink if bad_sink is not None else _Discard()},
        process,
        batch_size=batch_size,
        gather=max_wait,
        commit_interval=0,
        depth=depth,
    )


class _Discard:
    """No bad-row sink configured: bad rows are counted and dropped (as before)."""

    url = "discard:"
    max_record_bytes = 1 << 62

    def write(self, records: Sequence[Record]) -> None:
        return None

    def flush(self, timeout: float = 10.0) -> None:
        return None

    def healthy(self) -> bool:
        return True

    def close(self, timeout: float = 10.0) -> None:
        return None


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
    end = BatchEnd(p, progress_every, out)
    staged_loader = loader if isinstance(loader, StagedLoader) else None
    with (
        streaming_gc(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="plowline-stage") as pool,
    ):

        def load(records: list[Record]) -> Outputs | Deferred:
            values = [r.value for r in records]
            if staged_loader is None:
                return end(records, loader.load(values))
            # Stage this batch in the worker while the previous one is applied.
            staged = pool.submit(staged_loader.stage, values)
            return lambda: end(records, staged_loader.apply(staged.result()))

        runner = loader_runner(
            source, load, bad_sink, batch_size=batch_size, max_wait=max_wait,
            depth=0 if staged_loader is None else 1,
        )  # fmt: skip
        runner.run(lambda: stop.stopped, idle_exit)
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
