"""Bad rows: self-describing JSON of the snowplow-badrows types an enricher emits.

Values are cut to the ``maxLength`` of their bad-row schema so every row validates against it;
the original body is never cut (its schema has no limit).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from plowline.enrich.conversions import format_tstamp, is_uuid
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.jsonutil import compact
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "iglu:com.snowplowanalytics.snowplow.badrows"
SCHEMAS: Final[dict[str, str]] = {
    "size_violation": f"{VENDOR}/size_violation/jsonschema/1-0-0",
    "collector_payload_format_violation": (
        f"{VENDOR}/collector_payload_format_violation/jsonschema/1-0-0"
    ),
    "adapter_failures": f"{VENDOR}/adapter_failures/jsonschema/1-0-0",
    "tracker_protocol_violations": f"{VENDOR}/tracker_protocol_violations/jsonschema/1-0-1",
    "schema_violations": f"{VENDOR}/schema_violations/jsonschema/2-0-1",
    "enrichment_failures": f"{VENDOR}/enrichment_failures/jsonschema/2-0-1",
    "generic_error": f"{VENDOR}/generic_error/jsonschema/1-0-0",
}


@dataclass(frozen=True, slots=True)
class Processor:
    artifact: str
    version: str

    def to_json(self) -> dict[str, str]:
        return {"artifact": self.artifact[:512], "version": self.version[:32]}


@dataclass(frozen=True, slots=True)
class BadRow:
    """One failed event: ``kind`` names the bad-row type, ``data`` is the SDJ's data."""

    kind: str
    data: dict[str, Any]

    @property
    def schema(self) -> str:
        return SCHEMAS[self.kind]

    def to_sdj(self) -> dict[str, Any]:
        return {"schema": self.schema, "data": self.data}

    def to_json(self) -> str:
        return compact(self.to_sdj())


def iso_now(ms: int) -> str:
    """An ISO-8601 instant with milliseconds and ``Z``."""
    return format_tstamp(ms).replace(" ", "T") + "Z"


