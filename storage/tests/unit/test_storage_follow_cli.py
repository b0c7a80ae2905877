"""`plowline-load` following a TSV file as a real process: a line that arrives in two writes is
one event, never two FieldNumberMismatch bad rows (issue 15 item 8)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plowline.storage.testing.events import enriched_lines

LOAD = "from plowline.storage.cli import main; raise SystemExit(main())"  # plowline-load
WAIT_S = 120.0  # generous for a busy machine; every wait ends on a condition


def _committed(checkpoint: Path) -> int:
    try:
        return int(json.loads(checkpoint.read_text()).get(str(checkpoint.parent / "in.tsv"), 0))
    except (OSError, ValueError):  # not written yet (it is replaced atomically)
        return 0


@pytest.mark.timeout(400)
def test_a_followed_line_written_in_two_writes_loads_as_one_event(tmp_path: Path) -> None:
    first, second = enriched_lines(2)
    data, checkpoint = tmp_path / "in.tsv", tmp_path / "checkpoint.json"
    db, bad = tmp_path / "db.sqlite", tmp_path / "bad.json"
    half = len(second) // 2
    fd = os.open(data, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.write(fd, first + b"\n" + second[:half])  # the writer's first write ends mid-line
    log = tmp_path / "load.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", LOAD,
             "embedded", "--from", f"file://{data}?checkpoint={checkpoint}", "--db", str(db),
             "--bad", f"file://{bad}", "--max-wait", "0.2", "--idle-exit", "600"],
            stderr=err,
        )  # fmt: skip
    try:

        def wait_until(done: int, what: str) -> None:
            deadline = time.monotonic() + WAIT_S
            while _committed(checkpoint) < done:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                time.sleep(0.05)

        wait_until(len(first) + 1, "the first line's commit")
        # Only the complete line was taken (was: the half line too, as a bad row).
        assert _committed(checkpoint) == len(first) + 1
        os.write(fd, second[half:] + b"\n")  # the second write completes the line
        wait_until(data.stat().st_size, "the second line's commit")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not bad.exists() or bad.read_bytes() == b""
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (2,)
