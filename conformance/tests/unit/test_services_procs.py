"""Process identity, group stop with escalation, log tails."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from plowline.conformance.services.procs import (
    ProcessRef,
    group_members,
    is_alive,
    pid_alive,
    process_start_ticks,
    spawn,
    stop_group,
    tail,
)

IGNORES_TERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def test_own_process_is_recognised_by_pid_and_start_time() -> None:
    me = ProcessRef.of(os.getpid())
    assert me.start_ticks is not None
    assert is_alive(me)
    assert not is_alive(ProcessRef(os.getpid(), me.start_ticks + 1))  # a recycled pid


def test_spawned_process_leads_its_own_group(tmp_path: Path) -> None:
    child = spawn([sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "log")
    try:
        assert os.getpgid(child.pid) == child.pid
        assert group_members(child.pid) == [child.pid]
    finally:
        stop_group(ProcessRef.of(child.pid), child=child, grace=5)
    assert child.returncode == -signal.SIGTERM
    assert not pid_alive(child.pid)


def test_stop_group_escalates_to_sigkill(tmp_path: Path) -> None:
    log = tmp_path / "log"
    child = spawn([sys.executable, "-c", IGNORES_TERM], log_path=log)
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop_group(ProcessRef.of(child.pid), child=child, grace=0.3)
    assert child.returncode == -signal.SIGKILL


def test_stop_group_leaves_a_recycled_pid_alone(tmp_path: Path) -> None:
    child = spawn([sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "log")
    try:
        ticks = process_start_ticks(child.pid)
        assert ticks is not None
        stop_group(ProcessRef(child.pid, ticks + 7), grace=0.2)  # not the process we started
        assert pid_alive(child.pid)
    finally:
        stop_group(ProcessRef.of(child.pid), child=child, grace=5)


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert tail(log, 3) == "line 97\nline 98\nline 99"
    assert tail(tmp_path / "missing.log") == ""
