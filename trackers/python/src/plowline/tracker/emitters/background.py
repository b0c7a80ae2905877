"""BackgroundEmitter: a bounded queue and one worker thread, so tracking never waits on HTTP.

The shape follows OpenTelemetry's BatchProcessor: ``input`` appends to a bounded queue and
wakes the worker once a batch is ready; the worker also sends on a timer; ``flush`` and
``close`` take timeouts; after ``fork`` the child gets a fresh queue, worker, connection and
store handle (the parent keeps sending what it had), so no event goes out twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from plowline.tracker.clock import Clock, system_clock_ms
from plowline.tracker.emitters.delivery import (
    DeliveryFailure,
    FailureCallback,
    Method,
    SuccessCallback,
    build_delivery,
)
from plowline.tracker.emitters.retry import RetryPolicy
from plowline.tracker.emitters.store import EventStore, Payload
from plowline.tracker.emitters.transport import Transport
from plowline.tracker.emitters.wire import GET_PATH, POST_PATH
from plowline.tracker.errors import ConfigurationError, EmitterClosedError

log = logging.getLogger("plowline.tracker")


@dataclass(slots=True)
class _FlushWaiter:
    done: threading.Event = field(default_factory=threading.Event)
    delivered: bool = False


def _weakly(method: Callable[[], object]) -> Callable[[], None]:
    """A callback for process-wide hooks (atexit, at-fork) that does not keep ``self`` alive."""
    ref = weakref.WeakMethod(method)

    def call() -> None:
        bound = ref()
        if bound is not None:
            bound()

    return call


class BackgroundEmitter:
    """Sends from one daemon worker thread; ``input`` only appends to a bounded queue."""

    def __init__(
        self,
        endpoint: str,
        *,
        method: Method = "POST",
        batch_size: int = 50,
        max_bytes: int = 40_000,
        retry: RetryPolicy | None = None,
        request_timeout_s: float = 5.0,
        flush_interval_s: float = 1.0,
        queue_size: int = 10_000,
        store: EventStore | None = None,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        clock: Clock = system_clock_ms,
        transport: Transport | None = None,
        sleep: Callable[[float], bool] | None = None,
        rand: Callable[[], float] = random.random,
        get_path: str = GET_PATH,
        post_path: str = POST_PATH,
        shutdown_timeout_s: float | None = 5.0,
    ) -> None:
        if queue_size < 1:
            raise ConfigurationError(f"queue_size must be >= 1, got {queue_size}")
        if flush_interval_s <= 0:
            raise ConfigurationError(f"flush_interval_s must be > 0, got {flush_interval_s}")
        self._delivery = build_delivery(
            endpoint,
            method=method,
            batch_size=batch_size,
            max_bytes=max_bytes,
            retry=retry,
            request_timeout_s=request_timeout_s,
            store=store,
            on_success=on_success,
            on_failure=on_failure,
            clock=clock,
            transport=transport,
            sleep=sleep or self._interruptible_sleep,
            rand=rand,
            get_path=get_path,
            post_path=post_path,
        )
        self._batch_size = batch_size
        self._queue_size = queue_size
        self._flush_interval_s = flush_interval_s
        self._fresh_runtime()
        os.register_at_fork(after_in_child=_weakly(self._after_fork_in_child))
        self._exit_hook: Callable[[], None] | None = None
        if shutdown_timeout_s is not None:
            self._shutdown_timeout_s = shutdown_timeout_s
            self._exit_hook = _weakly(self._close_at_exit)
            atexit.register(self._exit_hook)
        if len(self._delivery.store):  # events left by a previous run: send them soon
            self._ensure_worker()

    def _fresh_runtime(self) -> None:
        """Everything a process must not share with its parent after fork."""
        self._queue: deque[Payload] = deque()
        self._wake = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[_FlushWaiter] = []
        self._worker: threading.Thread | None = None
        self._closing = False
        self._close_deadline: float | None = None
        self._delivered_at_close = False

    # -- caller side -------------------------------------------------------------------------

    def input(self, payload: Payload) -> None:
        if self._closing:
            raise EmitterClosedError("this emitter is closed")
        if self._worker is None:
            self._ensure_worker()
        queue = self._queue
        if len(queue) >= self._queue_size:
            self._delivery.notify_failure(
                [payload], DeliveryFailure("queue full", None, will_retry=False)
            )
            return
        queue.append(payload)
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything given so far was sent (True) or failed/timed out (False)."""
        if threading.current_thread() is self._worker:
            log.error("flush() called from the emitter's own worker (a callback); ignored")
            return False
        waiter = _FlushWaiter()
        with self._lock:
            worker = self._worker
            if self._closing and (worker is None or not worker.is_alive()):
                return self._delivered_at_close
            self._waiters.append(waiter)
        self._ensure_worker()
        self._wake.set()
        return waiter.done.wait(timeout) and waiter.delivered

    def close(self, timeout: float | None = None) -> bool:
        """Stop accepting events, send what is left within ``timeout``, stop the worker.

        Returns True when every event was delivered. What is left stays in the store (with a
        SqliteStore it is sent by the next process that opens the same file).
        """
        with self._lock:
            already = self._closing
            self._closing = True
            if not already:
                self._close_deadline = None if timeout is None else time.monotonic() + timeout
            worker = self._worker
        if self._exit_hook is not None and not already:
            atexit.unregister(self._exit_hook)
        if worker is threading.current_thread():  # close() from a callback: finish after it
            self._wake.set()
            return False
        if worker is None:
            if not already:
                self._final_cycle()
            return self._delivered_at_close
        self._interrupt.set()  # cut a backoff wait short; the final cycle re-arms it
        self._wake.set()
        worker.join(timeout)
        if worker.is_alive():
            # Still inside a request or a wait: start nothing new, leave the rest stored.
            self._delivery.abort()
            self._interrupt.set()
            log.warning("emitter worker did not finish within %ss", timeout)
            return False
        return self._delivered_at_close

    def join(self, timeout: float | None = None) -> bool:
        """After ``close``: wait for the worker to end (at worst one in-flight request's timeout
        after an abandoned close); True when it has ended and nothing more will be sent.
        """
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    @property
    def pending(self) -> int:
        """Events queued or stored and not yet delivered."""
        return len(self._queue) + len(self._delivery.store)

    # -- worker side -------------------------------------------------------------------------

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None and not self._closing:
                self._worker = threading.Thread(
                    target=self._run, name="plowline-tracker-emitter", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            woken = self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            with self._lock:
                waiters, self._waiters = self._waiters, []
                closing = self._closing
            if closing:
                self._final_cycle(waiters)
                return
            self._drain()
            # Full batches when woken by input; everything on a flush or when the timer fires.
            everything = bool(waiters) or not woken
            delivered = self._send(everything=everything, deadline=None)
            self._resolve(waiters, delivered)

    def _final_cycle(self, waiters: list[_FlushWaiter] | None = None) -> None:
        self._interrupt.clear()
        self._drain()
        delivered = self._send(everything=True, deadline=self._close_deadline)
        self._delivered_at_close = delivered and not self._queue
        self._resolve(waiters or [], self._delivered_at_close)
        self._delivery.transport.close()
        self._delivery.store.close()

    def _send(self, *, everything: bool, deadline: float | None) -> bool:
        try:
            return self._delivery.send(everything=everything, deadline=deadline)
        except Exception:  # a broken store or transport must not kill the worker
            log.exception("emitter send cycle failed")
            return False

    @staticmethod
    def _resolve(waiters: list[_FlushWaiter], delivered: bool) -> None:
        for waiter in waiters:
            waiter.delivered = delivered
            waiter.done.set()

    def _drain(self) -> None:
        queue = self._queue
        items: list[Payload] = []
        while queue:
            items.append(queue.popleft())
        if items:
            accepted = self._delivery.store.add(items)
            if accepted < len(items):
                self._delivery.notify_failure(
                    items[accepted:], DeliveryFailure("event store full", None, will_retry=False)
                )

    def _interruptible_sleep(self, seconds: float) -> bool:
        """Wait between retries; False (give up for now) when close() interrupts."""
        return not self._interrupt.wait(seconds)

    # -- process hooks -----------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        if self._closing:
            return  # closed before the fork: stays closed in the child
        self._fresh_runtime()
        self._delivery.after_fork()
        after_fork = getattr(self._delivery.transport, "after_fork", None)
        if callable(after_fork):
            after_fork()
        self._delivery.store.after_fork()

    def _close_at_exit(self) -> None:
        self.close(self._shutdown_timeout_s)
