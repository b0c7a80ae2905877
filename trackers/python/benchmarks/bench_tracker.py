"""Tracker figures, each printed with its ratio to a baseline measured in the same run.

1. Microseconds per ``track()`` on the caller's thread, with the BackgroundEmitter sending to
   a local collector meanwhile. Baseline: building the same payload dict by hand (literal dict,
   uuid4, clock read), the least any tracker must do. Goal: at most 20 us per call.
2. Sustained events/s into a local collector with POST batching, from the first track() until
   the collector acknowledged every event. Baseline: a raw loop of json.dumps + POST over one
   keep-alive http.client connection with the same events per request. Goal: >= 20,000/s.

The local collector is plowline-collector (memory sink) when it starts here, else (or with
PLOWLINE_BENCH_SINK=loopback) a minimal loopback sink subprocess (loopback_sink.py); the run
prints which.

Run: ``nox -s bench -- tracker`` or ``uv run python trackers/python/benchmarks/bench_tracker.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plowline.tracker import (
    TRACKER_VERSION,
    BackgroundEmitter,
    PageView,
    Subject,
    Tracker,
)
from plowline.tracker.emitters import POST_PATH

HERE = Path(__file__).resolve().parent
PER_CALL_N = 50_000
THROUGHPUT_N = 100_000
ROUNDS = 3
GOAL_US = 20.0
GOAL_EPS = 20_000.0
ENVELOPE = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=1)
        connection.request("GET", "/health")
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        return False
    return ok


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def local_collector() -> Iterator[tuple[str, str]]:
    """(url, description): plowline-collector if it starts within 15 s, else the loopback sink."""
    executable = Path(sys.executable).with_name("plowline-collector")
    reason = f"{executable} not found"
    if os.environ.get("PLOWLINE_BENCH_SINK") == "loopback":
        reason = "PLOWLINE_BENCH_SINK=loopback"
    elif executable.exists():
        port = _free_port()
        prefix = "PLOWLINE_COLLECTOR_"
        env = {
            **os.environ,
            f"{prefix}HTTP__PORT": str(port),
            f"{prefix}SINKS__GOOD__TYPE": "memory",
            f"{prefix}SINKS__GOOD__KEEP": "false",
            f"{prefix}SINKS__BAD__TYPE": "memory",
            f"{prefix}SINKS__BAD__KEEP": "false",
        }
        process = subprocess.Popen(
            [str(executable)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None and not _healthy(url):
            time.sleep(0.1)
        if process.poll() is None and _healthy(url):
            time.sleep(1.0)  # let it finish warming up before anything is measured
            try:
                yield url, f"plowline-collector (memory sink) at {url}, separate process"
            finally:
                _stop(process)
            return
        _stop(process)
        stderr = process.stderr.read() if process.stderr else ""
        process.stderr and process.stderr.close()
        last = stderr.strip().splitlines()[-1:] or ["no /health answer within 15 s"]
        reason = f"plowline-collector did not start: {last[0][:160]}"
    sink = subprocess.Popen(
        [sys.executable, str(HERE / "loopback_sink.py")], stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None
    port_line = sink.stdout.readline()
    try:
        yield (
            f"http://127.0.0.1:{int(port_line)}",
            f"loopback sink subprocess (benchmarks/loopback_sink.py); {reason}",
        )
    finally:
        sink.stdout.close()
        _stop(sink)


def _interleaved(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """Median of each run, the runs alternating round by round so drift in machine load
    (other processes, the collector warming up) hits baseline and subject alike."""
    results: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, found in zip(runs, results, strict=True):
            found.append(run())
    return [statistics.median(found) for found in results]


def _events(count: int) -> list[PageView]:
    return [
        PageView(page_url=f"https://shop.example/products/{n}", page_title="Product page")
        for n in range(count)
    ]


def _subject() -> Subject:
    return Subject(user_id="user-42", language="en-GB", screen_resolution=(1920, 1080))


def per_call(url: str) -> None:
    events = _events(1_000)
    dropped: list[int] = []

    def track_loop(build: bool) -> float:
        emitter = BackgroundEmitter(
            url,
            batch_size=500,
            queue_size=PER_CALL_N + 1,
            shutdown_timeout_s=None,
            on_failure=lambda payloads, _: dropped.append(len(payloads)),
        )
        tracker = Tracker(emitter, namespace="bench", app_id="shop", subject=_subject())
        for event in events:  # warm-up: worker started, connection open
            tracker.track(event)
        tracker.flush(timeout=60)
        start = time.perf_counter()
        if build:
            for n in range(PER_CALL_N):
                tracker.track(
                    PageView(page_url=f"https://shop.example/products/{n}", page_title="Product")
                )
        else:
            for n in range(PER_CALL_N):
                tracker.track(events[n % 1_000])
        elapsed = time.perf_counter() - start
        if not tracker.close(timeout=120):
            raise SystemExit("per-call run: not every event was delivered")
        return elapsed / PER_CALL_N * 1e6

    def baseline() -> float:
        subject = _subject().wire_params()
        start = time.perf_counter()
        for n in range(PER_CALL_N):
            payload = {
                "e": "pv",
                "url": events[n % 1_000].page_url,
                "page": "Product page",
                "tv": TRACKER_VERSION,
                "p": "pc",
                "tna": "bench",
                "aid": "shop",
                **subject,
                "eid": str(uuid.uuid4()),
                "dtm": str(time.time_ns() // 1_000_000),
            }
        elapsed = time.perf_counter() - start
        assert payload
        return elapsed / PER_CALL_N * 1e6

    base, prebuilt, built = _interleaved(
        ROUNDS, baseline, lambda: track_loop(build=False), lambda: track_loop(build=True)
    )
    if dropped:
        raise SystemExit(f"per-call run dropped {sum(dropped)} events (queue too small)")
    verdict = "meets" if built <= GOAL_US else "MISSES"
    print(f"baseline: payload dict + uuid4 + clock alone: {base:.2f} us/event")
    print(
        f"track(prebuilt PageView), background emitter sending meanwhile: {prebuilt:.2f} us/call"
        f" = {prebuilt / base:.1f}x baseline"
    )
    print(
        f"track(PageView(...)) incl. building the event: {built:.2f} us/call"
        f" = {built / base:.1f}x baseline ({verdict} the {GOAL_US:.0f} us goal)"
    )


def throughput(url: str) -> None:
    events = _events(1_000)
    requests: list[int] = []
    acknowledged: list[int] = []

    def tracker_run() -> float:
        requests.clear()
        acknowledged.clear()

        def on_success(payloads: Sequence[Any]) -> None:
            requests.append(1)
            acknowledged.append(len(payloads))

        emitter = BackgroundEmitter(
            url,
            batch_size=1_000,
            max_bytes=40_000,
            queue_size=THROUGHPUT_N + 1,
            shutdown_timeout_s=None,
            on_success=on_success,
        )
        tracker = Tracker(emitter, namespace="bench", app_id="shop", subject=_subject())
        start = time.perf_counter()
        for n in range(THROUGHPUT_N):
            tracker.track(events[n % 1_000])
        delivered = tracker.flush(timeout=300)
        elapsed = time.perf_counter() - start
        tracker.close(timeout=10)
        if not delivered or sum(acknowledged) != THROUGHPUT_N:
            raise SystemExit(f"throughput run: {sum(acknowledged)} of {THROUGHPUT_N} acknowledged")
        return THROUGHPUT_N / elapsed

    def raw_run(per_request: int) -> float:
        tracker_payloads: list[dict[str, str]] = []

        class Keep:
            def input(self, payload: dict[str, str]) -> None:
                tracker_payloads.append(payload)

            def flush(self, timeout: float | None = None) -> bool:
                return True

            def close(self, timeout: float | None = None) -> bool:
                return True

        tracker = Tracker(Keep(), namespace="bench", app_id="shop", subject=_subject())
        for n in range(THROUGHPUT_N):
            tracker.track(events[n % 1_000])
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        stm = str(time.time_ns() // 1_000_000)
        start = time.perf_counter()
        for first in range(0, THROUGHPUT_N, per_request):
            batch = [{**p, "stm": stm} for p in tracker_payloads[first : first + per_request]]
            body = json.dumps(
                {"schema": ENVELOPE, "data": batch}, ensure_ascii=False, separators=(",", ":")
            ).encode()
            connection.request("POST", POST_PATH, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"raw baseline: HTTP {response.status}")
        elapsed = time.perf_counter() - start
        connection.close()
        return THROUGHPUT_N / elapsed

    tracker_run()  # learn how many events the tracker puts in one request
    per_request = max(1, round(THROUGHPUT_N / len(requests)))
    tracked, raw = _interleaved(ROUNDS, tracker_run, lambda: raw_run(per_request))
    verdict = "meets" if tracked >= GOAL_EPS else "MISSES"
    print(
        f"baseline: raw json.dumps + POST loop, {per_request} events/request: {raw:,.0f} events/s"
    )
    print(
        f"tracker, background emitter, POST batches <= 40,000 bytes ({per_request} events/"
        f"request): {tracked:,.0f} events/s = {tracked / raw:.2f}x baseline"
        f" ({verdict} the {GOAL_EPS:,.0f}/s goal)"
    )


def main() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"plowline-tracker {TRACKER_VERSION} on Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {load}); medians of {ROUNDS} rounds"
    )
    with local_collector() as (url, description):
        print(f"local collector: {description}")
        per_call(url)
        throughput(url)


if __name__ == "__main__":
    main()
