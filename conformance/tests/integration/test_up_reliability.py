"""`plowline up` under hostile use, as a real process over real HTTP: what `--persist` may
touch, the messages for a store it cannot use, kill -9 with senders running, a full queue,
reset under load, and Ctrl-C to the whole process group."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

from plowline.conformance.up.testing import TP2, http, page_view, run_up, tp2_body, up_process


def test_persist_in_a_folder_that_cannot_exist_names_the_folder() -> None:
    done = run_up("--persist", "/proc/nope/x.sqlite")
    assert done.returncode == 2, done.stderr
    assert "cannot listen" not in done.stderr
    assert "/proc/nope" in done.stderr
    assert "--persist" in done.stderr
    assert "Traceback" not in done.stderr


def test_persist_on_a_directory_is_refused_and_the_directory_untouched(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "src").mkdir(parents=True)
    (checkout / "src" / "main.py").write_text("print('hello')\n")
    done = run_up("--persist", str(checkout))
    assert done.returncode == 2, done.stderr
    assert "folder" in done.stderr
    assert str(checkout) in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkout"]
    assert (checkout / "src" / "main.py").read_text() == "print('hello')\n"


def test_persist_on_a_file_that_is_not_a_store_is_refused_and_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 20)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.execute("INSERT INTO customers VALUES ('ada')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for path, reason in ((notes, "not a SQLite file"), (other, "not a plowline up store")):
        done = run_up("--persist", str(path))
        assert done.returncode == 2, done.stderr
        assert reason in done.stderr
        assert "Traceback" not in done.stderr
    assert notes.read_text() == "my notes, not a database\n" * 20
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.sqlite"]


# ---- item 20: the /micro API answers 400 with the reason, never 500 ---------------------------


def test_api_bounds_filters_nesting_and_integers_with_a_400() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    huge = 2**63
    cases: list[tuple[str, bytes, str]] = [
        ("/micro/good", json.dumps({"contexts": ["com.acme/x"] * 50_000}).encode(), "contexts"),
        ("/micro/good", b'{"contexts":' + deep + b"}", "nested"),
        ("/micro/events", deep, "nested"),
        ("/micro/events", json.dumps({"timeRange": {"start": huge}}).encode(), "timeRange"),
        ("/micro/events", json.dumps({"timeRange": {"end": -huge - 1}}).encode(), "timeRange"),
        (
            "/micro/events",
            json.dumps({"filters": [{"column": "app_id", "values": ["a"]}] * 5_000}).encode(),
            "filters",
        ),
        (
            "/micro/events",
            json.dumps({"filters": [{"column": "app_id", "values": ["a"] * 50_000}]}).encode(),
            "values",
        ),
        ("/micro/timeline", json.dumps({"buckets": [{"start": huge, "end": 1}]}).encode(), "start"),
        ("/micro/timeline", json.dumps({"buckets": [{"start": 0, "end": 10**30}]}).encode(), "end"),
    ]
    with up_process() as p:
        for path, body, reason in cases:
            reply = http("POST", p.url + path, body, {"Content-Type": "application/json"})
            assert reply.status == 400, (path, reason, reply.status, reply.body[:200])
            assert reason in reply.json()["error"], (path, reply.body[:200])
        # The server is still fine afterwards.
        assert http("POST", p.url + TP2, tp2_body(page_view())).status == 200
        assert p.signal_group(signal.SIGTERM) == 0
