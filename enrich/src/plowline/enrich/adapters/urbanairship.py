"""Urban Airship Connect ``/com.urbanairship.connect/v1`` (enrich ``UrbanAirshipAdapter.scala``).

A JSON body (sent without a content type) holding one Connect event; its ``type`` picks the
schema (``iglu:com.urbanairship.connect/<TYPE>/jsonschema/1-0-0``) and the whole body is the
data. ``occurred`` becomes the true timestamp (``ttm``), ``id`` the event id and ``processed``
the collector timestamp.

Deviation: a value of ``occurred`` / ``processed`` that is not an ISO-8601 date-time makes
enrich throw; Plowline reports an ``adapter_failures`` message for it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from plowline.enrich.adapters.common import (
    check_body,
    circe_get_string,
    lookup_schema,
    parse_instant,
    raw_event,
)
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.urbanairship.connect"
TRACKER: Final = "com.urbanairship.connect-v1"
_TYPES: Final = (
    "CLOSE", "CUSTOM", "FIRST_OPEN", "IN_APP_MESSAGE_DISPLAY", "IN_APP_MESSAGE_EXPIRATION",
    "IN_APP_MESSAGE_RESOLUTION", "LOCATION", "OPEN", "PUSH_BODY", "REGION", "RICH_DELETE",
    "RICH_DELIVERY", "RICH_HEAD", "SEND", "TAG_CHANGE", "UNINSTALL",
)  # fmt: skip
SCHEMAS: Final = {name: f"iglu:{VENDOR}/{name}/jsonschema/1-0-0" for name in _TYPES}


def urbanairship(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    if payload.content_type is not None and payload.body is not None:
        return AdapterFailure(
            [input_data("contentType", payload.content_type, "expected no content type")]
        )
    body = check_body(payload, None)
    if isinstance(body, AdapterFailure):
        return body
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    failures: list[dict[str, Any]] = []
    values: dict[str, str] = {}
    for field in ("occurred", "id", "processed"):
        value, reason = circe_get_string(parsed, field)
        if value is None:
            failures.append(input_data(field, None, f"could not extract '{field}': {reason}"))
        else:
            values[field] = value
    event_type, _ = circe_get_string(parsed, "type")
    schema = lookup_schema(event_type, SCHEMAS)
    if isinstance(schema, dict):
        failures.append(schema)
    if failures or isinstance(schema, dict):
        return AdapterFailure(failures)
    occurred = parse_instant(values["occurred"])
    processed = parse_instant(values["processed"])
    for field, moment in (("occurred", occurred), ("processed", processed)):
        if moment is None:
            failures.append(input_data(field, values[field], "not an ISO-8601 date-time"))
    if occurred is None or processed is None:
        return AdapterFailure(failures)
    params = to_map(pairs) | {
        "ttm": str(int(occurred.timestamp() * 1000)), "eid": values["id"],
    }  # fmt: skip
    stamped = dataclasses.replace(payload, timestamp=int(processed.timestamp() * 1000))
    return [raw_event(stamped, VENDOR, "v1", TRACKER, params, schema, parsed)]
