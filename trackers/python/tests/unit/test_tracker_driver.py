"""The conformance driver as a subprocess, speaking spec/driver/v1 to a loopback collector.

Every request sent and every reply received is validated against the protocol's JSON Schemas,
so this also checks that the schemas describe what a real driver does.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from plowline.tracker.clock import seeded_event_id
from plowline.tracker.testing import RecordingCollector, Respond
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[4]
DRIVER_DIR = REPO / "trackers" / "python" / "driver"
PROTOCOL_DIR = REPO / "spec" / "driver" / "v1"
VECTORS = sorted((REPO / "spec" / "vectors" / "tracker").glob("*.yaml"))
TRACKER = {"namespace": "ns", "app_id": "app", "platform": "web", "encode_base64": False}


def _registry() -> Registry[Any]:
    documents = [
        json.loads(path.read_text())
        for path in [*PROTOCOL_DIR.glob("*.schema.json"), REPO / "spec/vectors/vectors.schema.json"]
    ]
    return Registry().with_resources((doc["$id"], Resource.from_contents(doc)) for doc in documents)


REGISTRY = _registry()
WELL_FORMED_EVENT = Draft202012Validator(
    {"$ref": "https://plowline.dev/spec/driver/v1/track.request.schema.json#/$defs/event"},
    registry=REGISTRY,
)


def _validator(name: str) -> Any:
    schema = json.loads((PROTOCOL_DIR / name).read_text())
    return Draft202012Validator(schema, registry=REGISTRY)


class Driver:
    """The driver process; ``ask`` validates the request, sends it and validates the reply."""

    def __init__(self) -> None:
        command = yaml.safe_load((DRIVER_DIR / "driver.yaml").read_text())["command"]
        argv = [sys.executable if part == "{python}" else part for part in command]
        self.process = subprocess.Popen(
            argv,
            cwd=DRIVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.seq = 0
        self.requests = _validator("request.schema.json")

    def send_line(self, line: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        reply: dict[str, Any] = json.loads(self.process.stdout.readline())
        return reply

    def ask(self, cmd: str, *, well_formed: bool = True, **fields: Any) -> dict[str, Any]:
        request = {"cmd": cmd, "seq": self.seq, **fields}
        self.requests.validate(request)
        if well_formed and "event" in fields:
            WELL_FORMED_EVENT.validate(fields["event"])
        reply = self.send_line(json.dumps(request))
        _validator(f"{cmd}.reply.schema.json").validate(reply)
        assert reply["seq"] == self.seq
        self.seq += 1
        return reply

    def finish(self) -> int:
        """Close stdin (the driver then exits), wait, close the pipes; idempotent."""
        for stream in (self.process.stdin,):
            if stream is not None and not stream.closed:
                stream.close()
        code = self.process.wait(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return code


@pytest.fixture
def driver() -> Iterator[Driver]:
    process = Driver()
    yield process
    process.finish()


@pytest.fixture
def collector() -> Iterator[RecordingCollector]:
    with RecordingCollector() as server:
        yield server


def test_schemas_are_valid_draft_2020_12() -> None:
    for path in PROTOCOL_DIR.glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_capabilities_file_and_manifest() -> None:
    declared = yaml.safe_load((PROTOCOL_DIR / "capabilities.yaml").read_text())
    names = [c["name"] for c in declared["capabilities"]]
    assert len(names) == len(set(names))
    manifest = yaml.safe_load((DRIVER_DIR / "driver.yaml").read_text())
    _validator("manifest.schema.json").validate(manifest)


def test_hello_then_a_page_view_reaches_the_collector(
    driver: Driver, collector: RecordingCollector
) -> None:
    hello = driver.ask("hello", protocol=1)
    assert hello["status"] == "ok"
    assert hello["implementation"]["name"] == "plowline-tracker-python"
    known = {
        c["name"]
        for c in yaml.safe_load((PROTOCOL_DIR / "capabilities.yaml").read_text())["capabilities"]
    }
    assert set(hello["capabilities"]) <= known, "every capability is a documented one"

    configured = driver.ask(
        "configure",
        endpoint=collector.url,
        method="POST",
        tracker=TRACKER,
        subject={"user_id": "u-1"},
        clock_ms=1665398554084,
        event_id_seed=7,
    )
    assert configured == {"seq": 1, "status": "ok"}
    tracked = driver.ask("track", event={"type": "page_view", "page_url": "https://a.example/"})
    assert tracked["event_ids"] == [seeded_event_id(7, 0)]
    assert driver.ask("flush", timeout_ms=10_000)["delivered"] is True
    assert driver.ask("stop")["status"] == "ok"
    assert driver.finish() == 0

    [event] = collector.accepted_events()
    assert {k: event[k] for k in ("e", "url", "uid", "tna", "aid", "p", "eid", "dtm", "stm")} == {
        "e": "pv",
        "url": "https://a.example/",
        "uid": "u-1",
        "tna": "ns",
        "aid": "app",
        "p": "web",
        "eid": "00000007-0000-4000-8000-000000000000",
        "dtm": "1665398554084",
        "stm": "1665398554084",
    }


def test_every_answer_is_ok_skipped_or_errored(driver: Driver) -> None:
    envelope = _validator("envelope.schema.json")
    bad_lines = ["not json", "[1, 2]", '{"cmd": "hello"}', '{"cmd": "fly", "seq": 3}']
    for line in bad_lines:
        reply = driver.send_line(line)
        envelope.validate(reply)
        assert (reply["status"], reply["error_type"]) == ("errored", "protocol")
    assert driver.ask("hello", protocol=1)["status"] == "ok"
    early = driver.ask("track", event={"type": "page_view", "page_url": "u"})
    assert (early["status"], early["error_type"]) == ("errored", "protocol")
    assert driver.ask("flush")["status"] == "errored"


def test_invalid_events_and_unknown_types(driver: Driver, collector: RecordingCollector) -> None:
    driver.ask("configure", endpoint=collector.url, method="GET", tracker=TRACKER)
    missing = driver.ask("track", well_formed=False, event={"type": "page_view"})
    assert (missing["status"], missing["error_type"]) == ("errored", "invalid_argument")
    assert "page_url" in missing["message"]
    bad_id = driver.ask(
        "track", well_formed=False, event={"type": "screen_view", "name": "n", "id": "not-uuid"}
    )
    assert (bad_id["status"], bad_id["error_type"]) == ("errored", "invalid_argument")
    unknown = driver.send_line(
        json.dumps({"cmd": "track", "seq": 99, "event": {"type": "media_play"}})
    )
    assert unknown == {
        "seq": 99,
        "status": "skipped",
        "reason": "event type 'media_play' is not supported",
        "capability": "event-media-play",
    }
    assert driver.ask("reset")["status"] == "ok"
    assert collector.requests == []


def test_retry_and_batching_settings_reach_the_tracker(
    driver: Driver, collector: RecordingCollector
) -> None:
    collector.script(Respond(503, {"Retry-After": "0"}), Respond(500))
    driver.ask(
        "configure",
        endpoint=collector.url,
        method="POST",
        tracker={**TRACKER, "encode_base64": True},
        clock_ms=1_000,
        batching={"count": 3, "bytes": 5_000},
        retry={"max_attempts": 5, "initial_backoff_ms": 1, "jitter": False},
        request_timeout_ms=2_000,
    )
    for n in range(2):
        driver.ask("track", event={"type": "structured", "category": "c", "action": f"a{n}"})
    assert collector.requests == [], "nothing is sent before the batch is full"
    driver.ask(
        "track",
        event={
            "type": "self_describing",
            "event": {"schema": "iglu:com.acme/x/jsonschema/1-0-0", "data": {"k": "☃"}},
        },
        clock_ms=2_000,
        event_id="12f6c566-3e96-5f02-8bd9-9c96c0c19260",
    )
    assert driver.ask("flush", timeout_ms=10_000)["delivered"] is True
    driver.ask("stop")
    assert [r.answer for r in collector.requests] == [503, 500, 200]
    events = collector.accepted_events()
    assert [e["e"] for e in events] == ["se", "se", "ue"]
    last = events[-1]
    assert (last["eid"], last["dtm"]) == ("12f6c566-3e96-5f02-8bd9-9c96c0c19260", "2000")
    decoded = json.loads(base64.urlsafe_b64decode(last["ue_px"]))
    assert decoded["data"]["data"] == {"k": "☃"}


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vectors_feed_straight_into_the_driver(
    path: Path, driver: Driver, collector: RecordingCollector
) -> None:
    """A vector's keys go into configure/track unchanged; the wire matches its params."""
    vector = yaml.safe_load(path.read_text(encoding="utf-8"))
    configure = {k: vector[k] for k in ("method", "tracker", "subject", "clock_ms") if k in vector}
    assert driver.ask("configure", endpoint=collector.url, **configure)["status"] == "ok"
    track = {k: vector[k] for k in ("event", "clock_ms", "event_id", "event_ids") if k in vector}
    assert driver.ask("track", **track)["status"] == "ok"
    assert driver.ask("flush", timeout_ms=10_000)["delivered"] is True
    driver.ask("stop")
    expected = vector["expect"].get("events") or [vector["expect"]]
    wire = collector.accepted_events()
    assert len(wire) == len(expected)
    for sent, expect in zip(wire, expected, strict=True):
        assert {k: sent.get(k) for k in expect["params"]} == expect["params"]


def _dead_endpoint() -> str:
    """An address where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_persistence_across_driver_processes(tmp_path: Path, collector: RecordingCollector) -> None:
    path = str(tmp_path / "driver-events.sqlite")
    first = Driver()
    try:
        first.ask(
            "configure",
            endpoint=_dead_endpoint(),
            method="POST",
            tracker=TRACKER,
            event_id_seed=3,
            retry={"max_attempts": 1},
            persistence={"path": path},
        )
        first.ask("track", event={"type": "page_view", "page_url": "https://a.example/kept"})
        assert first.ask("flush", timeout_ms=5_000)["delivered"] is False
        first.ask("stop")
    finally:
        first.finish()

    second = Driver()
    try:
        second.ask(
            "configure",
            endpoint=collector.url,
            method="POST",
            tracker=TRACKER,
            persistence={"path": path},
        )
        assert second.ask("flush", timeout_ms=10_000)["delivered"] is True
        second.ask("stop")
    finally:
        second.finish()
    [event] = collector.accepted_events()
    assert (event["url"], event["eid"]) == ("https://a.example/kept", seeded_event_id(3, 0))
