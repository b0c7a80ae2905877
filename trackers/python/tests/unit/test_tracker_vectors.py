"""Every shared tracker vector (spec/vectors/tracker/*.yaml) through this tracker, over HTTP.

Each vector is tracked with its own tracker settings, subject, injected clock and event ids,
sent by a SyncEmitter to a loopback recording collector, decoded back from the wire and
compared as spec/vectors/FORMAT.md says: exact ``params``, ``decoded`` JSON meaning for
base64/JSON parameters, ``present`` (non-empty) and ``absent``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plowline.tracker import ManualClock, SyncEmitter, Tracker
from plowline.tracker.neutral import event_from_neutral, subject_from_neutral
from plowline.tracker.testing import RecordingCollector

# tests/unit -> tests -> python -> trackers -> repository root
REPO = Path(__file__).resolve().parents[4]
VECTORS = REPO / "spec" / "vectors" / "tracker"
VECTOR_FILES = sorted(VECTORS.glob("*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def collector() -> Iterator[RecordingCollector]:
    with RecordingCollector() as server:
        yield server


def _decode(name: str, value: str) -> Any:
    if name in ("cx", "ue_px"):
        padded = value + "=" * (-len(value) % 4)
        return json.loads(base64.urlsafe_b64decode(padded).decode("utf-8"))
    return json.loads(value)


def _check(wire: dict[str, str], expect: dict[str, Any]) -> None:
    for key, value in expect.get("params", {}).items():
        assert wire.get(key) == value, f"param {key}: sent {wire.get(key)!r}, expected {value!r}"
    for key, value in expect.get("decoded", {}).items():
        assert key in wire, f"param {key} was not sent"
        assert _decode(key, wire[key]) == value, f"decoded {key} differs"
    for key in expect.get("present", []):
        assert wire.get(key), f"param {key} missing or empty"
    for key in expect.get("absent", []):
        assert key not in wire, f"param {key} must not be sent (sent {wire[key]!r})"


def test_vectors_exist() -> None:
    assert VECTOR_FILES, f"no tracker vectors under {VECTORS}"


@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.stem for p in VECTOR_FILES])
def test_vector(path: Path, collector: RecordingCollector) -> None:
    vector = _load(path)
    settings = vector["tracker"]
    ids = iter(vector.get("event_ids") or [vector["event_id"]])
    emitter = SyncEmitter(collector.url, method=vector["method"])
    tracker = Tracker(
        emitter,
        namespace=settings["namespace"],
        app_id=settings["app_id"],
        platform=settings["platform"],
        encode_base64=settings["encode_base64"],
        subject=subject_from_neutral(vector.get("subject")),
        clock=ManualClock(vector["clock_ms"]),
        event_id_factory=lambda: next(ids),
    )
    before = len(collector.requests)
    tracker.track(event_from_neutral(vector["event"]))
    assert tracker.close(timeout=10)

    requests = collector.requests[before:]
    assert all(r.method == vector["method"] for r in requests)
    wire = [event for request in requests for event in request.events()]
    expected = vector["expect"].get("events") or [vector["expect"]]
    assert len(wire) == len(expected), f"sent {len(wire)} events, expected {len(expected)}"
    for sent, expect in zip(wire, expected, strict=True):
        _check(sent, expect)
