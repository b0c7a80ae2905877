"""PagerDuty v1 webhook ``/com.pagerduty/v1`` (enrich PagerdutyAdapter.scala).

The JSON body's ``messages`` array holds the events; every ``incident.*`` type maps to
``iglu:com.pagerduty/incident/jsonschema/1-0-0``. In each message (and nested objects) the string
``"null"`` becomes null, ``type`` loses its ``incident.`` prefix and ``created_on`` /
``last_status_change_on`` ending in `` 00:00`` get their lost ``+`` back.
"""

from __future__ import annotations

import re
from typing import Any, Final

from plowline.enrich.adapters.common import check_body, collect, lookup_schema, raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.pagerduty"
TRACKER: Final = "com.pagerduty-v1"
CONTENT_TYPE: Final = "application/json"
INCIDENT: Final = "iglu:com.pagerduty/incident/jsonschema/1-0-0"
SCHEMAS: Final = {
    f"incident.{name}": INCIDENT
    for name in ("trigger", "acknowledge", "unacknowledge", "resolve", "assign", "escalate",
                 "delegate")
}  # fmt: skip
_LOST_PLUS: Final = re.compile(r" 00:00$")


def format_datetime(value: str) -> str:
    """``2014-11-12T18:53:47 00:00`` -> ``2014-11-12T18:53:47+00:00``."""
    return _LOST_PLUS.sub("+00:00", value)


def reformat(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item == "null":
            out[key] = None
        elif key == "type" and isinstance(item, str):
            out[key] = item.replace("incident.", "")
        elif key in ("created_on", "last_status_change_on") and isinstance(item, str):
            out[key] = format_datetime(item)
        elif isinstance(item, dict):
            out[key] = reformat(item)
        else:
            out[key] = item
    return out


def pagerduty(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = check_body(payload, CONTENT_TYPE)
    if isinstance(body, AdapterFailure):
        return body
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    messages = parsed.get("messages") if isinstance(parsed, dict) else None
    if not isinstance(messages, list):
        return AdapterFailure([input_data("messages", body, "field `messages` is not an array")])
    query = to_map(pairs)
    results: list[RawEvent | dict[str, Any]] = []
    for index, message in enumerate(messages):
        kind = message.get("type") if isinstance(message, dict) else None
        schema = lookup_schema(kind if isinstance(kind, str) else None, SCHEMAS, index)
        if isinstance(schema, dict):
            results.append(schema)
            continue
        results.append(raw_event(payload, VENDOR, "v1", TRACKER, query, schema, reformat(message)))
    return collect(results)
