"""What adapters hand to the enrichment pipeline: one tracker-protocol event per RawEvent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plowline.spec.collector_payload import CollectorPayload


@dataclass(slots=True)
class RawEvent:
    """Tracker-protocol parameters of one event plus the request it came from."""

    vendor: str
    version: str
    parameters: dict[str, str | None]
    content_type: str | None
    payload: CollectorPayload


@dataclass(slots=True)
class AdapterFailure:
    """An adapter refused the payload; messages follow the bad-row message shapes (§4.2)."""

    messages: list[dict[str, Any]] = field(default_factory=list)


def input_data(field_name: str, value: str | None, expectation: str) -> dict[str, Any]:
    return {"field": field_name, "value": value, "expectation": expectation}


def not_json(field_name: str, value: str | None, error: str) -> dict[str, Any]:
    return {"field": field_name, "value": value, "error": error}


def not_iglu(json_value: Any, error: str) -> dict[str, Any]:
    return {"json": json_value, "error": error}


def criterion_mismatch(schema_key: str, criterion: str) -> dict[str, Any]:
    return {"schemaKey": schema_key, "schemaCriterion": criterion}


def iglu_error(schema_key: str, error: dict[str, Any]) -> dict[str, Any]:
    return {"schemaKey": schema_key, "error": error}
