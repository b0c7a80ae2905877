"""Mandrill webhook ``/com.mandrill/v1`` (enrich ``adapters/registry/MandrillAdapter.scala``).

The form body holds one field, ``mandrill_events``: a JSON array of events. Each event's
``event`` picks the schema (``iglu:com.mandrill/...``, versions as in enrich's default
``adaptersSchemas``); the field is dropped and epoch-second ``ts`` values become date-times.
"""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.adapters.common import (
    check_body,
    cleanup_json_event_values,
    collect,
    lookup_schema,
    parse_form,
    raw_event,
)
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.mandrill"
TRACKER: Final = "com.mandrill-v1"
CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
SCHEMAS: Final = {
    "hard_bounce": "iglu:com.mandrill/message_bounced/jsonschema/1-0-1",
    "click": "iglu:com.mandrill/message_clicked/jsonschema/1-0-1",
    "deferral": "iglu:com.mandrill/message_delayed/jsonschema/1-0-1",
    "spam": "iglu:com.mandrill/message_marked_as_spam/jsonschema/1-0-1",
    "open": "iglu:com.mandrill/message_opened/jsonschema/1-0-1",
    "reject": "iglu:com.mandrill/message_rejected/jsonschema/1-0-0",
    "send": "iglu:com.mandrill/message_sent/jsonschema/1-0-0",
    "soft_bounce": "iglu:com.mandrill/message_soft_bounced/jsonschema/1-0-1",
    "unsub": "iglu:com.mandrill/recipient_unsubscribed/jsonschema/1-0-1",
}


def _events(body: str, max_depth: int) -> list[Any] | AdapterFailure:
    form = {k: v for k, v in parse_form(body).items() if v is not None}
    if len(form) != 1:
        return AdapterFailure(
            [input_data("body", body, f"body should have size 1: actual size {len(form)}")]
        )
    events = form.get("mandrill_events")
    if events is None:
        return AdapterFailure([input_data("body", body, "no `mandrill_events` parameter provided")])
    if events == "":
        return AdapterFailure([input_data("body", body, "`mandrill_events` field is empty")])
    try:
        parsed = parse_json(events, max_depth)
    except JsonError as exc:
        # enrich spells the field "mandril_events" in this message.
        return AdapterFailure([not_json("mandril_events", events, str(exc))])
    if not isinstance(parsed, list):
        return AdapterFailure([input_data("mandrill_events", events, "not a json array")])
    return parsed


def mandrill(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = check_body(payload, CONTENT_TYPE)
    if isinstance(body, AdapterFailure):
        return body
    events = _events(body, ctx.max_json_depth)
    if isinstance(events, AdapterFailure):
        return events
    query = to_map(pairs)
    results: list[RawEvent | dict[str, Any]] = []
    for index, item in enumerate(events):
        event = item.get("event") if isinstance(item, dict) else None
        event_type = event if isinstance(event, str) else None
        schema = lookup_schema(event_type, SCHEMAS, index)
        if isinstance(schema, dict) or event_type is None:
            results.append(schema if isinstance(schema, dict) else {})
            continue
        data = cleanup_json_event_values(item, ("event", event_type), ["ts"])
        results.append(raw_event(payload, VENDOR, "v1", TRACKER, query, schema, data))
    return collect(results)
