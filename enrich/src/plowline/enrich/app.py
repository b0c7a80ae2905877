"""The streaming enricher: plowline.streams' StreamRunner with enrich as its process step
(source -> process pool (pure enrich) -> good/bad/pii sinks).

At-least-once: offsets are committed only after every sink has flushed (confirmed) the outputs
of the records committed, every `commit_interval` seconds, before a Kafka rebalance takes
partitions away, and before stopping. A crash re-processes what was not committed; nothing is
ever committed that was not written.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field

from plowline.enrich.outputs import Output
from plowline.enrich.worker import WorkerConfig, close_worker, init_worker, process_records
from plowline.streams import Outputs, Record, Sink, Source, StreamRunner, write_all

__all__ = ["Counters", "EnrichApp", "write_all"]

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
    # Seconds between commits (0: after every batch). A crash re-reads at most this much.
    commit_interval: float = 1.0
    counters: Counters = field(default_factory=Counters)
    _executor: Executor | None = None
    _runner: StreamRunner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sinks = {"good": self.good, "bad": self.bad}
        if self.pii is not None:
            sinks["pii"] = self.pii
        self._runner = StreamRunner(
            self.source, sinks, self._process, batch_size=self.batch_size,
            poll_timeout=self.poll_timeout, commit_interval=self.commit_interval,
        )  # fmt: skip
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

    def _process(self, records: list[Record]) -> Outputs:
        """The enrich step of the runner: one batch of raw records to good/bad/pii records."""
        outputs = self._enrich([r.value for r in records])
        by_channel: dict[str, list[Record]] = {"good": [], "bad": [], "pii": []}
        for per_record in outputs:
            for channel, value in per_record:
                by_channel[channel].append(Record(value))
        if self.pii is None:
            # A pii_transformation event holds the original values: without a PII sink it is
            # dropped (and counted), never written to the good stream.
            dropped = len(by_channel.pop("pii"))
            if dropped:
                self.counters.pii_dropped += dropped
                log.warning(
                    "%d pii_transformation events dropped: they hold the original PII values "
                    "and no --pii sink is configured (%d so far)",
                    dropped, self.counters.pii_dropped,
                )  # fmt: skip
        c = self.counters
        c.records += len(records)
        c.good += len(by_channel["good"])
        c.bad += len(by_channel["bad"])
        c.pii += len(by_channel.get("pii", ()))
        c.batches += 1
        return by_channel

    def run_once(self) -> int:
        """Poll, enrich, write, flush, commit one batch; returns the number of records read."""
        read = self._runner.step()
        self._runner.commit()
        return read

    def run(self, stop: threading.Event, idle_exit: float | None = None) -> Counters:
        """Loop until ``stop`` is set (or the source was idle ``idle_exit`` seconds); commits
        every ``commit_interval`` seconds, when the source runs dry, and before stopping."""
        self._runner.run(stop.is_set, idle_exit)
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
