"""The in-process pipeline behind `plowline up`: collector sinks -> enrich -> store.

The collector's sink buffers call our sinks from their worker threads; records are queued and
one enrich thread takes them in batches, enriches them (plowline-enrich's pure functions),
stores the results in one transaction and optionally prints them. The same thread polls the
`--schemas` folders and swaps in a new enrich context when a schema file changes: events
already stored stay, new events are validated with the new schemas.

The queue is bounded (``max_queue_bytes``): a sink write waits for room, so the collector's
own bounded buffer fills and it answers 503. With a journal (``--persist``) each record is
written to the store's journal table before it is queued, and removed in the transaction that
stores its events: a record the collector confirmed survives kill -9 and is processed at the
next start, once. A reset is a cut: records accepted before it are dropped wherever they are
(collector buffer, queue, loader), then every table is emptied in one transaction.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

import orjson
from plowline.conformance.up.atomic_loader import AtomicLoader
from plowline.conformance.up.events import (
    BadItem,
    GoodItem,
    Item,
    bad_item_from_json,
    process_record,
)
from plowline.conformance.up.schemas import SchemaProblem, SchemaStaging, fingerprint
from plowline.conformance.up.store import InspectionStore
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.iglu import IgluValidator
from plowline.spec.data import data_path
from plowline.storage.streams import Record

log = logging.getLogger("plowline.up")
OutputFormat = Literal["tsv", "json"]


class QueueSink:
    """A plowline.storage.streams Sink for the embedded collector: hands records to the
    enrich thread (journaled first when the pipeline has a journal). ``write`` waits while the
    pipeline's queue is full, which is what makes the collector answer 503."""

    max_record_bytes = 2_000_000

    def __init__(self, pipeline: Pipeline, stream: Literal["good", "bad"]) -> None:
        self._pipeline = pipeline
        self.stream = stream
        self.url = f"up:{stream}"
        # Records handed over so far, in the collector's order (stored, queued or dropped by a
        # reset); the collector's buffer counts the records it accepted in the same order.
        self.received = 0
        self.discard_through = 0  # a reset drops the records numbered up to this one
        self.accepted: Callable[[], int] = lambda: self.received  # set by the server
        self.on_written: Callable[[], None] = lambda: None

    def write(self, records: Sequence[Record]) -> None:
        self._pipeline.submit(self, [r.value for r in records])
        self.on_written()

    def flush(self, timeout: float = 10.0) -> None:
        return None

    def close(self, timeout: float = 10.0) -> None:
        return None

    def healthy(self) -> bool:
        return self._pipeline.running


@dataclass
class PipelineStatus:
    schema_problems: list[SchemaProblem] = field(default_factory=list)
    schemas_loaded: list[str] = field(default_factory=list)
    schema_generation: int = 0
    last_reload: str | None = None
    enrichments: list[str] = field(default_factory=list)
    processed_records: int = 0


