"""Readable reasons for every bad-row shape (snowplow-badrows); never an exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.up.reasons import describe, message_text

BADROWS = "iglu:com.snowplowanalytics.snowplow.badrows"


def _row(kind: str, version: str, failure: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": f"{BADROWS}/{kind}/jsonschema/{version}",
        "data": {"processor": {"artifact": "a", "version": "1"}, "failure": failure},
    }


def test_size_violation() -> None:
    row = _row(
        "size_violation",
        "1-0-0",
        {"actualSizeBytes": 10, "maximumAllowedSizeBytes": 5, "expectation": "smaller"},
    )
    assert describe(row) == ["size_violation: 10 bytes, at most 5 allowed (smaller)"]


def test_format_violation() -> None:
    message = {"payloadField": "path", "value": "/x", "expectation": "a vendor/version path"}
    row = _row("collector_payload_format_violation", "1-0-0", {"message": message})
    assert describe(row) == ["collector_payload_format_violation: path = /x: a vendor/version path"]


def test_tracker_protocol_messages() -> None:
    messages = [
        {"field": "contentType", "value": "text/plain", "expectation": "application/json"},
        {"field": "body", "value": "{", "error": "unexpected end"},
        {"json": {"a": 1}, "error": "no schema"},
        {"schemaKey": "iglu:a/b/jsonschema/1-0-0", "schemaCriterion": "iglu:a/c/jsonschema/1-*-*"},
    ]
    reasons = describe(_row("tracker_protocol_violations", "1-0-1", {"messages": messages}))
    assert reasons == [
        "tracker_protocol_violations: field contentType = text/plain: application/json",
        "tracker_protocol_violations: field body is not JSON: unexpected end",
        'tracker_protocol_violations: not self-describing JSON: no schema in {"a": 1}',
        "tracker_protocol_violations: iglu:a/b/jsonschema/1-0-0 does not match "
        "iglu:a/c/jsonschema/1-*-*",
    ]


def test_schema_violations_validation_and_resolution() -> None:
    invalid = {
        "schemaKey": "iglu:com.acme/x/jsonschema/1-0-0",
        "error": {
            "error": "ValidationError",
            "dataReports": [{"message": "1 is not a string", "path": "$.name"}],
        },
    }
    missing = {
        "schemaKey": "iglu:com.acme/y/jsonschema/1-0-0",
        "error": {"error": "ResolutionError", "lookupHistory": [{"repository": "central"}]},
    }
    reasons = describe(_row("schema_violations", "2-0-1", {"messages": [invalid, missing]}))
    assert reasons == [
        "schema_violations: iglu:com.acme/x/jsonschema/1-0-0: invalid: $.name: 1 is not a string",
        "schema_violations: iglu:com.acme/y/jsonschema/1-0-0: schema not found "
        "(looked in: central)",
    ]


def test_enrichment_failure_and_generic() -> None:
    message = {"enrichment": {"identifier": "api_request"}, "message": "timeout"}
    assert describe(_row("enrichment_failures", "2-0-1", {"messages": [message]})) == [
        "enrichment_failures: enrichment api_request failed: timeout"
    ]
    assert describe(_row("generic_error", "1-0-0", {"errors": ["boom"]})) == ["generic_error: boom"]


def test_long_values_are_shortened() -> None:
    text = message_text({"field": "x", "value": "v" * 5000, "expectation": "short"})
    assert len(text) < 600


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["schema", "data", "x"]), json_values))
def test_describe_never_raises(row: dict[str, Any]) -> None:
    reasons = describe(row)
    assert reasons
    assert all(isinstance(r, str) for r in reasons)


@given(json_values)
def test_message_text_never_raises(message: Any) -> None:
    assert isinstance(message_text(message), str)
