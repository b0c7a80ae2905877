"""HubSpot webhooks ``/com.hubspot/v1`` (enrich ``adapters/registry/HubSpotAdapter.scala``).

The JSON body is an array of subscription events; ``subscriptionType`` picks the schema
(``iglu:com.hubspot/<object>_<change>/jsonschema/1-0-0``) and is removed, and the epoch-millisecond
``occurredAt`` becomes a date-time.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any, Final

from plowline.enrich.adapters.common import collect, iso_millis, lookup_schema, raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.hubspot"
TRACKER: Final = "com.hubspot-v1"
CONTENT_TYPE: Final = "application/json"
SCHEMAS: Final = {
    f"{obj}.{change}": f"iglu:com.hubspot/{obj}_{name}/jsonschema/1-0-0"
    for obj in ("contact", "company", "deal")
    for change, name in (("creation", "creation"), ("deletion", "deletion"),
                         ("propertyChange", "change"))
}  # fmt: skip


def _as_long(value: Any) -> int | None:
    """circe's ``as[Long]`` (a whole JSON number, or a string holding one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = int(value) if re.fullmatch(r"-?[0-9]+", value) else None
    elif isinstance(value, float):
        value = int(value) if value.is_integer() else None
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None


def reformat(event: Any) -> Any:
    if not isinstance(event, dict):
        return event
    out = dict(event)
    millis = _as_long(out.get("occurredAt"))
    if millis is not None:
        with contextlib.suppress(OverflowError, OSError, ValueError):
            out["occurredAt"] = iso_millis(datetime.fromtimestamp(millis / 1000, UTC))
    out.pop("subscriptionType", None)
    return out


def hubspot(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if not body:
        # enrich's wording, typo included.
        return AdapterFailure([input_data("body", None, "empty body: not events to process")])
    if payload.content_type is None:
        return AdapterFailure(
            [input_data("contentType", None, f"no content type: expected {CONTENT_TYPE}")]
        )
    if payload.content_type != CONTENT_TYPE:
        return AdapterFailure(
            [input_data("contentType", payload.content_type, f"expected {CONTENT_TYPE}")]
        )
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    if not isinstance(parsed, list):
        return AdapterFailure([input_data("body", body, "not a json array")])
    query = to_map(pairs)
    results: list[RawEvent | dict[str, Any]] = []
    for index, event in enumerate(parsed):
        kind = event.get("subscriptionType") if isinstance(event, dict) else None
        schema = lookup_schema(kind if isinstance(kind, str) else None, SCHEMAS, index)
        if isinstance(schema, dict):
            results.append(schema)
            continue
        results.append(raw_event(payload, VENDOR, "v1", TRACKER, query, schema, reformat(event)))
    return collect(results)
