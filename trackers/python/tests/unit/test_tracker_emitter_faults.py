"""Emitters against a loopback collector scripted to fail: nothing lost, nothing sent twice.

"Sent twice" means an event in two requests that were answered 2xx; a request that failed
(5xx, reset, no answer in time) may carry the event again, with the same eid.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from plowline.tracker import (
    BackgroundEmitter,
    DeliveryFailure,
    ManualClock,
    PageView,
    RetryPolicy,
    Structured,
    SyncEmitter,
    Tracker,
)
from plowline.tracker.emitters import HttpResponse, MemoryStore
from plowline.tracker.testing import Hang, RecordingCollector, Reset, Respond

FAST = RetryPolicy(max_attempts=6, initial_backoff_s=0.001, max_backoff_s=0.01, jitter=0)
Emitters = SyncEmitter | BackgroundEmitter


@pytest.fixture
def collector() -> Iterator[RecordingCollector]:
    with RecordingCollector() as server:
        yield server


def _emitter(kind: str, url: str, **options: Any) -> Emitters:
    options.setdefault("retry", FAST)
    if kind == "sync":
        return SyncEmitter(url, **options)
    return BackgroundEmitter(url, shutdown_timeout_s=None, **options)


def _track(tracker: Tracker, count: int) -> list[str]:
    return [tracker.track(PageView(page_url=f"https://a.example/{n}"))[0] for n in range(count)]


def _assert_each_accepted_once(collector: RecordingCollector, ids: Sequence[str]) -> None:
    accepted = Counter(event["eid"] for event in collector.accepted_events())
    assert sorted(accepted) == sorted(ids), "an event was lost (or an unknown one appeared)"
    assert set(accepted.values()) == {1}, f"sent twice after a 2xx: {accepted}"


EMITTER_KINDS = ["sync", "background"]
METHODS = ["GET", "POST"]


@pytest.mark.parametrize("kind", EMITTER_KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_500_three_times_then_200(collector: RecordingCollector, kind: str, method: str) -> None:
    collector.script(Respond(500), Respond(500), Respond(500))
    ticks = itertools.count(1_000)
    emitter = _emitter(kind, collector.url, method=method, batch_size=4, clock=lambda: next(ticks))
    tracker = Tracker(emitter, clock=lambda: 1)
    ids = _track(tracker, 4)
    assert tracker.flush(timeout=10)
    assert tracker.close(timeout=5)

    _assert_each_accepted_once(collector, ids)
    failed = [r for r in collector.requests if r.answer == 500]
    assert len(failed) == 3
    first_id = ids[0]
    attempts = [e for r in collector.requests for e in r.events() if e["eid"] == first_id]
    assert len(attempts) == 4, "the same event id is kept across retries"
    assert {e["dtm"] for e in attempts} == {"1"}
    assert len({e["stm"] for e in attempts}) == 4, "stm is stamped again at each attempt"


@pytest.mark.parametrize("kind", EMITTER_KINDS)
def test_429_retry_after_is_honoured(collector: RecordingCollector, kind: str) -> None:
    collector.script(Respond(429, {"Retry-After": "7"}), Respond(503, {"Retry-After": "2"}))
    waits: list[float] = []

    def sleep(seconds: float) -> bool:
        waits.append(seconds)
        return True

    emitter = _emitter(kind, collector.url, sleep=sleep)
    tracker = Tracker(emitter)
    ids = _track(tracker, 1)
    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    assert waits == [7.0, 2.0]
    _assert_each_accepted_once(collector, ids)


def test_retry_after_can_be_ignored(collector: RecordingCollector) -> None:
    collector.script(Respond(429, {"Retry-After": "7"}))
    waits: list[float] = []
    policy = RetryPolicy(initial_backoff_s=0.25, jitter=0, honour_retry_after=False)

    def sleep(seconds: float) -> bool:
        waits.append(seconds)
        return True

    emitter = SyncEmitter(collector.url, retry=policy, sleep=sleep)
    Tracker(emitter).track(PageView(page_url="u"))
    assert emitter.close()
    assert waits == [0.25]


@pytest.mark.parametrize("kind", EMITTER_KINDS)
@pytest.mark.parametrize("method", METHODS)
def test_connection_reset_is_retried(collector: RecordingCollector, kind: str, method: str) -> None:
    collector.script(Reset(), Reset())
    emitter = _emitter(kind, collector.url, method=method, batch_size=3)
    tracker = Tracker(emitter)
    ids = _track(tracker, 3)
    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    _assert_each_accepted_once(collector, ids)
    assert sum(r.answer is None for r in collector.requests) == 2


@pytest.mark.parametrize("kind", EMITTER_KINDS)
def test_timeout_is_retried(collector: RecordingCollector, kind: str) -> None:
    collector.script(Hang(1.0))
    emitter = _emitter(kind, collector.url, request_timeout_s=0.2, batch_size=2)
    tracker = Tracker(emitter)
    ids = _track(tracker, 2)
    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    _assert_each_accepted_once(collector, ids)
    assert collector.requests[0].answer is None


@pytest.mark.parametrize("status", [400, 401, 403, 410, 422])
def test_give_up_statuses_end_the_request(collector: RecordingCollector, status: int) -> None:
    collector.script(Respond(status))
    failures: list[tuple[list[Mapping[str, str]], DeliveryFailure]] = []
    emitter = SyncEmitter(collector.url, on_failure=lambda p, f: failures.append((list(p), f)))
    tracker = Tracker(emitter)
    dropped = _track(tracker, 1)
    kept = _track(tracker, 1)
    assert tracker.close()
    assert len(collector.requests) == 2
    [(payloads, failure)] = failures
    assert payloads[0]["eid"] == dropped[0]
    assert failure == DeliveryFailure(f"HTTP {status}", status, will_retry=False)
    _assert_each_accepted_once(collector, kept)


@pytest.mark.parametrize("status", [302, 404, 408, 413, 425, 429, 500, 502])
def test_retryable_statuses(collector: RecordingCollector, status: int) -> None:
    collector.script(Respond(status))
    tracker = Tracker(SyncEmitter(collector.url, retry=FAST))
    ids = _track(tracker, 1)
    assert tracker.close()
    assert [r.answer for r in collector.requests] == [status, 200]
    _assert_each_accepted_once(collector, ids)


@pytest.mark.parametrize("kind", EMITTER_KINDS)
def test_exhausted_retries_keep_events_for_later(collector: RecordingCollector, kind: str) -> None:
    collector.script(*[Respond(500)] * 3)
    failures: list[DeliveryFailure] = []
    policy = RetryPolicy(max_attempts=3, initial_backoff_s=0.001, jitter=0)
    emitter = _emitter(
        kind, collector.url, retry=policy, batch_size=9, on_failure=lambda _, f: failures.append(f)
    )
    tracker = Tracker(emitter)
    ids = _track(tracker, 2)
    assert not tracker.flush(timeout=10)
    assert emitter.pending == 2
    assert failures == [DeliveryFailure("HTTP 500", 500, will_retry=True)]
    assert tracker.flush(timeout=10)  # the collector answers 200 now
    assert emitter.pending == 0
    tracker.close(timeout=5)
    _assert_each_accepted_once(collector, ids)


def test_post_is_split_by_bytes(collector: RecordingCollector) -> None:
    emitter = SyncEmitter(collector.url, batch_size=40, max_bytes=1_000)
    tracker = Tracker(emitter, app_id="shop")
    ids = [tracker.track(Structured(category="c" * 50, action=f"a{n}"))[0] for n in range(40)]
    assert emitter.pending == 0
    assert tracker.close()
    requests = collector.requests
    assert len(requests) > 1
    for request in requests:
        assert request.path == "/com.snowplowanalytics.snowplow/tp2"
        assert request.headers["content-type"] == "application/json; charset=utf-8"
        assert len(request.body) <= 1_000
        envelope = request.envelope()
        assert envelope["schema"] == (
            "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
        )
        assert all(isinstance(v, str) for item in envelope["data"] for v in item.values())
    sent = [e["eid"] for e in collector.accepted_events()]
    assert sent == ids, "every event once, in order"


def test_an_event_bigger_than_the_limit_travels_alone(collector: RecordingCollector) -> None:
    emitter = SyncEmitter(collector.url, batch_size=3, max_bytes=300)
    tracker = Tracker(emitter)
    tracker.track(PageView(page_url="u"))
    tracker.track(PageView(page_url="x" * 500))
    tracker.track(PageView(page_url="v"))
    assert tracker.close()
    assert [len(r.events()) for r in collector.requests] == [1, 1, 1]


def test_count_batching(collector: RecordingCollector) -> None:
    emitter = SyncEmitter(collector.url, batch_size=3)
    tracker = Tracker(emitter)
    _track(tracker, 2)
    assert collector.requests == []
    _track(tracker, 1)
    assert tracker.close()
    assert [len(r.events()) for r in collector.requests] == [3]


def test_get_uses_the_i_path_and_sends_one_event_per_request(collector: RecordingCollector) -> None:
    tracker = Tracker(SyncEmitter(collector.url, method="GET", batch_size=2))
    _track(tracker, 2)
    assert tracker.close()
    assert [(r.method, r.path, len(r.events())) for r in collector.requests] == [
        ("GET", "/i", 1),
        ("GET", "/i", 1),
    ]


def test_stm_is_the_send_time(collector: RecordingCollector) -> None:
    clock = ManualClock(1_000)
    emitter = SyncEmitter(collector.url, batch_size=10, clock=clock)
    tracker = Tracker(emitter, clock=clock)
    tracker.track(PageView(page_url="u"))
    clock.set(2_000)
    assert tracker.close()
    [event] = collector.accepted_events()
    assert (event["dtm"], event["stm"]) == ("1000", "2000")


def test_callbacks(collector: RecordingCollector, caplog: pytest.LogCaptureFixture) -> None:
    delivered: list[str] = []

    def on_success(payloads: Sequence[Mapping[str, str]]) -> None:
        delivered.extend(p["eid"] for p in payloads)
        raise RuntimeError("a broken callback must not break delivery")

    emitter = BackgroundEmitter(
        collector.url, on_success=on_success, batch_size=2, shutdown_timeout_s=None
    )
    tracker = Tracker(emitter)
    ids = _track(tracker, 3)
    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    assert delivered == ids
    assert "on_success callback raised" in caplog.text


class BlockingTransport:
    """Holds every request until released, so queue behaviour can be observed."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sent: list[bytes | None] = []

    def send(
        self, method: str, target: str, body: bytes | None, headers: Mapping[str, str]
    ) -> HttpResponse:
        self.entered.set()
        self.release.wait(10)
        self.sent.append(body)
        return HttpResponse(200)

    def close(self) -> None:
        """Nothing to close."""


