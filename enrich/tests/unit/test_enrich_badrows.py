"""Every bad row an enricher emits validates against its own schema in spec/schemas."""

from __future__ import annotations

import base64
import json

import pytest
from plowline.enrich.badrows import SCHEMAS, BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.records import enrich_record
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode
from plowline.spec.framing import Framing, encode_batch
from plowline.spec.validation import Validator


@pytest.fixture(scope="module")
def spec_validator() -> Validator:
    return Validator()


def assert_valid(row: BadRow, spec_validator: Validator) -> None:
    report = spec_validator.validate_parsed(row.to_sdj())
    assert report.valid, "\n".join(report.lines())


def _only_bad(results: list[object]) -> BadRow:
    assert len(results) == 1
    row = results[0]
    assert isinstance(row, BadRow)
    return row


LONG = "x" * 3000
CASES = {
    "collector_payload_format_violation": lambda: payload_from_request("GET", "/a/b/c", "e=pv"),
    "adapter_failures": lambda: payload_from_request(
        "GET", "/com.acme/v1", f"k={LONG}", headers={"User-Agent": LONG * 3}
    ),
    "tracker_protocol_violations": lambda: payload_from_request(
        "POST",
        "/com.snowplowanalytics.snowplow/tp2",
        f"aid={LONG}",
        {"Content-Type": "text/" + LONG},
        "x",
    ),
    "schema_violations": lambda: payload_from_request(
        "GET", "/i", f"e=pv&p=web&tv=t&vid=x&aid={LONG}"
    ),
    "enrichment_failures": lambda: payload_from_request("GET", "/i", "e=ad&p=web&tv=t"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_pipeline_bad_rows_validate(
    kind: str, ctx: EnrichContext, spec_validator: Validator
) -> None:
    row = _only_bad(list(enrich(CASES[kind](), ctx)))
    assert row.kind == kind
    assert row.schema == SCHEMAS[kind]
    assert_valid(row, spec_validator)
    parsed = json.loads(row.to_json())
    assert list(parsed) == ["schema", "data"]
    assert parsed["data"]["processor"] == {"artifact": "plowline-enrich", "version": "0.1.0"}


def test_format_violation_keeps_raw_bytes(ctx: EnrichContext, spec_validator: Validator) -> None:
    raw = b"\x00\x01 definitely not thrift"
    row = _only_bad(list(enrich_record(raw, ctx)))
    assert row.kind == "collector_payload_format_violation"
    assert base64.b64decode(row.data["payload"]) == raw
    assert_valid(row, spec_validator)


def test_corrupt_batch_is_a_format_violation(ctx: EnrichContext, spec_validator: Validator) -> None:
    good = encode_batch([b"abc"], Framing.GZIP)
    row = _only_bad(list(enrich_record(good[:-6], ctx)))
    assert row.kind == "collector_payload_format_violation"
    assert_valid(row, spec_validator)


def test_size_violation(validator: IgluValidator, spec_validator: Validator) -> None:
    small = EnrichContext(validator, max_payload_bytes=100, clock_ms=lambda: 0)
    record = encode(payload_from_request("GET", "/i", "e=pv&p=web&tv=t&page=" + "y" * 200))
    row = _only_bad(list(enrich_record(record, small)))
    assert row.kind == "size_violation"
    assert row.data["failure"]["actualSizeBytes"] == len(record)
    assert len(row.data["payload"]) <= 10
    assert_valid(row, spec_validator)


def test_generic_error_for_an_internal_failure(
    validator: IgluValidator, spec_validator: Validator
) -> None:
    class Exploding:
        def check(self, schema_uri: str, data: object) -> None:
            raise RuntimeError("boom")

    broken = EnrichContext(Exploding(), clock_ms=lambda: 0)
    body = json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": [{"e": "pv", "tv": "t", "p": "web"}],
    })  # fmt: skip
    payload = payload_from_request(
        "POST",
        "/com.snowplowanalytics.snowplow/tp2",
        "",
        {"Content-Type": "application/json"},
        body,
    )
    row = _only_bad(list(enrich(payload, broken)))
    assert row.kind == "generic_error"
    assert "boom" in row.data["failure"]["errors"][0]
    assert_valid(row, spec_validator)


def test_batches_are_unpacked(ctx: EnrichContext) -> None:
    payloads = [
        encode(payload_from_request("GET", "/i", f"e=pv&p=web&tv=t&aid=a{i}")) for i in range(3)
    ]
    for framing in (Framing.GZIP, Framing.ZSTD):
        results = enrich_record(encode_batch(payloads, framing), ctx)
        assert [getattr(r, "values", {}).get("app_id") for r in results] == ["a0", "a1", "a2"]
