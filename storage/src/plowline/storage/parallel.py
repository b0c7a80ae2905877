"""Parallel batches: workers, each with its own PostgreSQL connection.

One connection keeps one PostgreSQL backend busy, which is one core; a second connection lets
the database use the second one. `ParallelLoader` hands whole batches to workers; every batch
is still one transaction with its manifest row, and `run_parallel` (the StreamRunner with
batches in flight) commits source records strictly in order, only once every earlier batch is
in the database.

Workers are threads when the native encoder is on (it releases the GIL, so Python's share is
small), and spawned processes when it is off (the pure-Python path is CPU-bound under the GIL).
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TextIO

from plowline.storage.copyplans import native_wanted
from plowline.storage.postgres import LoadResult, PostgresLoader
from plowline.storage.prepare import streaming_gc
from plowline.storage.runner import BatchEnd, Progress, Stopper, loader_runner
from plowline.streams import Record, Sink, Source
from plowline.streams.runner import Deferred

# One loader per worker (thread or process): loaders hold a connection and table state.
_WORKER = threading.local()


def _start(dsn: str, options: dict[str, Any], started: list[PostgresLoader] | None) -> None:
    _WORKER.loader = loader = PostgresLoader(dsn, **options)
    if started is not None:  # thread workers: the pool's owner closes them (list.append: atomic)
        started.append(loader)


def _load(lines: Sequence[bytes]) -> LoadResult:
    loader: PostgresLoader | None = getattr(_WORKER, "loader", None)
    assert loader is not None, "worker not initialised"
    return loader.load(lines)


class ParallelLoader:
    def __init__(
        self, dsn: str, workers: int = 2, *, processes: bool | None = None, **options: Any
    ) -> None:
        self.workers = workers
        self._started: list[PostgresLoader] = []
        if processes is None:
            processes = not native_wanted(options.get("native"))
        self.processes = processes
        self._pool: Executor
        if processes:
            # spawn: a forked child would inherit the parent's sockets and threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_start,
                initargs=(dsn, options, None),
            )
        else:
            self._pool = ThreadPoolExecutor(
                max_workers=workers,
                thread_name_prefix="plowline-load",
                initializer=_start,
                initargs=(dsn, options, self._started),
            )
        with PostgresLoader(dsn, **options) as first:
            first.setup()

    def submit(self, lines: Sequence[bytes]) -> Future[LoadResult]:
        return self._pool.submit(_load, list(lines))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for loader in self._started:  # thread workers' connections (processes close on exit)
            loader.close()
        self._started.clear()

    def __enter__(self) -> ParallelLoader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def run_parallel(
    source: Source,
    loader: ParallelLoader,
    *,
    bad_sink: Sink | None = None,
    batch_size: int = 10_000,
    max_wait: float = 5.0,
    idle_exit: float | None = None,
    progress_every: float = 5.0,
    out: TextIO | None = None,
    stop: Stopper | None = None,
) -> Progress:
    """Like run_batches, with up to 2 x workers batches in flight; commits stay in order."""
    stop = stop or Stopper()
    out = out or sys.stderr
    p = Progress(started=time.monotonic())
    end = BatchEnd(p, progress_every, out)

    def load(records: list[Record]) -> Deferred:
        future = loader.submit([r.value for r in records])
        return lambda: end(records, future.result())  # every earlier batch is already written

    with streaming_gc():
        runner = loader_runner(
            source, load, bad_sink, batch_size=batch_size, max_wait=max_wait,
            depth=2 * loader.workers,
        )  # fmt: skip
        runner.run(lambda: stop.stopped, idle_exit)
    print(f"plowline-load: done {p.line()}", file=out, flush=True)
    return p
