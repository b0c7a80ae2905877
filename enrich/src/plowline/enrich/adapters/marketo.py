"""Marketo webhook ``/com.marketo/v1`` (enrich ``adapters/registry/MarketoAdapter.scala``).

The JSON object a Marketo webhook template produces becomes one
``iglu:com.marketo/event/jsonschema/2-0-0`` event; its date fields (``yyyy-MM-dd HH:mm:ss``,
UTC) become date-times at any depth.
"""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.adapters.common import raw_event, reformat_datetime
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.marketo"
TRACKER: Final = "com.marketo-v1"
SCHEMA: Final = "iglu:com.marketo/event/jsonschema/2-0-0"
DATE_FIELDS: Final = frozenset({
    "acquisition_date", "created_at", "email_suspended_at", "last_referred_enrollment",
    "last_referred_visit", "updated_at", "datetime", "last_interesting_moment_date",
})  # fmt: skip


def reformat(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in DATE_FIELDS:
            out[key] = (
                reformat_datetime(item, "%Y-%m-%d %H:%M:%S") if isinstance(item, str) else item
            )
        elif isinstance(item, dict):
            out[key] = reformat(item)
        else:
            out[key] = item
    return out


def marketo(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if body is None:
        return AdapterFailure([input_data("body", None, "empty body: no events to process")])
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    if not isinstance(parsed, dict):
        return AdapterFailure([input_data("body", body, "not a json object")])
    return [raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), SCHEMA, reformat(parsed))]
