"""The send loop both emitters share: batch, send, classify, retry, remove what was accepted."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from plowline.tracker.clock import Clock
from plowline.tracker.emitters.retry import Outcome, RetryPolicy, classify
from plowline.tracker.emitters.store import EventStore, MemoryStore, Payload
from plowline.tracker.emitters.transport import (
    Endpoint,
    HttpClientTransport,
    HttpResponse,
    Transport,
)
from plowline.tracker.emitters.wire import (
    GET_PATH,
    NO_HEADERS,
    POST_HEADERS,
    POST_PATH,
    Batch,
    get_target,
    post_body,
    split_for_post,
)
from plowline.tracker.errors import ConfigurationError, TransportError

log = logging.getLogger("plowline.tracker")

Method = Literal["GET", "POST"]


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """Why events were not delivered. ``will_retry``: they stay stored and go out later."""

    reason: str
    status: int | None
    will_retry: bool


SuccessCallback = Callable[[Sequence[Payload]], None]
FailureCallback = Callable[[Sequence[Payload], DeliveryFailure], None]


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How events travel: method, batch limits, retry policy and collector paths."""

    method: Method = "POST"
    batch_size: int = 1
    max_bytes: int = 40_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    get_path: str = GET_PATH
    post_path: str = POST_PATH

    def __post_init__(self) -> None:
        if self.method not in ("GET", "POST"):
            raise ConfigurationError(f"method must be 'GET' or 'POST', got {self.method!r}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise ConfigurationError("batch_size must be an integer")
        if self.batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.max_bytes < 200:
            raise ConfigurationError(f"max_bytes must be >= 200, got {self.max_bytes}")
        for name in ("get_path", "post_path"):
            if not getattr(self, name).startswith("/"):
                raise ConfigurationError(f"{name} must start with '/'")


class Delivery:
    """Sends what a store holds. One send cycle at a time (a lock), so no event goes twice."""

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        transport: Transport,
        store: EventStore,
        clock: Clock,
        sleep: Callable[[float], bool],
        rand: Callable[[], float] = random.random,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.store = store
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._on_success = on_success
        self._on_failure = on_failure
        self._lock = threading.Lock()
        self._aborted = False

    def after_fork(self) -> None:
        self._lock = threading.Lock()

    def abort(self) -> None:
        """Start no new request from now on (one already in flight still completes)."""
        self._aborted = True

    def send(self, *, everything: bool, deadline: float | None = None) -> bool:
        """Send full batches (or ``everything``); True when the store is empty afterwards.

        Stops at the first batch whose retries are exhausted (or would pass ``deadline``, a
        ``time.monotonic()`` value), leaving it and the rest stored, in order.
        """
        settings = self.settings
        with self._lock:
            while True:
                pending = len(self.store)
                if pending == 0 or (not everything and pending < settings.batch_size):
                    return pending == 0
                events = self.store.peek(settings.batch_size)
                if not events:
                    return len(self.store) == 0
                if settings.method == "GET":
                    batches = [Batch((event,)) for event in events]
                else:
                    batches = split_for_post(events, settings.max_bytes, str(self._clock()))
                for batch in batches:
                    if not self._deliver(batch, deadline):
                        return False

    def _attempt(self, batch: Batch) -> HttpResponse:
        stm = str(self._clock())  # stamped at each attempt: the time it is really sent
        settings = self.settings
        if settings.method == "GET":
            target = get_target(settings.get_path, batch.events[0], stm)
            return self.transport.send("GET", target, None, NO_HEADERS)
        return self.transport.send("POST", settings.post_path, post_body(batch, stm), POST_HEADERS)

    def _deliver(self, batch: Batch, deadline: float | None) -> bool:
        """Send one request with retries; False when it is still undelivered (stop the cycle)."""
        policy = self.settings.retry
        failures = 0
        while True:
            if self._aborted:
                return False
            status: int | None = None
            retry_after: str | None = None
            try:
                response = self._attempt(batch)
            except TransportError as error:
                reason = str(error)
            else:
                outcome = classify(response.status)
                if outcome is Outcome.DELIVERED:
                    self.store.remove(batch.keys)
                    self._notify_success(batch)
                    return True
                status, retry_after = response.status, response.retry_after
                reason = f"HTTP {status}"
                if outcome is Outcome.GIVE_UP:
                    self.store.remove(batch.keys)
                    self._notify_failure(batch, DeliveryFailure(reason, status, will_retry=False))
                    return True
            failures += 1
            log.debug("attempt %d of %d events failed: %s", failures, len(batch.events), reason)
            if failures >= policy.max_attempts:
                break
            wait = policy.wait_s(failures, self._rand(), retry_after, time.time())
            if deadline is not None and time.monotonic() + wait > deadline:
                break
            if not self._sleep(wait):
                break
        self._notify_failure(batch, DeliveryFailure(reason, status, will_retry=True))
        return False

    def _notify_success(self, batch: Batch) -> None:
        if self._on_success is not None:
            try:
                self._on_success([e.payload for e in batch.events])
            except Exception:
                log.exception("on_success callback raised")

    def _notify_failure(self, batch: Batch, failure: DeliveryFailure) -> None:
        self.notify_failure([e.payload for e in batch.events], failure)

    def notify_failure(self, payloads: Sequence[Payload], failure: DeliveryFailure) -> None:
        """Tell the failure callback (its exceptions are logged, never raised into the loop)."""
        if not failure.will_retry:
            log.warning("dropped %d events: %s", len(payloads), failure.reason)
        if self._on_failure is not None:
            try:
                self._on_failure(payloads, failure)
            except Exception:
                log.exception("on_failure callback raised")


def build_delivery(
    endpoint: str,
    *,
    method: Method,
    batch_size: int,
    max_bytes: int,
    retry: RetryPolicy | None,
    request_timeout_s: float,
    store: EventStore | None,
    on_success: SuccessCallback | None,
    on_failure: FailureCallback | None,
    clock: Clock,
    transport: Transport | None,
    sleep: Callable[[float], bool],
    rand: Callable[[], float],
    get_path: str,
    post_path: str,
) -> Delivery:
    """The delivery engine an emitter drives, from the emitter's keyword arguments (the
    stdlib HTTP transport and an in-memory store unless others are given)."""
    settings = DeliverySettings(
        method=method,
        batch_size=batch_size,
        max_bytes=max_bytes,
        retry=retry or RetryPolicy(),
        get_path=get_path,
        post_path=post_path,
    )
    if transport is None:
        transport = HttpClientTransport(Endpoint.parse(endpoint), timeout_s=request_timeout_s)
    return Delivery(
        settings,
        transport=transport,
        store=store if store is not None else MemoryStore(),
        clock=clock,
        sleep=sleep,
        rand=rand,
        on_success=on_success,
        on_failure=on_failure,
    )
