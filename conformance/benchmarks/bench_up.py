"""Sustained events/s through `plowline up` (request accepted -> visible in the Micro API)
and the delay from request to visible (p50/p99), with the collector alone as the baseline.

Both servers run as their own processes (as a user runs them); this process is the client:
``--connections`` keep-alive HTTP connections POST tracker batches of ``--batch`` events.
A poller reads ``/micro/all`` every few ms: event i is visible once the good count reaches
i + 1 (events are enriched in arrival order), so the measured delay is an upper bound.

    uv run python conformance/benchmarks/bench_up.py --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

GOAL_RATE = 2000
GOAL_P99_MS = 500
TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def _body(batch: int) -> bytes:
    events = []
    for _ in range(batch):
        events.append(
            {
                "e": "pv",
                "p": "web",
                "tv": "bench-1",
                "aid": "bench",
                "eid": str(uuid.uuid4()),
                "url": "http://example.com/bench?x=1",
                "page": "Bench",
                "duid": "bench-user",
                "dtm": str(int(time.time() * 1000)),
            }
        )
    return json.dumps({"schema": PAYLOAD_DATA, "data": events}).encode()


def _serve_collector(port_file: str) -> None:
    """The baseline: plowline-collector alone (memory sink, counting only) under uvicorn."""
    import socket

    import uvicorn
    from plowline.collector.app import build_app
    from plowline.collector.asgi import AsgiCollector
    from plowline.collector.config import CollectorConfig
    from plowline.collector.sinks.memory import MemorySink

    config = CollectorConfig.model_validate(
        {"sinks": {"good": {"type": "memory"}, "bad": {"type": "memory"}}}
    )
    app = build_app(config, good_sink=MemorySink(keep=False), bad_sink=MemorySink(keep=False))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    Path(port_file).write_text(str(sock.getsockname()[1]))
    server = uvicorn.Server(
        uvicorn.Config(AsgiCollector(app), lifespan="on", access_log=False, log_config=None)
    )
    server.run(sockets=[sock])


class Server:
    def __init__(self, kind: str, tmp: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if kind == "up":
            cmd = [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0"]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, env=env)  # fmt: skip
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                found = re.search(r"collector http://127\.0\.0\.1:(\d+)", line)
                if found:
                    self.port = int(found.group(1))
                    break
            threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        else:
            port_file = tmp / "port"
            cmd = [sys.executable, __file__, "--serve-collector", str(port_file)]
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=env, text=True)  # fmt: skip
            while not port_file.exists() or not port_file.read_text():
                time.sleep(0.05)
            self.port = int(port_file.read_text())
        time.sleep(0.5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _load(
    port: int, seconds: float, connections: int, batch: int, rate: float | None
) -> list[tuple[float, int]]:
    """Send for ``seconds``; returns (accepted_at, events) per request, in send order."""
    accepted: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    bodies = [_body(batch) for _ in range(64)]
    interval = (batch * connections / rate) if rate else 0.0
    headers = {"Content-Type": "application/json; charset=utf-8"}

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        next_at = time.perf_counter() + interval * index / connections
        i = index
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            if interval and now < next_at:
                time.sleep(next_at - now)
            next_at += interval
            conn.request("POST", TP2, bodies[i % len(bodies)], headers)
            response = conn.getresponse()
            response.read()
            i += connections
            if response.status == 200:
                with lock:
                    accepted.append((time.perf_counter(), batch))
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted.sort()
    return accepted


def _good_count(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/micro/all")
    count = int(json.loads(conn.getresponse().read())["good"])
    conn.close()
    return count


def run_up(
    port: int, seconds: float, connections: int, batch: int, rate: float | None
) -> dict[str, Any]:
    base = _good_count(port)
    polls: list[tuple[float, int]] = []
    done = threading.Event()

    def poller() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not done.is_set():
            conn.request("GET", "/micro/all")
            good = int(json.loads(conn.getresponse().read())["good"]) - base
            polls.append((time.perf_counter(), good))
            time.sleep(0.005)
        conn.close()

    thread = threading.Thread(target=poller)
    thread.start()
    started = time.perf_counter()
    accepted = _load(port, seconds, connections, batch, rate)
    total = sum(n for _, n in accepted)
    deadline = time.perf_counter() + 120
    while (not polls or polls[-1][1] < total) and time.perf_counter() < deadline:
        time.sleep(0.01)
    done.set()
    thread.join()
    # Delay of each request's last event: first poll that shows it, minus its acceptance.
    delays = []
    cumulative = 0
    j = 0
    for at, n in accepted:
        cumulative += n
        while j < len(polls) and polls[j][1] < cumulative:
            j += 1
        if j == len(polls):
            break
        delays.append(max(0.0, polls[j][0] - at) * 1000)
    visible_all = next((t for t, c in polls if c >= total), polls[-1][0])
    q = statistics.quantiles(delays, n=100) if len(delays) >= 2 else [0.0] * 99
    return {
        "events": total,
        "events_per_s": total / (visible_all - started),
        "p50_ms": q[49],
        "p99_ms": q[98],
        "lost": total - polls[-1][1],
    }


def run_collector(port: int, seconds: float, connections: int, batch: int) -> dict[str, Any]:
    started = time.perf_counter()
    accepted = _load(port, seconds, connections, batch, None)
    total = sum(n for _, n in accepted)
    return {"events": total, "events_per_s": total / (accepted[-1][0] - started)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10, help="events per POST")
    parser.add_argument("--rate", type=float, default=GOAL_RATE,
                        help="events/s for the fixed-rate delay run")  # fmt: skip
    parser.add_argument("--serve-collector", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_collector:
        _serve_collector(args.serve_collector)
        return 0
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        collector = Server("collector", Path(tmp))
        try:
            base = run_collector(collector.port, args.seconds, args.connections, args.batch)
        finally:
            collector.stop()
        up = Server("up", Path(tmp))
        try:
            # Warm-up (schemas compiled, entity tables created), not measured.
            run_up(up.port, 2, args.connections, args.batch, args.rate)
            # The fixed-rate run first: the max-rate run leaves the loader process a backlog.
            at_rate = run_up(up.port, args.seconds, args.connections, args.batch, args.rate)
            at_max = run_up(up.port, args.seconds, args.connections, args.batch, None)
        finally:
            up.stop()
    print(f"batches of {args.batch} events per POST, {args.connections} connections, "
          f"{args.seconds:.0f} s per run, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"collector alone (accepted):        {base['events_per_s']:8.0f} events/s")
    print(
        f"plowline up, max rate (visible):   {at_max['events_per_s']:8.0f} events/s  "
        f"p50 {at_max['p50_ms']:.0f} ms  p99 {at_max['p99_ms']:.0f} ms  lost {at_max['lost']}"
    )
    print(
        f"plowline up, {args.rate:.0f}/s offered:     {at_rate['events_per_s']:8.0f} events/s  "
        f"p50 {at_rate['p50_ms']:.0f} ms  p99 {at_rate['p99_ms']:.0f} ms  lost {at_rate['lost']}"
    )
    print(
        f"ratio plowline up / collector alone: {at_max['events_per_s'] / base['events_per_s']:.2f}"
    )
    ok = at_max["events_per_s"] >= GOAL_RATE and at_rate["p99_ms"] < GOAL_P99_MS
    print(f"goal (>= {GOAL_RATE} events/s, p99 < {GOAL_P99_MS} ms at {args.rate:.0f}/s): "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