def cut(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _pairs(pairs: Sequence[tuple[str, str | None]]) -> list[dict[str, str | None]]:
    return [{"name": n[:512], "value": cut(v, 512)} for n, v in pairs]


def collector_payload_json(
    payload: CollectorPayload,
    vendor: str,
    version: str,
    pairs: Sequence[tuple[str, str | None]],
) -> dict[str, Any]:
    """The ``CollectorPayload`` payload shape (adapter_failures, tracker_protocol_violations)."""
    return {
        "vendor": vendor[:64],
        "version": version[:16],
        "querystring": _pairs(pairs),
        "contentType": cut(payload.content_type, 256),
        "body": payload.body,
        "collector": payload.collector[:32],
        "encoding": payload.encoding[:32],
        "hostname": cut(payload.hostname, 8192),
        "timestamp": _iso_or_none(payload.timestamp),
        "ipAddress": cut(payload.ip_address, 128),
        "useragent": cut(payload.user_agent, 4096),
        "refererUri": cut(payload.referer_uri, 8192),
        "headers": [h[:8192] for h in payload.headers or []],
        "networkUserId": _uuid_or_none(payload.network_user_id),
    }


def raw_event_json(
    payload: CollectorPayload,
    vendor: str,
    version: str,
    parameters: dict[str, str | None],
    content_type: str | None,
) -> dict[str, Any]:
    """The ``raw`` half of an EnrichmentPayload (schema_violations, enrichment_failures)."""
    return {
        "vendor": vendor[:64],
        "version": version[:16],
        "parameters": _pairs(list(parameters.items())),
        "contentType": cut(content_type, 256),
        "loaderName": "thrift",
        "encoding": payload.encoding[:32],
        "hostname": cut(payload.hostname, 8192),
        "timestamp": _iso_or_none(payload.timestamp),
        "ipAddress": cut(payload.ip_address, 128),
        "useragent": cut(payload.user_agent, 4096),
        "refererUri": cut(payload.referer_uri, 8192),
        "headers": [h[:8192] for h in payload.headers or []],
        "userId": _uuid_or_none(payload.network_user_id),
    }


def _iso_or_none(ms: int) -> str | None:
    try:
        return iso_now(ms)
    except ValueError:
        return None


def _uuid_or_none(value: str | None) -> str | None:
    return value if value is not None and is_uuid(value) else None


def _envelope(processor: Processor, failure: dict[str, Any], payload: Any) -> dict[str, Any]:
    return {"processor": processor.to_json(), "failure": failure, "payload": payload}


def format_violation(
    processor: Processor, now_ms: int, raw: bytes, message: dict[str, Any]
) -> BadRow:
    """collector_payload_format_violation: the payload is the base64 of the raw record."""
    failure = {"timestamp": iso_now(now_ms), "loader": "thrift", "message": _cut_cpfv(message)}
    payload = base64.b64encode(raw).decode("ascii")
    return BadRow("collector_payload_format_violation", _envelope(processor, failure, payload))


def _cut_cpfv(message: dict[str, Any]) -> dict[str, Any]:
    if "error" in message:
        return {"error": str(message["error"])[:512]}
    return {
        "payloadField": str(message["payloadField"])[:64],
        "value": message.get("value"),
        "expectation": str(message["expectation"])[:256],
    }


def size_violation(
    processor: Processor, now_ms: int, maximum: int, actual: int, truncated: str, expectation: str
) -> BadRow:
    failure = {
        "timestamp": iso_now(now_ms),
        "maximumAllowedSizeBytes": maximum,
        "actualSizeBytes": min(actual, 1073741824),
        "expectation": expectation[:256],
    }
    return BadRow("size_violation", _envelope(processor, failure, truncated))


def generic_error(processor: Processor, now_ms: int, errors: list[str], payload: str) -> BadRow:
    failure = {"timestamp": iso_now(now_ms), "errors": errors or ["unknown error"]}
    return BadRow("generic_error", _envelope(processor, failure, payload))


def adapter_message(message: dict[str, Any]) -> dict[str, Any]:
    """Apply the schema limits to one adapter / tracker-protocol message."""
    out = dict(message)
    if "field" in out:
        out["field"] = str(out["field"])[:64]
    if "expectation" in out:
        out["expectation"] = str(out["expectation"])[:256]
    if "actual" in out:
        out["actual"] = cut(out["actual"], 256)
    return out


def adapter_failure(
    kind: str,
    processor: Processor,
    now_ms: int,
    payload: CollectorPayload,
    vendor: str,
    version: str,
    pairs: Sequence[tuple[str, str | None]],
    messages: list[dict[str, Any]],
) -> BadRow:
    """adapter_failures or tracker_protocol_violations (same failure and payload shapes)."""
    if kind == "adapter_failures":
        # adapter_failures 1-0-0 requires `value` in InputData and NotJson messages.
        messages = [{**m, "value": m.get("value")} if "field" in m else m for m in messages]
    failure = {
        "timestamp": iso_now(now_ms),
        "vendor": vendor[:64],
        "version": version[:16],
        "messages": [adapter_message(m) for m in messages],
    }
    body = collector_payload_json(payload, vendor, version, pairs)
    return BadRow(kind, _envelope(processor, failure, body))


def enrichment_payload(event: EnrichedEvent, raw: dict[str, Any]) -> dict[str, Any]:
    return {"enriched": event.partially_enriched(), "raw": raw}


def schema_violations(
    processor: Processor,
    now_ms: int,
    messages: list[dict[str, Any]],
    event: EnrichedEvent,
    raw: dict[str, Any],
) -> BadRow:
    failure = {"timestamp": iso_now(now_ms), "messages": [adapter_message(m) for m in messages]}
    return BadRow(
        "schema_violations", _envelope(processor, failure, enrichment_payload(event, raw))
    )


def enrichment_failures(
    processor: Processor,
    now_ms: int,
    messages: list[dict[str, Any]],
    event: EnrichedEvent,
    raw: dict[str, Any],
) -> BadRow:
    failure = {"timestamp": iso_now(now_ms), "messages": [_cut_enrichment(m) for m in messages]}
    return BadRow(
        "enrichment_failures", _envelope(processor, failure, enrichment_payload(event, raw))
    )


def _cut_enrichment(message: dict[str, Any]) -> dict[str, Any]:
    inner = message["message"]
    if isinstance(inner, str):
        inner = {"error": inner[:512]}
    elif "error" in inner and isinstance(inner["error"], str):
        inner = {"error": inner["error"][:512]}
    else:
        inner = adapter_message(inner)
    enrichment = message.get("enrichment")
    if enrichment is not None:
        enrichment = {
            "schemaKey": enrichment["schemaKey"],
            "identifier": str(enrichment["identifier"])[:256],
        }
    return {"enrichment": enrichment, "message": inner}
