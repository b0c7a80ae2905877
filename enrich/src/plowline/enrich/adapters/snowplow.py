"""Tracker protocol v1 (GET /i) and v2 (GET or POST payload_data) adapters (spec/protocol)."""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.enrich.validation import Criterion, check_sdj, parse_sdj_text
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.snowplowanalytics.snowplow"
CONTENT_TYPES: Final = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=UTF-8",
)
_CONTENT_TYPES_TEXT: Final = "expected one of " + ", ".join(CONTENT_TYPES)
_NOT_AN_EVENT: Final = "not a valid tracker protocol event"
PAYLOAD_DATA: Final = Criterion("iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*")


def tp1(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    """One event per GET; only the querystring counts."""
    params = to_map(pairs)
    if not params:
        return AdapterFailure(
            [
                input_data(
                    "querystring", None, "empty querystring: not a valid tracker protocol event"
                )
            ]
        )
    return [RawEvent(VENDOR, "tp1", params, payload.content_type, payload)]


def tp2(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    """GET: one event from the querystring. POST: payload_data events, querystring merged in."""
    params = to_map(pairs)
    body, content_type = payload.body, payload.content_type
    if body is None:
        if not params:
            return AdapterFailure([
                input_data("body", None, "empty body: " + _NOT_AN_EVENT),
                input_data("querystring", None, "empty querystring: " + _NOT_AN_EVENT),
            ])  # fmt: skip
        if content_type is not None and content_type not in CONTENT_TYPES:
            return AdapterFailure([input_data("contentType", content_type, _CONTENT_TYPES_TEXT)])
        return [RawEvent(VENDOR, "tp2", params, content_type, payload)]
    if content_type is None or content_type not in CONTENT_TYPES:
        return AdapterFailure([input_data("contentType", content_type, _CONTENT_TYPES_TEXT)])
    sdj, failure = parse_sdj_text("body", body, ctx.max_json_depth)
    if failure is not None:
        return AdapterFailure([failure])
    assert sdj is not None
    failure = check_sdj(ctx.validator, sdj, PAYLOAD_DATA)
    if failure is not None:
        return AdapterFailure([failure])
    items = sdj["data"]
    if not isinstance(items, list) or not items:
        return AdapterFailure([input_data("data", None, "expected a non-empty array of events")])
    events: list[RawEvent] = []
    messages: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            messages.append(input_data("data", None, "expected an object of string parameters"))
            continue
        event_params: dict[str, str | None] = {}
        for key, value in item.items():
            if isinstance(value, str):
                event_params[key] = value
            elif value is None:
                messages.append(input_data(key, None, "value cannot be null"))
            else:
                messages.append(input_data(key, str(value), "value is not a string"))
        event_params.update(params)  # querystring wins on a key clash
        events.append(RawEvent(VENDOR, "tp2", event_params, content_type, payload))
    if messages:
        return AdapterFailure(messages)
    return events
