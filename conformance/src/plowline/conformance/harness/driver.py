"""One running driver process, spoken to in JSON lines with timeouts and schema checks both ways.

A reader thread turns stdout into a queue of lines, so a read can time out; stderr goes to a
temporary file (kept for error messages) so a chatty driver can never block on a full pipe.
Every request is validated before it is written (a harness bug must not look like a driver
bug) and every reply against ``<command>.reply.schema.json``; anything off raises a
:class:`~plowline.conformance.harness.errors.DriverError`, after which the runner kills the
process and starts a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Final

from plowline.conformance.harness.errors import (
    DriverCrashedError,
    DriverReplyError,
    DriverStartError,
    DriverTimeoutError,
    HarnessError,
)
from plowline.conformance.harness.manifest import Manifest
from plowline.conformance.harness.schemas import problems, reply_validator, request_validator

PROTOCOL: Final = 1
DEFAULT_TIMEOUT_S: Final = 15.0
STOP_GRACE_S: Final = 5.0
MAX_LINE: Final = 16 * 1024 * 1024
_EOF: Final = object()


@dataclass(frozen=True, slots=True)
class Hello:
    """What the driver said about itself."""

    name: str
    version: str
    language: str
    capabilities: frozenset[str]
    tracker_version: str | None = None


class DriverProcess:
    """A started driver. Use :meth:`request`; :meth:`close` always ends the process."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._seq = 0
        self._stopped = False
        self._killed = False
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        env = {**os.environ, **manifest.env}
        try:
            self._process = subprocess.Popen(
                manifest.argv(),
                cwd=manifest.directory,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=env,
            )
        except OSError as error:
            self._stderr.close()
            raise DriverStartError(f"cannot start {manifest.argv()}: {error}") from error
        self._lines: queue.Queue[object] = queue.Queue()
        self._reader = threading.Thread(target=self._read_lines, daemon=True)
        self._reader.start()

    def _read_lines(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        try:
            for line in iter(lambda: stdout.readline(MAX_LINE), b""):
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        self._lines.put(_EOF)

    def stderr_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the driver wrote to stderr."""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - limit))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def request(
        self, command: str, body: dict[str, Any], timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, Any]:
        """Send one request and return its validated reply (ok, skipped or errored)."""
        message = {"cmd": command, "seq": self._seq, **body}
        self._seq += 1
        found = problems(request_validator(command), message)
        if found:
            raise HarnessError(f"the harness built an invalid {command} request: {found}")
        self._write(json.dumps(message, ensure_ascii=False) + "\n")
        return self._reply(command, message["seq"], timeout_s)

    def _write(self, text: str) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(text.encode("utf-8"))
            stdin.flush()
        except (OSError, ValueError) as error:
            raise self._crashed(f"cannot write to the driver: {error}") from error

    def _crashed(self, what: str) -> DriverCrashedError:
        try:
            code = self._process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail().strip()
        return DriverCrashedError(
            f"{what} (exit status {code})" + (f"; stderr: {tail}" if tail else "")
        )

    def _reply(self, command: str, seq: int, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise DriverTimeoutError(f"no reply to {command} within {timeout_s:g} s") from None
        if line is _EOF:
            raise self._crashed(f"the driver exited before replying to {command}")
        assert isinstance(line, bytes)
        try:
            reply = json.loads(line)
        except ValueError:
            shown = line[:200].decode("utf-8", "replace")
            raise DriverReplyError(f"reply to {command} is not JSON: {shown!r}") from None
        found = problems(reply_validator(command), reply)
        if found:
            raise DriverReplyError(f"invalid reply to {command}: {'; '.join(found)}: {reply}")
        if reply["seq"] != seq and not (reply["status"] == "errored" and reply["seq"] is None):
            raise DriverReplyError(f"reply to {command} #{seq} carries seq {reply['seq']}")
        result: dict[str, Any] = reply
        return result

    def hello(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> Hello:
        reply = self.request("hello", {"protocol": PROTOCOL}, timeout_s)
        if reply["status"] != "ok":
            raise DriverReplyError(f"hello was {reply['status']}: {reply}")
        impl = reply["implementation"]
        return Hello(
            name=impl["name"],
            version=impl["version"],
            language=impl["language"],
            capabilities=frozenset(reply["capabilities"]),
            tracker_version=impl.get("tracker_version"),
        )

    def close(self, timeout_ms: int = 2000) -> None:
        """Ask politely (stop), then kill; never raises."""
        try:
            if self.alive and not self._killed:
                self.request("stop", {"timeout_ms": timeout_ms}, timeout_ms / 1000 + STOP_GRACE_S)
                self._stopped = True
        except HarnessError:
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=STOP_GRACE_S if self._stopped else 0)
        if self.alive:
            self._process.kill()
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=1.0)
        self._stderr.close()

    def kill(self) -> None:
        """End a misbehaving driver at once."""
        self._killed = True
        if self.alive:
            self._process.kill()
        self.close()
