"""The streaming enricher: source -> process pool (pure enrich) -> good/bad/pii sinks.

At-least-once: a batch's offsets are committed only after every sink has flushed (confirmed)
the outputs of that batch. A crash between flush and commit re-processes the batch; nothing
is ever committed that was not written.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field

from plowline.enrich.outputs import Output
from plowline.enrich.worker import WorkerConfig, close_worker, init_worker, process_records
from plowline.streams import Record, Sink, SinkFullError, Source, end_of_input

log = logging.getLogger("plowline.enrich")


@dataclass
class Counters:
    records: int = 0
    good: int = 0
    bad: int = 0
    pii: int = 0
    pii_dropped: int = 0  # PII events withheld because there is no PII sink
    batches: int = 0


@dataclass
class EnrichApp:
    source: Source
    good: Sink
    bad: Sink
    pii: Sink | None
    config: WorkerConfig
    workers: int = 2
    batch_size: int = 500
    poll_timeout: float = 1.0
    counters: Counters = field(default_factory=Counters)
    _executor: Executor | None = None

    def __post_init__(self) -> None:
        if self.workers > 1:
            # spawn, not fork: the parent holds stream-client threads (Kafka, boto3) that a
            # forked child would inherit in an undefined state.
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(self.config,),
            )
        else:
            init_worker(self.config)

    def _enrich(self, values: list[bytes]) -> list[list[Output]]:
        if self._executor is None:
            return process_records(values)
        size = max(1, -(-len(values) // self.workers))
        chunks = [values[i : i + size] for i in range(0, len(values), size)]
        out: list[list[Output]] = []
        for part in self._executor.map(process_records, chunks):
            out.extend(part)
        return out

    def run_once(self) -> int:
        """Poll, enrich, write, flush, commit one batch; returns the number of records read."""
        records = self.source.poll(self.batch_size, self.poll_timeout)
        if not records:
            return 0
        outputs = self._enrich([r.value for r in records])
        by_channel: dict[str, list[Record]] = {"good": [], "bad": [], "pii": []}
        for per_record in outputs:
            for channel, value in per_record:
                by_channel[channel].append(Record(value))
        if self.pii is None:
            # A pii_transformation event holds the original values: without a PII sink it is
            # dropped (and counted), never written to the good stream.
            dropped = len(by_channel["pii"])
            by_channel["pii"] = []
            if dropped:
                self.counters.pii_dropped += dropped
                log.warning(
                    "%d pii_transformation events dropped: they hold the original PII values "
                    "and no --pii sink is configured (%d so far)",
                    dropped, self.counters.pii_dropped,
                )  # fmt: skip
        sinks: list[tuple[Sink, list[Record]]] = [
            (self.good, by_channel["good"]), (self.bad, by_channel["bad"]),
        ]  # fmt: skip
        if self.pii is not None:
            sinks.append((self.pii, by_channel["pii"]))
        for sink, batch in sinks:
            write_all(sink, batch)
        for sink, _ in sinks:
            sink.flush()
        self.source.commit(records)
        c = self.counters
        c.records += len(records)
        c.good += len(by_channel["good"])
        c.bad += len(by_channel["bad"])
        c.pii += len(by_channel["pii"])
        c.batches += 1
        return len(records)

    def run(self, stop: threading.Event, idle_exit: float | None = None) -> Counters:
        """Loop until ``stop`` is set (or the source was idle ``idle_exit`` seconds)."""
        idle_since = time.monotonic()
        while not stop.is_set():
            if self.run_once():
                idle_since = time.monotonic()
            elif (
                idle_exit is not None
                and time.monotonic() - idle_since >= idle_exit
                and not end_of_input(self.source)  # else: one more batch, its held tail
            ):
                break
        return self.counters

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        else:
            close_worker()
        for sink in (self.good, self.bad, self.pii):
            if sink is not None:
                sink.close()
        self.source.close()


def write_all(sink: Sink, records: Sequence[Record], chunk: int = 500) -> None:
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
