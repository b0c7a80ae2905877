"""Olark webhook ``/com.olark/v1`` (enrich ``adapters/registry/OlarkAdapter.scala``).

The form field ``data`` holds the chat as JSON: with ``operators`` it is a ``transcript``, else
an ``offline_message`` (``iglu:com.olark/<name>/jsonschema/1-0-0``). The ``items[].timestamp``
strings (``seconds.fraction``) become date-times and every key is camel-cased.

Deviation: when the form does not parse, enrich names the whole body as the failure's field;
Plowline names it ``body`` (the bad-row schema bounds ``field`` to 64 characters).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

from plowline.enrich.adapters.common import camelize, iso_millis, lookup_schema, raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, QuerystringError, parse_querystring, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.olark"
TRACKER: Final = "com.olark-v1"
CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
SCHEMAS: Final = {
    "transcript": "iglu:com.olark/transcript/jsonschema/1-0-0",
    "offline_message": "iglu:com.olark/offline_message/jsonschema/1-0-0",
}


def _millis(value: str) -> int | dict[str, Any]:
    parts = value.split(".")
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()  # Java's split drops trailing empty strings
    if len(parts) == 1:
        digits = f"{parts[0]}000"
    elif len(parts) == 2:
        digits = f"{parts[0]}{parts[1][:3].ljust(3, '0')}"
    else:
        return input_data("timestamp", value, "unexpected timestamp format")
    if re.fullmatch(r"[+-]?[0-9]+", digits) is None or not -(2**63) <= int(digits) < 2**63:
        return input_data("timestamp", digits, "cannot be converted to Double")
    return int(digits)


def _transform_timestamps(event: Any) -> Any:
    """``items[].timestamp`` -> date-time; the first bad one is a failure message (a dict in a
    list, to tell it from the event)."""
    if not isinstance(event, dict) or not isinstance(event.get("items"), list):
        return event
    items: list[Any] = []
    for item in event["items"]:
        if isinstance(item, dict) and isinstance(item.get("timestamp"), str):
            millis = _millis(item["timestamp"])
            if isinstance(millis, dict):
                return [millis]
            try:
                stamp = iso_millis(datetime.fromtimestamp(millis / 1000, UTC))
            except (OverflowError, OSError, ValueError):
                return [input_data("timestamp", item["timestamp"], "cannot be converted to Double")]
            item = {**item, "timestamp": stamp}
        items.append(item)
    return {**event, "items": items}


def olark(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if not body:
        return AdapterFailure([input_data("body", None, "empty body: no events to process")])
    if payload.content_type is None:
        return AdapterFailure(
            [input_data("contentType", None, f"no content type: expected {CONTENT_TYPE}")]
        )
    if payload.content_type != CONTENT_TYPE:
        return AdapterFailure([input_data("contentType", None, f"expected {CONTENT_TYPE}")])
    try:
        form = {k: v for k, v in parse_querystring(body) if v is not None}
    except QuerystringError as exc:
        return AdapterFailure([input_data("body", body, f"could not parse body: {exc}")])
    data = form.get("data")
    if not data:
        return AdapterFailure([input_data("data", None, "missing 'data' field")])
    try:
        event = parse_json(data, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("data", data, str(exc))])
    kind = "transcript" if isinstance(event, dict) and "operators" in event else "offline_message"
    schema = lookup_schema(kind, SCHEMAS)
    if isinstance(schema, dict):
        return AdapterFailure([schema])
    transformed = _transform_timestamps(event)
    if isinstance(transformed, list):
        return AdapterFailure(transformed)
    return [raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), schema, camelize(transformed))]