def test_full_queue_drops_with_a_failure_callback() -> None:
    transport = BlockingTransport()
    dropped: list[tuple[str, DeliveryFailure]] = []
    emitter = BackgroundEmitter(
        "http://unused",
        transport=transport,
        queue_size=2,
        batch_size=1,
        shutdown_timeout_s=None,
        on_failure=lambda p, f: dropped.extend((e["eid"], f) for e in p),
    )
    tracker = Tracker(emitter)
    first = _track(tracker, 1)
    assert transport.entered.wait(10)  # the worker holds the first event inside a request
    queued = _track(tracker, 2)
    overflow = _track(tracker, 1)
    assert dropped == [(overflow[0], DeliveryFailure("queue full", None, will_retry=False))]
    transport.release.set()
    assert emitter.flush(timeout=10)
    assert emitter.close(timeout=5)
    sent = [json.loads(body or b"{}")["data"][0]["eid"] for body in transport.sent]
    assert sent == first + queued


def test_close_with_a_silent_collector_keeps_events_and_returns(
    collector: RecordingCollector,
) -> None:
    collector.script(*[Hang(0.5)] * 5)
    store = MemoryStore()
    emitter = BackgroundEmitter(
        collector.url,
        request_timeout_s=0.3,
        retry=RetryPolicy(max_attempts=10, initial_backoff_s=0.5, jitter=0),
        store=store,
        shutdown_timeout_s=None,
    )
    _track(Tracker(emitter), 1)
    assert not emitter.close(timeout=0.1)
    assert emitter.join(timeout=5)
    assert len(store) == 1, "the undelivered event is still stored"


