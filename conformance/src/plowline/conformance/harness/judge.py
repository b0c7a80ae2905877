"""Judging a case from the recorded wire: decoded meaning, subset match, volatile formats.

Only the parameters a case names are compared (subset match); JSON parameters are compared by
meaning after decoding; volatile values (ids, send times) are checked by format. Some rules
hold for every case: the wire decodes, every event has ``e``, ``tv`` and a UUID ``eid``, and no
event is sent again once a request holding it was accepted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from plowline.conformance.harness.collector import RecordedRequest
from plowline.conformance.harness.wire import (
    JSON_PARAMS,
    DecodedRequest,
    WireEvent,
    decode_json_param,
)

UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BASE64URL: Final = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
# 2001-09-09 .. 2286-11-20 in milliseconds: 13 digits, no sign, no fraction.
TIMESTAMP_MS: Final = re.compile(r"^[1-9][0-9]{12}$")
INTEGER: Final = re.compile(r"^-?(0|[1-9][0-9]*)$")
FORMATS: Final[dict[str, Callable[[str], bool]]] = {
    "uuid": lambda v: bool(UUID.match(v)),
    "timestamp-ms": lambda v: bool(TIMESTAMP_MS.match(v)),
    "integer": lambda v: bool(INTEGER.match(v)),
    "non-empty": lambda v: v != "",
    "base64url": lambda v: bool(BASE64URL.match(v)),
}


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality where 1 and 1.0 are equal but True and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def check_event(where: str, expect: Mapping[str, Any], params: Mapping[str, str]) -> list[str]:
    """Mismatches between one wire event and what a case expects of it."""
    out: list[str] = []
    for name, value in (expect.get("params") or {}).items():
        if name not in params:
            out.append(f"{where}: {name} missing (expected {value!r})")
        elif params[name] != value:
            out.append(f"{where}: {name} is {params[name]!r}, expected {value!r}")
    for name, value in (expect.get("decoded") or {}).items():
        if name not in params:
            out.append(f"{where}: {name} missing")
            continue
        try:
            raw = params[name]
            got: Any = decode_json_param(name, raw) if name in JSON_PARAMS else raw
        except ValueError as error:
            out.append(f"{where}: {error}")
            continue
        if not _same_json(got, value):
            out.append(f"{where}: {name} means {got!r}, expected {value!r}")
    for name in expect.get("present") or ():
        if not params.get(name):
            out.append(f"{where}: {name} missing or empty")
    for name in expect.get("absent") or ():
        if name in params:
            out.append(f"{where}: {name} must not be sent (got {params[name]!r})")
    for name, fmt in (expect.get("formats") or {}).items():
        if name not in params:
            out.append(f"{where}: {name} missing (expected a {fmt})")
        elif not FORMATS[fmt](params[name]):
            out.append(f"{where}: {name} {params[name]!r} is not a {fmt}")
    for name, limit in (expect.get("max_length") or {}).items():
        if len(params.get(name, "")) > limit:
            out.append(f"{where}: {name} has {len(params[name])} characters, at most {limit}")
    return out


def _invariants(decoded: Sequence[DecodedRequest]) -> list[str]:
    out: list[str] = []
    delivered: dict[str, int] = {}
    for request in decoded:
        out += request.problems
        for position, event in enumerate(request.events):
            where = f"request {event.request} event {position}"
            for name in ("e", "tv"):
                if not event.params.get(name):
                    out.append(f"{where}: {name} missing or empty")
            eid = event.params.get("eid", "")
            if not UUID.match(eid):
                out.append(f"{where}: eid {eid!r} is not a lower-case UUID")
                continue
            if eid in delivered:
                out.append(
                    f"{where}: eid {eid} sent again after request {delivered[eid]} was accepted"
                )
        for event in request.events:
            eid = event.params.get("eid", "")
            if event.accepted and eid not in delivered:
                delivered[eid] = event.request
    return out


def delivered_events(decoded: Sequence[DecodedRequest]) -> list[WireEvent]:
    return [e for r in decoded for e in r.events if e.accepted]


def _transport(expect: Mapping[str, Any], decoded: Sequence[DecodedRequest]) -> list[str]:
    out: list[str] = []
    requests: list[RecordedRequest] = [d.request for d in decoded]
    n = len(requests)
    if "count" in expect and n != expect["count"]:
        out.append(f"{n} request(s), expected {expect['count']}")
    if "min" in expect and n < expect["min"]:
        out.append(f"{n} request(s), expected at least {expect['min']}")
    if "max" in expect and n > expect["max"]:
        out.append(f"{n} request(s), expected at most {expect['max']}")
    for r in requests:
        if "method" in expect and r.method != expect["method"]:
            out.append(f"request {r.index} is {r.method}, expected {expect['method']}")
        if "path" in expect and r.path != expect["path"]:
            out.append(f"request {r.index} went to {r.path}, expected {expect['path']}")
        if r.method == "POST" and "content_type" in expect:
            out += _content_type(r, expect["content_type"])
        if r.method == "POST" and expect.get("query_empty") and r.query:
            out.append(f"request {r.index} has a querystring {r.query!r}")
        if "max_body_bytes" in expect and len(r.body) > expect["max_body_bytes"]:
            limit = expect["max_body_bytes"]
            out.append(f"request {r.index} body has {len(r.body)} bytes, at most {limit}")
    if "payload_schema" in expect:
        for d in decoded:
            if d.request.method == "POST" and d.payload_schema != expect["payload_schema"]:
                out.append(
                    f"request {d.request.index} names {d.payload_schema!r}, "
                    f"expected {expect['payload_schema']!r}"
                )
    if "events_per_request" in expect:
        got = [len(d.events) for d in decoded]
        if got != list(expect["events_per_request"]):
            out.append(f"events per request {got}, expected {expect['events_per_request']}")
    if "attempts_per_event" in expect:
        seen = Counter(e.params.get("eid") for d in decoded for e in d.events)
        for eid, times in sorted(seen.items(), key=lambda kv: str(kv[0])):
            if times != expect["attempts_per_event"]:
                out.append(
                    f"eid {eid} sent {times} time(s), expected {expect['attempts_per_event']}"
                )
    for gap in expect.get("min_gap_ms") or ():
        first, ms = gap["after"], gap["ms"]
        if first + 1 >= n:
            out.append(f"no request {first + 1} to measure the wait after request {first}")
            continue
        waited = (requests[first + 1].received_s - requests[first].received_s) * 1000
        if waited < ms:
            out.append(
                f"request {first + 1} came {waited:.0f} ms after request {first}, expected >= {ms}"
            )
    return out


def _content_type(request: RecordedRequest, expected: str) -> list[str]:
    got = request.header("content-type") or ""
    want_type, _, want_params = expected.partition(";")
    got_type, _, got_params = got.partition(";")
    if got_type.strip().lower() != want_type.strip().lower():
        return [f"request {request.index} Content-Type {got!r}, expected {expected!r}"]
    wanted = {p.strip().lower().replace(" ", "") for p in want_params.split(";") if p.strip()}
    have = {p.strip().lower().replace(" ", "") for p in got_params.split(";") if p.strip()}
    if not wanted <= have:
        return [f"request {request.index} Content-Type {got!r}, expected {expected!r}"]
    return []


def judge(expect: Mapping[str, Any], decoded: Sequence[DecodedRequest]) -> list[str]:
    """Every way the recorded wire differs from a case's expectations (empty: passed)."""
    out = _invariants(decoded)
    delivered = delivered_events(decoded)
    if "events" in expect:
        wanted = expect["events"]
        if len(delivered) != len(wanted):
            out.append(f"{len(delivered)} event(s) delivered, expected {len(wanted)}")
        for i, (want, got) in enumerate(zip(wanted, delivered, strict=False)):
            out += check_event(f"event {i} (request {got.request})", want, got.params)
    if "event_count" in expect and len(delivered) != expect["event_count"]:
        out.append(f"{len(delivered)} event(s) delivered, expected {expect['event_count']}")
    if "every_event" in expect:
        for d in decoded:
            for i, event in enumerate(d.events):
                out += check_event(
                    f"request {event.request} event {i}", expect["every_event"], event.params
                )
    out += _transport(expect.get("requests") or {}, decoded)
    return out
