"""Every language-neutral vector in spec/vectors/enrich and spec/vectors/bad (FORMAT.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import CollectorPayload
from plowline.spec.validation import Validator

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors"
JSON_FIELDS = ("contexts", "unstruct_event", "derived_contexts")


def _load(folder: str) -> list[Any]:
    files = sorted((VECTORS / folder).glob("*.yaml"))
    return [pytest.param(yaml.safe_load(f.read_text(encoding="utf-8")), id=f.stem) for f in files]


def _payload(request: dict[str, Any]) -> CollectorPayload:
    return payload_from_request(
        request["method"],
        request["path"],
        request.get("query") or None,
        {str(k): str(v) for k, v in (request.get("headers") or {}).items()},
        request.get("body"),
        ip=request.get("ip", "127.0.0.1"),
        timestamp_ms=int(request.get("collector_tstamp_ms", 1_665_398_554_500)),
    )


def _describe(results: list[EnrichedEvent | BadRow]) -> str:
    return "\n".join(r.to_json() if isinstance(r, BadRow) else r.to_tsv() for r in results)


@pytest.mark.parametrize("vector", _load("enrich"))
def test_enrich_vector(vector: dict[str, Any], ctx: EnrichContext) -> None:
    assert vector["kind"] == "raw_request"
    results = enrich(_payload(vector["request"]), ctx)
    expected = vector["expect"]["events"]
    assert all(isinstance(r, EnrichedEvent) for r in results), _describe(results)
    assert len(results) == len(expected), _describe(results)
    for event, fields in zip(results, expected, strict=True):
        assert isinstance(event, EnrichedEvent)
        assert len(event.to_tsv().split("\t")) == 131
        for name, want in fields.items():
            got = event.field_text(name)
            if name in JSON_FIELDS and want is not None and got is not None:
                assert json.loads(got) == (json.loads(want) if isinstance(want, str) else want), (
                    name
                )
            else:
                assert got == (None if want in (None, "") else str(want)), name


@pytest.mark.parametrize("vector", _load("bad"))
def test_bad_vector(vector: dict[str, Any], ctx: EnrichContext) -> None:
    assert vector["kind"] == "invalid_request"
    results = enrich(_payload(vector["request"]), ctx)
    expect = vector["expect"]
    bad = [r for r in results if isinstance(r, BadRow)]
    assert bad, _describe(results)
    row = bad[0]
    assert row.kind == expect["bad_row"], _describe(results)
    if "schema" in expect:
        assert row.schema == expect["schema"]
    failure = json.dumps(row.data["failure"], ensure_ascii=False)
    for fragment in expect.get("message_contains", []):
        assert fragment in failure, failure
    report = Validator().validate_parsed(row.to_sdj())
    assert report.valid, "\n".join(report.lines())