def test_flush_without_events_is_immediately_true(collector: RecordingCollector) -> None:
    emitter = BackgroundEmitter(collector.url, shutdown_timeout_s=None)
    assert emitter.flush(timeout=5)
    assert emitter.close(timeout=5)
    assert collector.requests == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_fork_child_gets_its_own_queue_and_connection(collector: RecordingCollector) -> None:
    emitter = BackgroundEmitter(collector.url, batch_size=10, shutdown_timeout_s=None)
    tracker = Tracker(emitter)
    _track(tracker, 1)  # sent once before the fork: the keep-alive connection is open
    assert tracker.flush(timeout=10)
    parent_pending = _track(tracker, 1)  # still queued in the parent when it forks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover (child process; reports through its exit status)
        delivered = False
        try:
            tracker.track(PageView(page_url="https://child.example/"))
            delivered = tracker.flush(timeout=10) and tracker.close(timeout=5)
        finally:
            os._exit(0 if delivered else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    urls = Counter(event["url"] for event in collector.accepted_events())
    assert urls == {
        "https://a.example/0": 2,  # the same URL tracked twice (before and at fork time)
        "https://child.example/": 1,
    }
    eids = Counter(event["eid"] for event in collector.accepted_events())
    assert set(eids.values()) == {1}
    assert parent_pending[0] in eids


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_events_sent_after_the_child_are_not_duplicated_by_it(
    collector: RecordingCollector,
) -> None:
    """A forked child that tracks nothing sends nothing (it does not replay the parent)."""
    emitter = BackgroundEmitter(collector.url, batch_size=10, shutdown_timeout_s=None)
    tracker = Tracker(emitter)
    ids = _track(tracker, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover (child process)
        ok = tracker.flush(timeout=5) and tracker.close(timeout=5)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert tracker.flush(timeout=10)
    tracker.close(timeout=5)
    _assert_each_accepted_once(collector, ids)
