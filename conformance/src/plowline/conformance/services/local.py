"""Common life cycle of a service run as a local process on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from abc import abstractmethod
from pathlib import Path

from plowline.conformance.services.errors import ServiceStartError
from plowline.conformance.services.handle import E, ServiceHandle
from plowline.conformance.services.procs import ProcessRef, is_alive, spawn, stop_group, tail
from plowline.conformance.services.state import InstanceRecord, StateStore

_BIND_FAILURES = ("address already in use", "could not bind", "bindexception", "errno 98")
_LAUNCH_ATTEMPTS = 3


class LocalProcessService(ServiceHandle[E]):
    """A service process we spawn, record in the state file, and stop by process group.

    Subclasses say how to launch and probe it. Data lives in tmpdir, which close() deletes;
    stop()/start() keep tmpdir and the ports, so clients reconnect to the same address.
    """

    origin = "local"
    stop_signal: signal.Signals = signal.SIGTERM
    stop_grace: float = 30.0

    def __init__(
        self,
        endpoint: E,
        *,
        store: StateStore,
        tmpdir: Path,
        start_timeout: float,
        detached: bool = False,
    ) -> None:
        super().__init__(endpoint)
        self.store = store
        self.tmpdir = tmpdir
        self.log_path = tmpdir / f"{self.kind.value}.log"
        self.start_timeout = start_timeout
        self.detached = detached
        self.id = f"{self.kind.value}-{uuid.uuid4().hex[:12]}"
        self._child: subprocess.Popen[bytes] | None = None
        self._leader: ProcessRef | None = None
        self._closed = False
        self._log_offset = 0

    # -- what subclasses provide -------------------------------------------------------------

    @abstractmethod
    def argv(self) -> list[str]:
        """The command line of the service process."""

    def prepare(self) -> None:
        """One-time work before the first launch (initdb, storage format, venv links)."""

    def process_env(self) -> dict[str, str]:
        return dict(os.environ)

    def run_as(self) -> str | None:
        """OS user to run the process as (only honoured when we are root)."""
        return None

    def repick_ports(self) -> None:
        """Choose fresh ports after a bind failure on first launch (default: cannot)."""
        raise ServiceStartError(self.backend, "its port is taken", tail(self.log_path))

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def controllable(self) -> bool:
        return not self._closed

    @property
    def running(self) -> bool:
        return self._leader is not None and is_alive(self._leader)

    @property
    def pid(self) -> int | None:
        return self._leader.pid if self._leader is not None else None

    def launch(self, *, first: bool = True) -> None:
        """Spawn the process and return once it is ready; raise ServiceStartError otherwise."""
        for attempt in range(1, _LAUNCH_ATTEMPTS + 1):
            self._spawn()
            problem = self._wait_ready()
            if problem is None:
                return
            log = tail(self.log_path)
            this_attempt = self._log_since_spawn()
            self._record(paused=True)  # keep other runs' cleanup off tmpdir while we retry
            self._kill()
            if first and attempt < _LAUNCH_ATTEMPTS and _bind_failed(this_attempt):
                self.repick_ports()
                continue
            raise ServiceStartError(self.backend, problem, log)

    def _spawn(self) -> None:
        user = self.run_as() if os.geteuid() == 0 else None
        with self.log_path.open("ab") as log:
            log.write(f"\n=== plowline: starting {' '.join(self.argv())}\n".encode())
            self._log_offset = log.tell()
        child = spawn(
            self.argv(), log_path=self.log_path, env=self.process_env(), cwd=self.tmpdir, user=user
        )
        self._child = child
        self._leader = ProcessRef.of(child.pid)
        self._record()

    def _log_since_spawn(self, limit: int = 64 * 1024) -> str:
        """What the current process wrote to the log (the last `limit` bytes of it)."""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_offset, size - limit))
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _wait_ready(self) -> str | None:
        deadline = time.monotonic() + self.start_timeout
        problem: str | None = "not probed yet"
        while time.monotonic() < deadline:
            if self._child is not None and self._child.poll() is not None:
                return f"the process exited with status {self._child.returncode}"
            problem = self.problem()
            if problem is None:
                return None
            if _bind_failed(self._log_since_spawn()):
                # Some services (Kafka) take many seconds to exit after a failed bind.
                return "its port is taken (address already in use)"
            time.sleep(0.1)
        return f"not ready after {self.start_timeout:.0f} s: {problem}"

    def _record(self, paused: bool = False) -> None:
        leader = self._leader
        if leader is None:
            return
        owner = None if self.detached else ProcessRef.of(os.getpid())
        self.store.replace(
            InstanceRecord(
                id=self.id,
                kind=self.kind.value,
                backend=self.backend,
                pid=leader.pid,
                start_ticks=leader.start_ticks,
                tmpdir=str(self.tmpdir),
                log_path=str(self.log_path),
                endpoint={"address": self.endpoint.describe()},
                env=self.env(),
                owner_pid=owner.pid if owner else None,
                owner_start_ticks=owner.start_ticks if owner else None,
                stop_signal=self.stop_signal.name,
                paused=paused,
            )
        )

    def _kill(self) -> None:
        if self._leader is not None:
            stop_group(
                self._leader,
                first_signal=self.stop_signal,
                grace=self.stop_grace,
                child=self._child,
            )
        self._child = None

    def stop(self) -> None:
        if self._closed:
            raise ServiceStartError(self.backend, "it was closed for good")
        self._record(paused=True)  # keeps cleanup of other runs away from our data meanwhile
        self._kill()

    def start(self) -> None:
        if self._closed:
            raise ServiceStartError(self.backend, "it was closed for good")
        if self.running:
            return
        began = time.monotonic()
        self.launch(first=False)
        self.notes.append(f"restarted in {time.monotonic() - began:.1f} s")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._kill()
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.store.remove(self.id)

    def memory_kib(self) -> tuple[int, int]:
        """(RSS, PSS) of the service's whole process group, in KiB."""
        from plowline.conformance.services.procs import group_memory_kib

        return group_memory_kib(self._leader.pid) if self._leader else (0, 0)


def _bind_failed(log: str) -> bool:
    lowered = log.lower()
    return any(marker in lowered for marker in _BIND_FAILURES)
