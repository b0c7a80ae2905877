"""Process plumbing for local services: spawn in a group of their own, know them again, stop them.

Every service process is started as the leader of a new session, so its process group id is
its pid and stopping the group stops its helpers too (LocalStack's Kinesis emulator, the
PostgreSQL backends). A process is recognised again by (pid, start time in clock ticks), so
a recycled pid is never mistaken for one of ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessRef:
    """A process we started: its pid plus its start time, which survives pid reuse checks."""

    pid: int
    start_ticks: int | None

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        return cls(pid, process_start_ticks(pid))


def process_start_ticks(pid: int) -> int | None:
    """Start time of pid in clock ticks since boot (Linux /proc), None when unknown or gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


def _state(pid: int) -> str | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return rest[0] if rest else None


def pid_alive(pid: int) -> bool:
    """True when pid exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return _state(pid) not in {"Z", "X"}


def is_alive(ref: ProcessRef) -> bool:
    """True when the very process ref names still runs (not a recycled pid)."""
    if not pid_alive(ref.pid):
        return False
    if ref.start_ticks is None:
        return True
    return process_start_ticks(ref.pid) == ref.start_ticks


def group_members(pgid: int) -> list[int]:
    """Pids whose process group is pgid (live ones, zombies excluded)."""
    members: list[int] = []
    try:
        entries = list(PROC.iterdir())
    except OSError:
        return members
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2 :].split()
        if len(rest) > 2 and rest[0] not in {"Z", "X"} and rest[2] == str(pgid):
            members.append(int(entry.name))
    return members


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start argv detached from our terminal and signals, output appended to log_path.

    user (given only when we are root) drops to that OS user, as PostgreSQL requires.
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user is not None else None,
        )


def stop_group(
    leader: ProcessRef,
    *,
    first_signal: signal.Signals = signal.SIGTERM,
    grace: float = 20.0,
    child: subprocess.Popen[bytes] | None = None,
) -> None:
    """Stop the process group led by leader: first_signal, then SIGKILL after grace seconds.

    Only acts when leader is still the process we started (or already gone, in which case
    leftover members of its group are killed). child is the Popen object when we are the
    parent, so the leader is reaped and leaves no zombie.
    """
    pgid = leader.pid
    if pid_alive(leader.pid) and not is_alive(leader):
        return  # the pid now belongs to someone else: not ours to signal
    _signal_group(pgid, first_signal)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if child is not None:
            child.poll()
        if not group_members(pgid):
            break
        time.sleep(0.05)
    else:
        _signal_group(pgid, signal.SIGKILL)
        kill_deadline = time.monotonic() + 5.0
        while group_members(pgid) and time.monotonic() < kill_deadline:
            time.sleep(0.05)
    if child is not None:
        try:
            child.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5.0)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def group_memory_kib(pgid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB summed over the group's processes; PSS shares shared pages fairly."""
    rss = pss = 0
    for pid in group_members(pgid):
        try:
            for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss
