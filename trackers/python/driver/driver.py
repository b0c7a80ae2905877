"""Conformance driver for plowline-tracker (Python), tracker driver protocol v1.

Reads one JSON request per line on stdin, writes one JSON reply per line on stdout (see
spec/driver/README.md). A dispatch table maps each command to a function that translates the
request into tracker calls; there is no test logic here: the harness owns the collector, the
wire recording and every verdict.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from plowline.tracker import (
    TRACKER_VERSION,
    BackgroundEmitter,
    ConfigurationError,
    InvalidEventError,
    RetryPolicy,
    SqliteStore,
    Tracker,
    __version__,
)
from plowline.tracker.clock import random_event_id, seeded_event_id, system_clock_ms
from plowline.tracker.emitters import GET_PATH, POST_PATH, EventStore
from plowline.tracker.neutral import EVENT_TYPES, event_from_neutral, subject_from_neutral

PROTOCOL = 1
CAPABILITIES = [
    "get",
    "post",
    "base64",
    "custom-paths",
    "request-timeout",
    "batching-count",
    "batching-bytes",
    "retry",
    "retry-after",
    "persistence",
    "injected-clock",
    "injected-event-id",
    "subject",
    "subject-per-event",
    "contexts",
    "true-timestamp",
    *(f"event-{name.replace('_', '-')}" for name in EVENT_TYPES),
    "event-screen-view-legacy",
]
# Sends happen on a full batch or a flush only, so a case controls exactly when traffic starts.
NO_TIMER_S = 24 * 3600.0
DEFAULT_RESET_TIMEOUT_MS = 1000


class Skip(Exception):  # noqa: N818 (a reply kind, not an error)
    """The driver cannot do this (a capability it lacks)."""

    def __init__(self, reason: str, capability: str | None = None) -> None:
        super().__init__(reason)
        self.capability = capability


class ProtocolError(Exception):
    """The request is malformed or out of order."""


class DriverClock:
    """The injected clock: fixed once a clock_ms was given, the real clock until then."""

    def __init__(self, fixed_ms: int | None) -> None:
        self.fixed_ms = fixed_ms

    def __call__(self) -> int:
        return system_clock_ms() if self.fixed_ms is None else self.fixed_ms


class DriverIds:
    """The injected id factory: ids queued by track requests, then the seeded or random ones."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self.index = 0
        self.queued: deque[str] = deque()

    def __call__(self) -> str:
        if self.queued:
            return self.queued.popleft()
        if self.seed is None:
            return random_event_id()
        self.index += 1
        return seeded_event_id(self.seed, self.index - 1)


@dataclass
class Session:
    tracker: Tracker | None = None
    emitter: BackgroundEmitter | None = None
    clock: DriverClock = field(default_factory=lambda: DriverClock(None))
    ids: DriverIds = field(default_factory=lambda: DriverIds(None))
    request_timeout_s: float = 5.0
    stopping: bool = False


def _keys(request: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(request) - allowed - {"cmd", "seq"}
    if unknown:
        raise ProtocolError(f"unknown keys {sorted(unknown)}")


def _int(request: Mapping[str, Any], key: str, default: int | None = None) -> int | None:
    value = request.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ProtocolError(f"{key} must be a non-negative integer")
    return value


def _object(request: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = request.get(key) or {}
    if not isinstance(value, dict):
        raise ProtocolError(f"{key} must be an object")
    return value


def hello(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    _keys(request, {"protocol"})
    if request.get("protocol") != PROTOCOL:
        theirs = request.get("protocol")
        raise ProtocolError(f"this driver speaks protocol {PROTOCOL}, not {theirs}")
    return {
        "protocol": PROTOCOL,
        "implementation": {
            "name": "plowline-tracker-python",
            "version": __version__,
            "language": "python",
            "tracker_version": TRACKER_VERSION,
        },
        "capabilities": CAPABILITIES,
    }


def _retry_policy(spec: Mapping[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    ms = 1000.0
    return RetryPolicy(
        max_attempts=spec.get("max_attempts", defaults.max_attempts),
        initial_backoff_s=spec.get("initial_backoff_ms", defaults.initial_backoff_s * ms) / ms,
        max_backoff_s=spec.get("max_backoff_ms", defaults.max_backoff_s * ms) / ms,
        multiplier=spec.get("multiplier", defaults.multiplier),
        jitter=defaults.jitter if spec.get("jitter", True) else 0.0,
        honour_retry_after=spec.get("honour_retry_after", defaults.honour_retry_after),
    )


def configure(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    _keys(
        request,
        {
            "endpoint", "method", "tracker", "subject", "clock_ms", "event_id_seed", "batching",
            "retry", "request_timeout_ms", "persistence", "paths",
        },
    )  # fmt: skip
    _discard(session, timeout_s=DEFAULT_RESET_TIMEOUT_MS / 1000)
    settings = _object(request, "tracker")
    batching = _object(request, "batching")
    paths = _object(request, "paths")
    persistence = _object(request, "persistence")
    session.clock = DriverClock(_int(request, "clock_ms"))
    session.ids = DriverIds(_int(request, "event_id_seed"))
    session.request_timeout_s = (_int(request, "request_timeout_ms") or 5000) / 1000
    store: EventStore | None = SqliteStore(persistence["path"]) if persistence else None
    emitter = BackgroundEmitter(
        request["endpoint"],
        method=request["method"],
        batch_size=batching.get("count", 1),
        max_bytes=batching.get("bytes", 40_000),
        retry=_retry_policy(_object(request, "retry")),
        request_timeout_s=session.request_timeout_s,
        flush_interval_s=NO_TIMER_S,
        store=store,
        clock=session.clock,
        get_path=paths.get("get", GET_PATH),
        post_path=paths.get("post", POST_PATH),
        shutdown_timeout_s=None,
    )
    try:
        session.tracker = Tracker(
            emitter,
            namespace=settings.get("namespace"),
            app_id=settings.get("app_id"),
            platform=settings.get("platform", "pc"),
            encode_base64=settings.get("encode_base64", True),
            subject=subject_from_neutral(_object(request, "subject")),
            clock=session.clock,
            event_id_factory=session.ids,
        )
    except BaseException:
        emitter.close(0)
        raise
    session.emitter = emitter
    return {}


def track(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    _keys(request, {"event", "clock_ms", "event_id", "event_ids", "subject"})
    if session.tracker is None:
        raise ProtocolError("track before configure")
    spec = _object(request, "event")
    kind = spec.get("type")
    if isinstance(kind, str) and kind not in EVENT_TYPES:
        raise Skip(f"event type {kind!r} is not supported", f"event-{kind.replace('_', '-')}")
    event = event_from_neutral(spec)
    subject = subject_from_neutral(_object(request, "subject"))
    if "clock_ms" in request:
        session.clock.fixed_ms = _int(request, "clock_ms")
    ids = request.get("event_ids") or ([request["event_id"]] if "event_id" in request else [])
    session.ids.queued.extend(ids)
    try:
        return {"event_ids": session.tracker.track(event, subject=subject)}
    finally:
        session.ids.queued.clear()  # ids meant for this call never leak into the next


def flush(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    _keys(request, {"timeout_ms"})
    if session.tracker is None:
        raise ProtocolError("flush before configure")
    timeout_ms = _int(request, "timeout_ms")
    return {"delivered": session.tracker.flush(None if timeout_ms is None else timeout_ms / 1000)}


def _discard(session: Session, timeout_s: float) -> None:
    """Close the tracker and wait until its worker can start no further request."""
    emitter, session.tracker, session.emitter = session.emitter, None, None
    if emitter is not None:
        emitter.close(timeout_s)
        emitter.join(session.request_timeout_s + 1.0)


def reset(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    _keys(request, {"timeout_ms"})
    _discard(session, (_int(request, "timeout_ms") or DEFAULT_RESET_TIMEOUT_MS) / 1000)
    return {}


def stop(session: Session, request: Mapping[str, Any]) -> dict[str, Any]:
    result = reset(session, request)
    session.stopping = True
    return result


COMMANDS: dict[str, Callable[[Session, Mapping[str, Any]], dict[str, Any]]] = {
    "hello": hello,
    "configure": configure,
    "track": track,
    "flush": flush,
    "reset": reset,
    "stop": stop,
}


def answer(session: Session, line: str) -> dict[str, Any]:
    """One reply for one request line; every failure becomes an ``errored`` reply."""
    try:
        request = json.loads(line)
    except ValueError as error:
        return _errored(None, f"request is not JSON: {error}", "protocol")
    seq = request.get("seq") if isinstance(request, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return _errored(None, "request must be an object with an integer seq", "protocol")
    handler = COMMANDS.get(request.get("cmd"))
    if handler is None:
        return _errored(seq, f"unknown command {request.get('cmd')!r}", "protocol")
    try:
        return {"seq": seq, "status": "ok", **handler(session, request)}
    except Skip as skip:
        reply = {"seq": seq, "status": "skipped", "reason": str(skip)}
        return reply if skip.capability is None else {**reply, "capability": skip.capability}
    except (InvalidEventError, ConfigurationError) as error:
        return _errored(seq, str(error), "invalid_argument")
    except ProtocolError as error:
        return _errored(seq, str(error), "protocol")
    except (KeyError, TypeError, ValueError) as error:
        return _errored(seq, f"bad request: {type(error).__name__}: {error}", "protocol")
    except Exception as error:
        return _errored(seq, f"{type(error).__name__}: {error}", "internal", traceback.format_exc())


def _errored(
    seq: int | None, message: str, kind: str, details: str | None = None
) -> dict[str, Any]:
    reply: dict[str, Any] = {"seq": seq, "status": "errored", "message": message}
    reply["error_type"] = kind
    if details is not None:
        reply["details"] = details
    return reply


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    session = Session()
    try:
        for line in stdin:
            if not line.strip():
                continue
            reply = answer(session, line)
            stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
            stdout.flush()
            if session.stopping:
                break
    finally:
        _discard(session, timeout_s=0.0)  # stdin closed without stop: send nothing more
    return 0


if __name__ == "__main__":
    sys.exit(main())
