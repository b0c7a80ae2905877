"""The bounded buffer between the HTTP handlers and a sink, and the thread that drains it.

The HTTP side calls :meth:`SinkBuffer.offer`, which never blocks: it either takes the records
(the request may then be acknowledged with 200) or refuses them because the buffer is full
(the request is answered 503 and the tracker retries). A record counts against the buffer
from the moment it is offered until the sink confirms it durable, so a sink that is down
fills the buffer and turns into 503s instead of losing data.

One worker thread takes batches, packs them into stream records (optionally compressed
framed batches), writes and flushes them through the ``plowline.streams`` Sink
contract, and retries with exponential back-off: records a write did not take (``accepted``
of a ``SinkError``) are written again, records a failed flush left in the sink are sent by the
next flush. ``close`` stops intake and drains within a deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from plowline.collector import spill
from plowline.streams import Record, Sink, SinkError, SinkFullError

log = logging.getLogger("plowline.collector.buffer")


@dataclass(frozen=True, slots=True)
class BufferSettings:
    max_bytes: int = 64 * 1024 * 1024
    batch_max_records: int = 1000
    batch_max_bytes: int = 4 * 1024 * 1024
    linger_seconds: float = 0.01
    retry_initial_seconds: float = 0.1
    retry_max_seconds: float = 10.0
    flush_timeout_seconds: float = 10.0


# Observers the metrics module plugs in (kept as plain callables so this module has no
# dependency on prometheus).
@dataclass(slots=True)
class BufferObserver:
    on_delivered: Callable[[int, float], None] = lambda _records, _seconds: None
    on_failure: Callable[[str], None] = lambda _error: None


class SinkBuffer:
    def __init__(
        self,
        sink: Sink,
        settings: BufferSettings,
        *,
        pack: Callable[[list[bytes]], list[bytes]] | None = None,
        observer: BufferObserver | None = None,
        name: str = "good",
        spill_dir: Path | None = None,
    ) -> None:
        self.sink = sink
        self.name = name
        self._settings = settings
        self._pack = pack if pack is not None else (lambda batch: batch)
        self._observer = observer or BufferObserver()
        self._spill_dir = spill_dir
        self._queue: deque[bytes] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._retry = threading.Condition(self._lock)  # back-off sleeps; woken only by close
        self._pending_bytes = 0  # queued + in flight (not yet confirmed by the sink)
        self._pending_records = 0
        self._accepting = True
        self._stop = False
        self._deadline: float | None = None
        self._last_error: str | None = None
        self._delivered = 0
        self._lost = 0
        self._unwritten: list[Record] = []  # worker only: records the sink has not taken
        self._thread = threading.Thread(target=self._run, name=f"sink-{name}", daemon=True)

    # ---- HTTP side -------------------------------------------------------------------------

    def offer(self, records: Sequence[bytes]) -> bool:
        """Take all ``records`` or none; never blocks. False means: answer 503."""
        size = 0
        for record in records:
            size += len(record)
        with self._lock:
            if not self._accepting or self._pending_bytes + size > self._settings.max_bytes:
                return False
            self._queue.extend(records)
            self._pending_bytes += size
            self._pending_records += len(records)
            if len(self._queue) >= self._settings.batch_max_records:
                self._wake.notify()
        return True

    @property
    def kind(self) -> str:
        """The sink's type (``kafka``, ``file``...): the scheme of its URL."""
        url = getattr(self.sink, "url", "")
        return url.split(":", 1)[0] if isinstance(url, str) and ":" in url else "sink"

    @property
    def fill_ratio(self) -> float:
        return self._pending_bytes / self._settings.max_bytes

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    @property
    def pending_records(self) -> int:
        return self._pending_records

    @property
    def delivered(self) -> int:
        return self._delivered

    @property
    def lost(self) -> int:
        """Records still undelivered when ``close`` gave up (should stay 0)."""
        return self._lost

    def healthy(self) -> bool:
        """Sink reachable, last delivery attempt succeeded, worker alive."""
        return (
            self._last_error is None
            and self._thread.is_alive()
            and self.sink.healthy()
            and self._accepting
        )

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every offered record is confirmed (tests and benchmarks use this)."""
        end = time.monotonic() + timeout
        with self._lock:
            self._wake.notify()
            while self._pending_records:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def replay_spilled(self, timeout: float) -> int:
        """Deliver records an earlier run spilled (call before ``start``); returns how many.

        A spill file is deleted only once all its records are confirmed by the sink; if the
        sink is unavailable for ``timeout`` the file stays for the next start.
        """
        if self._spill_dir is None:
            return 0
        replayed = 0
        for path in spill.files(self._spill_dir, self.name):
            try:
                records = spill.read(path)
            except (OSError, spill.SpillError) as exc:
                log.error("cannot read spill file %s: %s", path, exc)
                continue
            size = sum(len(r) for r in records)
            with self._lock:
                self._pending_bytes += size
                self._pending_records += len(records)
                self._deadline = time.monotonic() + timeout
            delivered = self._deliver(records)
            with self._lock:
                self._deadline = None
                if not delivered:
                    self._pending_bytes -= size
                    self._pending_records -= len(records)
            if not delivered:
                log.error("spill file %s not replayed: the sink is unavailable", path)
                break
            path.unlink()
            replayed += len(records)
            log.info("replayed %d spilled %s record(s) from %s", len(records), self.name, path)
        return replayed

    def close(self, drain_timeout: float) -> int:
        """Stop intake, deliver what is buffered within ``drain_timeout``, close the sink.

        Records the sink did not take by then are written to the spill directory (when one is
        configured) and replayed at the next start. Returns the number of records neither
        delivered nor spilled (0 unless the sink stayed down and there is no spill directory).
        """
        with self._lock:
            self._accepting = False
            self._stop = True
            self._deadline = time.monotonic() + drain_timeout
            self._wake.notify()
            self._retry.notify()
        if self._thread.is_alive():
            self._thread.join(drain_timeout + self._settings.flush_timeout_seconds + 5)
        with self._lock:
            leftover = list(self._queue)
        if leftover and self._spill_dir is not None:
            try:
                path = spill.write(self._spill_dir, self.name, leftover)
            except OSError as exc:
                log.error("cannot spill %d %s record(s): %s", len(leftover), self.name, exc)
            else:
                with self._lock:
                    self._queue.clear()
                    self._pending_records -= len(leftover)
                    self._pending_bytes -= sum(len(r) for r in leftover)
                log.warning(
                    "the %s sink stayed unavailable: %d record(s) spilled to %s, replayed at the "
                    "next start",
                    self.name,
                    len(leftover),
                    path,
                    extra={"stream": self.name, "spilled_records": len(leftover)},
                )
        left = self._settings.flush_timeout_seconds
        if leftover:  # what the sink may still hold is spilled already: do not wait for it
            left = 0.0
        try:
            self.sink.close(left)
        except SinkError as exc:
            log.warning("closing the %s sink: %s", self.name, exc, extra={"stream": self.name})
        except Exception:
            log.exception("closing the %s sink failed", self.name)
        with self._lock:
            self._lost = self._pending_records
        if self._lost:
            log.error(
                "%d %s record(s) acknowledged but not delivered: the sink stayed unavailable "
                "for the whole drain timeout",
                self._lost,
                self.name,
                extra={"stream": self.name, "lost_records": self._lost},
            )
        return self._lost

    # ---- worker ----------------------------------------------------------------------------

    def _take(self) -> list[bytes] | None:
        settings = self._settings
        with self._lock:
            while not self._queue:
                if self._stop:
                    return None
                self._wake.wait(settings.linger_seconds if settings.linger_seconds > 0 else 1)
            if len(self._queue) < settings.batch_max_records and not self._stop:
                # Linger briefly so a burst travels as one batch.
                self._wake.wait(settings.linger_seconds)
            batch: list[bytes] = []
            size = 0
            while self._queue and len(batch) < settings.batch_max_records:
                if batch and size + len(self._queue[0]) > settings.batch_max_bytes:
                    break
                record = self._queue.popleft()
                size += len(record)
                batch.append(record)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            if not self._deliver(batch):
                # Deadline passed during shutdown: the rest stays pending and is reported lost.
                with self._lock:
                    self._queue.extendleft(reversed(batch))
                return

    def _hand_over(self) -> None:
        """Write the records the sink has not taken yet, flushing to make room when it is full.
        On a SinkError ``self._unwritten`` keeps exactly what the sink did not take."""
        made_room = False
        while self._unwritten:
            try:
                self.sink.write(self._unwritten)
                self._unwritten = []
            except SinkError as exc:
                self._unwritten = self._unwritten[exc.accepted :]
                if not isinstance(exc, SinkFullError) or (made_room and not exc.accepted):
                    raise  # a full sink that a flush did not empty counts as a failure
                self.sink.flush(self._settings.flush_timeout_seconds)
                made_room = True

    def _deliver(self, batch: list[bytes]) -> bool:
        records = [Record(r) for r in self._pack(batch)]
        self._unwritten = records
        backoff = self._settings.retry_initial_seconds
        started = time.perf_counter()
        while True:
            try:
                self._hand_over()
                # What a failed flush could not confirm stays in the sink: flush again.
                self.sink.flush(self._settings.flush_timeout_seconds)
            except SinkError as exc:
                self._failed(str(exc))
            except Exception as exc:  # a sink bug must not kill the worker and lose data
                log.exception("unexpected error in the %s sink", self.name)
                self._unwritten = records  # state unknown: hand everything over again
                self._failed(f"{type(exc).__name__}: {exc}")
            else:
                break
            with self._lock:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    return False
                self._retry.wait(backoff)
            backoff = min(backoff * 2, self._settings.retry_max_seconds)
        size = sum(len(r) for r in batch)
        with self._lock:
            self._pending_bytes -= size
            self._pending_records -= len(batch)
            self._delivered += len(batch)
            self._last_error = None
            if not self._pending_records:
                self._idle.notify_all()
        self._observer.on_delivered(len(batch), time.perf_counter() - started)
        return True

    def _failed(self, error: str) -> None:
        if self._last_error is None:
            log.warning(
                "%s sink delivery failed, retrying: %s",
                self.name,
                error,
                extra={"stream": self.name},
            )
        self._last_error = error
        self._observer.on_failure(error)
