"""The state file: one record per local service process we started, shared by every caller.

`plowline services up` writes detached records (they outlive the CLI); a pytest session writes
records owned by its own pid. Whoever starts a service next first removes the leftovers of
crashed runs: records whose owner or service died, their process groups and temp dirs, and
temp dirs no record explains and no live process uses. Other users of the machine keep other
state files but share the temp root, so "in use" is judged by the processes themselves: the
pid in a temp dir's name (its starter) and the service named by the dir's in-use marker.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from plowline.conformance.services.procs import ProcessRef, is_alive, pid_alive, stop_group

TEMP_PREFIX = "plowline-svc-"
# plowline-svc-<kind>-<owner pid>-<random>: the owner pid lets cleanup judge dirs without a record.
_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}(?P<kind>[a-z]+)-(?P<owner>\d+)-")
# Written into a service's temp dir once it runs: the starter (the pid in the name) may be a
# short-lived `plowline services up` command, so the name alone cannot tell a dir in use.
IN_USE_MARKER = ".plowline-service.json"


@dataclass
class InstanceRecord:
    """A local service process and everything needed to find, check and stop it again."""

    id: str
    kind: str
    backend: str
    pid: int
    start_ticks: int | None
    tmpdir: str
    log_path: str
    endpoint: dict[str, str]
    env: dict[str, str]
    owner_pid: int | None  # None: detached (started by `plowline services up`)
    owner_start_ticks: int | None = None
    started_at: float = field(default_factory=time.time)
    stop_signal: str = "SIGTERM"
    paused: bool = False  # stopped on purpose by its live owner (a fault test): keep its data

    @property
    def leader(self) -> ProcessRef:
        return ProcessRef(self.pid, self.start_ticks)

    @property
    def detached(self) -> bool:
        return self.owner_pid is None

    def owner_alive(self) -> bool:
        if self.owner_pid is None:
            return True
        return is_alive(ProcessRef(self.owner_pid, self.owner_start_ticks))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstanceRecord:
        return cls(**data)


def new_tempdir(kind: str, root: Path | None = None) -> Path:
    """A fresh temp dir whose name carries the kind and our pid (see _TEMP_NAME)."""
    base = root if root is not None else Path(tempfile.gettempdir())
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{kind}-{os.getpid()}-", dir=base))


class StateStore:
    """state.json guarded by an flock on state.lock; writes are atomic renames."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name("state.lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read(self) -> list[InstanceRecord]:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return []
        try:
            data = json.loads(raw)
            return [InstanceRecord.from_json(item) for item in data["instances"]]
        except (ValueError, KeyError, TypeError):
            # A torn or hand-edited file must not wedge every later start: keep a copy, reset.
            self.path.replace(self.path.with_suffix(f".corrupt-{int(time.time())}"))
            return []

    def _write(self, records: list[InstanceRecord]) -> None:
        payload = {"version": 1, "instances": [r.to_json() for r in records]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        tmp.replace(self.path)

    def load(self) -> list[InstanceRecord]:
        with self.locked():
            return self._read()

    def add(self, record: InstanceRecord) -> None:
        mark_in_use(record)
        with self.locked():
            records = [r for r in self._read() if r.id != record.id]
            records.append(record)
            self._write(records)

    def remove(self, record_id: str) -> None:
        with self.locked():
            self._write([r for r in self._read() if r.id != record_id])

    def replace(self, record: InstanceRecord) -> None:
        self.add(record)


def mark_in_use(record: InstanceRecord) -> None:
    """Name the service process in its temp dir, for every state store's cleanup to see."""
    tmpdir = Path(record.tmpdir)
    if tmpdir.is_dir():
        marker = {"pid": record.pid, "start_ticks": record.start_ticks, "kind": record.kind}
        (tmpdir / IN_USE_MARKER).write_text(json.dumps(marker))


def _temp_dir_in_use(candidate: Path, starter_pid: int) -> bool:
    if pid_alive(starter_pid):
        return True  # its starter may be starting a service right now
    try:
        marker = json.loads((candidate / IN_USE_MARKER).read_text())
        service = ProcessRef(int(marker["pid"]), marker.get("start_ticks"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return is_alive(service)


def stop_record(record: InstanceRecord, grace: float = 20.0) -> None:
    """Stop a recorded service's process group (if it is still ours) and remove its temp dir."""
    stop_group(record.leader, first_signal=signal.Signals[record.stop_signal], grace=grace)
    shutil.rmtree(record.tmpdir, ignore_errors=True)


def clean_stale(store: StateStore, temp_root: Path | None = None) -> list[str]:
    """Remove what crashed runs left behind; returns one line per thing cleaned.

    Stale: a record whose owner died (its service is stopped) or whose service died; a temp
    dir with our prefix that no live record names and whose owner pid is gone.
    """
    cleaned: list[str] = []
    with store.locked():
        records = store._read()
        keep: list[InstanceRecord] = []
        for record in records:
            service_alive = is_alive(record.leader)
            if (service_alive or record.paused) and record.owner_alive():
                mark_in_use(record)  # records written before markers existed get one too
                keep.append(record)
                continue
            stop_record(record, grace=10.0)
            why = "its owner exited" if service_alive or record.paused else "its process is gone"
            cleaned.append(f"{record.kind} {record.id} (pid {record.pid}): {why}; cleaned up")
        store._write(keep)
        live_dirs = {Path(r.tmpdir).resolve() for r in keep}
    base = temp_root if temp_root is not None else Path(tempfile.gettempdir())
    for candidate in sorted(base.glob(f"{TEMP_PREFIX}*")):
        match = _TEMP_NAME.match(candidate.name)
        if not match or not candidate.is_dir() or candidate.resolve() in live_dirs:
            continue
        if _temp_dir_in_use(candidate, int(match["owner"])):
            continue
        shutil.rmtree(candidate, ignore_errors=True)
        cleaned.append(f"orphaned temp dir {candidate}; removed")
    return cleaned
