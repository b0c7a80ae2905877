"""SqliteStore: unsent events survive the process; the next process sends them, once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

from plowline.tracker import SqliteStore
from plowline.tracker.testing import RecordingCollector

# Process 1: the collector is down; track, give up quickly, exit (events stay in the file).
TRACK_WHILE_DOWN = """
import json, sys
from plowline.tracker import BackgroundEmitter, PageView, RetryPolicy, SqliteStore, Tracker
endpoint, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
emitter = BackgroundEmitter(
    endpoint, store=SqliteStore(path), batch_size=5, request_timeout_s=1,
    retry=RetryPolicy(max_attempts=2, initial_backoff_s=0.01), shutdown_timeout_s=None,
)
tracker = Tracker(emitter, app_id="persist")
ids = [tracker.track(PageView(page_url=f"https://a.example/{n}"))[0] for n in range(count)]
delivered = tracker.close(timeout=5)
print(json.dumps({"ids": ids, "delivered": delivered}))
"""

# Process 2: the collector is back; open the same file and flush.
DRAIN = """
import sys
from plowline.tracker import BackgroundEmitter, SqliteStore
endpoint, path = sys.argv[1], sys.argv[2]
emitter = BackgroundEmitter(endpoint, store=SqliteStore(path), shutdown_timeout_s=None)
print(emitter.pending)
sys.exit(0 if emitter.flush(timeout=10) and emitter.close(timeout=5) else 1)
"""


def _dead_endpoint() -> str:
    """An address where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _stored(path: str) -> int:
    store = SqliteStore(path)
    try:
        return len(store)
    finally:
        store.close()


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_events_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "events.sqlite")
    first = _python(TRACK_WHILE_DOWN, _dead_endpoint(), db, "12")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["delivered"] is False
    assert _stored(db) == 12

    with RecordingCollector() as collector:
        second = _python(DRAIN, collector.url, db)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "12"
        sent = Counter(event["eid"] for event in collector.accepted_events())
    assert sorted(sent) == sorted(report["ids"])
    assert set(sent.values()) == {1}
    assert _stored(db) == 0


def test_store_keeps_order_and_removes_by_key(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", capacity=3)
    assert store.add([{"n": "1"}, {"n": "2"}]) == 2
    assert store.add([{"n": "3"}, {"n": "4"}]) == 1, "capacity reached: the rest is refused"
    first, second, third = store.peek(10)
    assert [e.payload["n"] for e in (first, second, third)] == ["1", "2", "3"]
    store.remove([second.key])
    assert [e.payload["n"] for e in store.peek(10)] == ["1", "3"]
    assert len(store) == 2
    store.close()
    reopened = SqliteStore(tmp_path / "s.sqlite")
    assert [e.payload for e in reopened.peek(10)] == [{"n": "1"}, {"n": "3"}]
    reopened.close()


def test_store_round_trips_any_text(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.sqlite")
    payload = {"e": "pv", "url": "https://ü.example/\x00\n☃", "page": "'; DROP TABLE events; --"}
    store.add([payload])
    assert store.peek(1)[0].payload == payload
    store.close()
