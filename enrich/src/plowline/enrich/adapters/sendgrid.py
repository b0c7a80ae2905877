"""SendGrid Event Webhook ``/com.sendgrid/v3`` (enrich ``adapters/registry/SendgridAdapter.scala``).

The body is a JSON array of events; each event's ``event`` field picks the schema
(``iglu:com.sendgrid/<event>/jsonschema/3-0-0``, the enrich default ``adaptersSchemas``), the
field itself is dropped and epoch-second ``timestamp`` values become date-times.
"""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.adapters.common import (
    check_body,
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

VENDOR: Final = "com.sendgrid"
TRACKER: Final = "com.sendgrid-v3"
CONTENT_TYPE: Final = "application/json"
_EVENTS: Final = (
    "processed", "dropped", "delivered", "deferred", "bounce", "open", "click", "spamreport",
    "unsubscribe", "group_unsubscribe", "group_resubscribe",
)  # fmt: skip
SCHEMAS: Final = {name: f"iglu:com.sendgrid/{name}/jsonschema/3-0-0" for name in _EVENTS}


def sendgrid(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = check_body(payload, CONTENT_TYPE, contains=True)
    if isinstance(body, AdapterFailure):
        return body
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    if not isinstance(parsed, list):
        return AdapterFailure([input_data("body", body, "body is not a json array")])
    query = to_map(pairs)
    results: list[RawEvent | dict[str, Any]] = []
    for index, item in enumerate(parsed):
        event = item.get("event") if isinstance(item, dict) else None
        event_type = event if isinstance(event, str) else None
        schema = lookup_schema(event_type, SCHEMAS, index)
        if isinstance(schema, dict) or event_type is None:
            results.append(schema if isinstance(schema, dict) else {})
            continue
        data = cleanup_json_event_values(item, ("event", event_type), ["timestamp"])
        results.append(raw_event(payload, VENDOR, "v3", TRACKER, query, schema, data))
    return collect(results)
