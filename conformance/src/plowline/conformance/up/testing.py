"""Helpers shared by `plowline up`'s tests and benchmark: a server in a thread, a tiny HTTP
client (stdlib only) and tracker-protocol request bodies."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import IO, Any, TypeVar

from plowline.conformance.up.server import UpOptions, UpServer

PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
TP2 = "/com.snowplowanalytics.snowplow/tp2"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(
    method: str,
    url: str,
    body: bytes | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> HttpReply:
    sent = dict(headers or {})
    data: bytes | None
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    else:
        data = body
    if not url.startswith("http://"):
        raise ValueError("loopback http:// URLs only")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpReply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return HttpReply(exc.code, dict(exc.headers.items()), exc.read())


def page_view(
    url: str = "http://example.com/", title: str = "Example", **extra: str
) -> dict[str, str]:
    event = {"e": "pv", "p": "web", "tv": "plowline-test-1", "url": url, "page": title}
    event["eid"] = str(uuid.uuid4())
    event.update(extra)
    return event


def self_describing(schema: str, data: dict[str, Any], **extra: str) -> dict[str, str]:
    ue = {
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": schema, "data": data},
    }
    event = {"e": "ue", "p": "web", "tv": "plowline-test-1", "ue_pr": json.dumps(ue)}
    event["eid"] = str(uuid.uuid4())
    event.update(extra)
    return event


def contexts(*entities: dict[str, Any]) -> str:
    return json.dumps(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
            "data": list(entities),
        }
    )


def tp2_body(*events: dict[str, str]) -> dict[str, Any]:
    return {"schema": PAYLOAD_DATA, "data": list(events)}


def wait_for(check: Callable[[], T | None], timeout: float = 20, what: str = "condition") -> T:
    """Poll until ``check`` returns a truthy value (functional waits, not timing asserts)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running(options: UpOptions | None = None) -> Iterator[UpServer]:
    """A `plowline up` server on a free loopback port, stopped (flushed) afterwards."""
    server = UpServer(replace(options or UpOptions(), port=0))
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop()


class UpProcess:
    """A real ``plowline up`` process in its own session (so a test can signal its whole
    process group as a terminal's Ctrl-C does); stdout and stderr are collected."""

    def __init__(self, *args: str, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=_pump, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=_pump, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = wait_for(self._url, timeout=timeout, what="the banner")

    @property
    def err(self) -> str:
        return "".join(self.stderr)

    def _url(self) -> str | None:
        if self.proc.poll() is not None:
            for reader in self._readers:
                reader.join(10)
            raise AssertionError(f"plowline up exited {self.proc.returncode}: {self.err}")
        for line in self.stdout + self.stderr:
            found = re.search(r"collector (http://\S+)", line)
            if found:
                return found.group(1)
        return None

    def signal_group(self, sig: signal.Signals, timeout: float = 60) -> int:
        """Send ``sig`` to the whole process group (Ctrl-C in a terminal) and wait."""
        os.killpg(self.proc.pid, sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(10)
        return code

    def close(self) -> None:
        """Kill whatever is left of the process group and release the pipes."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        for reader in self._readers:
            reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


@contextmanager
def up_process(*args: str) -> Iterator[UpProcess]:
    process = UpProcess(*args)
    try:
        yield process
    finally:
        process.close()


def run_up(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``plowline up`` expected to exit by itself (refused options); in a session of its own,
    so if it does start after all, the whole group (loader included) is killed afterwards."""
    argv = [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0", *args]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
