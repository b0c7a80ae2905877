"""The public Hypothesis strategies produce what the spec's schemas accept."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.conformance import strategies as pst
from plowline.conformance.harness.schemas import event_validator, problems, request_validator
from plowline.spec.validation import Validator

_VALIDATOR = Validator()
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid_sdj(document: Any) -> list[str]:
    report = _VALIDATOR.validate_parsed(document)
    return [] if report.valid else report.lines()


@pytest.mark.parametrize("uri", pst.STANDARD_ENTITIES + pst.STANDARD_EVENTS)
@_SETTINGS
@given(data=st.data())
def test_conformance_strategies_sdj_validates_against_its_schema(
    uri: str, data: st.DataObject
) -> None:
    document = data.draw(pst.self_describing_json(uri))
    assert document["schema"] == uri
    assert _valid_sdj(document) == []


@_SETTINGS
@given(pst.contexts())
def test_conformance_strategies_contexts_validate(entities: list[dict[str, Any]]) -> None:
    for entity in entities:
        assert _valid_sdj(entity) == []


@pytest.mark.parametrize("kind", pst.event_types())
@_SETTINGS
@given(data=st.data())
def test_conformance_strategies_events_match_the_driver_track_schema(
    kind: str, data: st.DataObject
) -> None:
    event = data.draw(pst.events((kind,)))
    assert event["type"] == kind
    assert problems(event_validator(), event) == []
    request = {"cmd": "track", "seq": 0, "event": event, "clock_ms": 1, "event_id": _EID}
    assert problems(request_validator("track"), request) == []
    for entity in event.get("contexts", ()):
        assert _valid_sdj(entity) == []
    if kind == "self_describing":
        assert _valid_sdj(event["event"]) == []


_EID = "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e"


@_SETTINGS
@given(pst.subjects(), pst.trackers())
def test_conformance_strategies_subject_and_tracker_match_configure(
    subject: dict[str, Any], tracker: dict[str, Any]
) -> None:
    request = {
        "cmd": "configure",
        "seq": 0,
        "endpoint": "http://127.0.0.1:1",
        "method": "POST",
        "tracker": tracker,
        "subject": subject,
    }
    assert problems(request_validator("configure"), request) == []


@_SETTINGS
@given(pst.unicode_text(max_size=64))
def test_conformance_strategies_unicode_text_encodes_as_utf8(text: str) -> None:
    assert text.encode("utf-8").decode("utf-8") == text


@_SETTINGS
@given(pst.atomic_text(max_size=64))
def test_conformance_strategies_atomic_text_has_no_control_characters(text: str) -> None:
    assert text.isprintable()


def test_conformance_strategies_unsupported_required_keyword_is_refused() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "not": {}}}}
    with pytest.raises(pst.UnsupportedSchemaError):
        pst.from_schema({**schema, "required": ["a"]})
    pst.from_schema(schema)  # optional: left out, not refused


@_SETTINGS
@given(
    pst.from_schema(
        {
            "type": "object",
            "properties": {"a": {"type": "string", "not": {}}, "b": {"type": "integer"}},
        }
    )
)
def test_conformance_strategies_optional_unsupported_property_is_never_generated(
    value: dict[str, Any],
) -> None:
    assert "a" not in value


@pytest.mark.parametrize(
    "uri", ["not-iglu", "iglu:a/b/c", "iglu:a//jsonschema/1-0-0"], ids=["scheme", "short", "empty"]
)
def test_conformance_strategies_bad_schema_uri_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match="iglu"):
        pst.schema_document(uri)


def test_conformance_strategies_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="no strategy"):
        pst.events(("ecommerce_transaction",))


@_SETTINGS
@given(pst.from_schema({"type": "number", "minimum": -0.75, "maximum": -0.25}))
def test_conformance_strategies_fractional_bounds_are_kept(value: float) -> None:
    assert -0.75 <= value <= -0.25