class Pipeline:
    def __init__(
        self,
        store: InspectionStore,
        *,
        schema_dirs: Sequence[Path] = (),
        enrichments_dir: Path | None = None,
        output: OutputFormat | None = None,
        out: TextIO | None = None,
        poll_seconds: float = 1.0,
        batch_records: int = 100,
        max_queue_bytes: int = 1024 * 1024,
        journal: bool = False,
        report: Callable[[str], None] | None = None,
        resolver_config: Path | None = None,
    ) -> None:
        self.store = store
        self.schema_dirs = list(schema_dirs)
        self.enrichments_dir = enrichments_dir
        self.output = output
        self.out = out if out is not None else sys.stdout
        self.poll_seconds = poll_seconds
        self.batch_records = batch_records
        self.report = report or (lambda line: print(line, file=sys.stderr, flush=True))
        self.max_queue_bytes = max_queue_bytes
        self.journal = journal
        self.resolver_config = resolver_config
        self.status = PipelineStatus()
        # (stream, record, journal seq or None)
        self._queue: deque[tuple[str, bytes, int | None]] = deque()
        self._queued_bytes = 0
        self._cond = threading.Condition()
        # Held while records enter (journal + queue) and for a whole reset.
        self._intake = threading.Lock()
        self._sinks: list[QueueSink] = []
        self._epoch = 0  # bumped by each reset; a batch of an older epoch is dropped
        self._busy = 0  # records taken by the thread and not yet stored
        self._stop = False
        self._thread: threading.Thread | None = None
        self._loader: AtomicLoader | None = None
        self._roots: list[Path] = []
        self._staging = SchemaStaging(self.schema_dirs) if self.schema_dirs else None
        self._fingerprint = fingerprint(self.schema_dirs) if self.schema_dirs else ()
        try:
            self.ctx = self._build_context()
        except BaseException:
            if self._staging is not None:
                self._staging.close()
            raise
        self.running = False

    # ---- context (schemas, enrichments) ------------------------------------------------------

    def _build_context(self) -> EnrichContext:
        dirs: list[Path] = []
        if self._staging is not None:
            staged, result = self._staging.rebuild()
            dirs.append(staged)
            self.status.schema_problems = result.problems
            self.status.schemas_loaded = result.accepted
            self.status.schema_generation += 1
            self.status.last_reload = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for problem in result.problems:
                self.report(f"plowline up: schema skipped: {problem.path}: {problem.reason}")
        self._roots = [data_path("schemas"), *dirs]
        if self._loader is not None:
            self._loader.set_roots(self._roots)
        validator = IgluValidator.from_resolver_file(self.resolver_config, dirs)
        enrichments = []
        if self.enrichments_dir is not None:
            # Errors here are fatal at start (EnrichmentConfigError names the file and why).
            enrichments = load_enrichments(self.enrichments_dir, validator)
        self.status.enrichments = [type(e).__name__ for e in enrichments]
        return EnrichContext(validator, enrichments)

    def check_schemas(self) -> bool:
        """Rebuild the context when a schema file changed; True when it did."""
        if not self.schema_dirs:
            return False
        current = fingerprint(self.schema_dirs)
        if current == self._fingerprint:
            return False
        self._fingerprint = current
        old = self.ctx
        try:
            self.ctx = self._build_context()
        except Exception as exc:  # keep the previous schemas rather than stop
            self.report(f"plowline up: schema reload failed, keeping the previous: {exc}")
            return False
        for enrichment in old.enrichments:
            enrichment.close()
        self.report(
            f"plowline up: schemas reloaded ({len(self.status.schemas_loaded)} loaded, "
            f"{len(self.status.schema_problems)} skipped)"
        )
        return True

    # ---- intake ------------------------------------------------------------------------------

    def sink(self, stream: Literal["good", "bad"]) -> QueueSink:
        made = QueueSink(self, stream)
        self._sinks.append(made)
        return made

    def submit(self, sink: QueueSink, records: Sequence[bytes]) -> None:
        """Journal (with a journal) and queue ``records``; waits while the queue is full."""
        size = sum(len(r) for r in records)
        with self._cond:
            while self._queue and self._queued_bytes + size > self.max_queue_bytes:
                self._cond.wait(0.5)
        with self._intake:
            first = sink.received + 1
            skip = min(len(records), max(0, sink.discard_through - first + 1))
            keep = list(records[skip:])
            seqs: list[int | None] = list(
                self.store.journal(sink.stream, keep) if self.journal else [None] * len(keep)
            )
            with self._cond:
                self._queue.extend(zip([sink.stream] * len(keep), keep, seqs, strict=True))
                self._queued_bytes += sum(len(r) for r in keep)
                self._cond.notify_all()
            sink.received += len(records)

    def queued(self) -> int:
        """Records queued or being processed."""
        with self._cond:
            return len(self._queue) + self._busy

    def start(self) -> None:
        if self.journal:
            left = self.store.journaled()
            if left:
                self.report(
                    f"plowline up: {len(left)} records accepted before the last stop were not "
                    "processed yet: processing them now"
                )
                with self._cond:
                    self._queue.extend(left)
                    self._queued_bytes += sum(len(r[1]) for r in left)
        self._loader = AtomicLoader(self.store.path, self._roots)
        if self.journal:
            for batch_id, lines in self.store.unloaded():
                self._loader.load(lines, self._epoch, batch_id)
        self.running = True
        self._thread = threading.Thread(target=self._run, name="plowline-up-enrich", daemon=True)
        self._thread.start()

    def reset(self, timeout: float = 30.0) -> None:
        """Forget every event accepted so far, wherever it is, and empty every table."""
        with self._intake:
            for sink in self._sinks:
                sink.discard_through = max(sink.accepted(), sink.received)
            with self._cond:
                self._epoch += 1
                self._queue.clear()
                self._queued_bytes = 0
                self._cond.notify_all()
            if self._loader is not None:
                self._loader.reset(self._epoch, timeout)
            # Under the store's write lock: a batch of the old epoch is either stored before
            # this (and deleted by it) or dropped by ``add``.
            self.store.reset()
        for sink in self._sinks:
            sink.on_written()  # answers waiting on records the reset dropped

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted record is stored; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Process what is queued, then stop the thread and release the enrichments."""
        self.drain(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._loader is not None:
            self._loader.close(timeout)
        self.running = False
        for enrichment in self.ctx.enrichments:
            enrichment.close()
        if self._staging is not None:
            self._staging.close()

    # ---- the enrich thread -------------------------------------------------------------------

    def sync_atomic(self, timeout: float = 30.0) -> bool:
        """Wait until the loader process has loaded every event stored so far."""
        return self._loader.sync(timeout) if self._loader is not None else True

    def _run(self) -> None:
        next_poll = time.monotonic() + self.poll_seconds
        while True:
            with self._cond:
                while not self._queue and not self._stop:
                    left = next_poll - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stop and not self._queue:
                    return
                batch = [
                    self._queue.popleft() for _ in range(min(len(self._queue), self.batch_records))
                ]
                self._queued_bytes -= sum(len(b[1]) for b in batch)
                self._busy = len(batch)
                epoch = self._epoch
                self._cond.notify_all()  # room for a waiting sink
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self.poll_seconds
                self.check_schemas()
            try:
                if batch:
                    self._process(batch, epoch)
            except Exception:
                log.exception("plowline up: a batch could not be stored")
            finally:
                with self._cond:
                    self._busy = 0
                    self._cond.notify_all()

    def _process(self, batch: list[tuple[str, bytes, int | None]], epoch: int) -> None:
        items: list[Item] = []
        for stream, record, _seq in batch:
            if stream == "bad":
                items.append(bad_item_from_json(record, "collector"))
            else:
                items.extend(process_record(record, self.ctx))
        seqs = [seq for _stream, _record, seq in batch if seq is not None]
        goods = [i for i in items if isinstance(i, GoodItem)]
        lines = [g.tsv.encode("utf-8") for g in goods]
        # With a journal, the lines wait in the store until loaded: a crash between storing and
        # loading is caught up at the next start (the loader skips a batch id it has loaded).
        batch_id = str(uuid.uuid4()) if self.journal and lines else None
        stored = self.store.add(
            items,
            journal_range=(min(seqs), max(seqs)) if seqs else None,
            unloaded=(batch_id, lines) if batch_id is not None else None,
            keep=lambda: self._epoch == epoch,
        )
        if not stored:
            return  # a reset came first: these records are forgotten
        if self._loader is not None:
            self._loader.load(lines, epoch, batch_id)
        self.status.processed_records += len(batch)
        if self.output is not None:
            self._print(goods)

    def _print(self, goods: list[GoodItem]) -> None:
        lines = []
        for good in goods:
            if self.output == "tsv":
                lines.append(good.tsv)
            else:
                lines.append(orjson.dumps(good.flat).decode())
        if lines:
            self.out.write("\n".join(lines) + "\n")
            self.out.flush()


__all__ = ["BadItem", "Pipeline", "QueueSink"]
