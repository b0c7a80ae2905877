"""SyncEmitter: sends on the caller's thread (simple; a slow collector slows the caller)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

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
from plowline.tracker.errors import EmitterClosedError


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


class SyncEmitter:
    """Buffers ``batch_size`` events, then sends them before ``input`` returns."""

    def __init__(
        self,
        endpoint: str,
        *,
        method: Method = "POST",
        batch_size: int = 1,
        max_bytes: int = 40_000,
        retry: RetryPolicy | None = None,
        request_timeout_s: float = 5.0,
        store: EventStore | None = None,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        clock: Clock = system_clock_ms,
        transport: Transport | None = None,
        sleep: Callable[[float], bool] = _sleep,
        rand: Callable[[], float] = random.random,
        get_path: str = GET_PATH,
        post_path: str = POST_PATH,
    ) -> None:
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
            sleep=sleep,
            rand=rand,
            get_path=get_path,
            post_path=post_path,
        )
        self._closed = False
        self._close_lock = threading.Lock()

    def input(self, payload: Payload) -> None:
        if self._closed:
            raise EmitterClosedError("this emitter is closed")
        delivery = self._delivery
        if not delivery.store.add([payload]):
            delivery.notify_failure(
                [payload], DeliveryFailure("event store full", None, will_retry=False)
            )
        if len(delivery.store) >= delivery.settings.batch_size:
            delivery.send(everything=False)

    def flush(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        return self._delivery.send(everything=True, deadline=deadline)

    def close(self, timeout: float | None = None) -> bool:
        with self._close_lock:
            if self._closed:
                return len(self._delivery.store) == 0
            self._closed = True
        delivered = self.flush(timeout)
        self._delivery.transport.close()
        self._delivery.store.close()
        return delivered

    @property
    def pending(self) -> int:
        """Events stored and not yet delivered."""
        return len(self._delivery.store)
