"""Vero webhook ``/com.getvero/v1`` (enrich ``adapters/registry/VeroAdapter.scala``).

A JSON body whose ``type`` picks the schema (``iglu:com.getvero/<name>/jsonschema/1-0-0``); the
``type`` field is dropped, epoch-second ``<type>_at`` and ``triggered_at`` values become
date-times and ``_tags`` keys are renamed ``tags``.
"""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.adapters.common import (
    circe_get_string,
    cleanup_json_event_values,
    collect,
    lookup_schema,
    raw_event,
)
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.getvero"
TRACKER: Final = "com.getvero-v1"
SCHEMAS: Final = {
    "bounced": "iglu:com.getvero/bounced/jsonschema/1-0-0",
    "clicked": "iglu:com.getvero/clicked/jsonschema/1-0-0",
    "delivered": "iglu:com.getvero/delivered/jsonschema/1-0-0",
    "opened": "iglu:com.getvero/opened/jsonschema/1-0-0",
    "sent": "iglu:com.getvero/sent/jsonschema/1-0-0",
    "unsubscribed": "iglu:com.getvero/unsubscribed/jsonschema/1-0-0",
    "user_created": "iglu:com.getvero/created/jsonschema/1-0-0",
    "user_updated": "iglu:com.getvero/updated/jsonschema/1-0-0",
}


def rename_tags(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {("tags" if k == "_tags" else k): rename_tags(v) for k, v in value.items()}


def _type(parsed: Any) -> str | dict[str, Any]:
    """The ``type`` string, or circe's decoding failure as enrich reports it."""
    value, reason = circe_get_string(parsed, "type")
    if value is not None:
        return value
    return input_data("type", None, f"could not extract 'type': {reason}")


def vero(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if body is None:
        return AdapterFailure([input_data("body", None, "empty body: no events to process")])
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    event_type = _type(parsed)
    if isinstance(event_type, dict):
        return AdapterFailure([event_type])
    cleaned = cleanup_json_event_values(
        parsed, ("type", event_type), [f"{event_type}_at", "triggered_at"]
    )
    schema = lookup_schema(event_type, SCHEMAS)
    if isinstance(schema, dict):
        return AdapterFailure([schema])
    event = raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), schema, rename_tags(cleaned))
    return collect([event])
