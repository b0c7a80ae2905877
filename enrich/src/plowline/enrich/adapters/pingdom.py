"""Pingdom alert webhook ``/com.pingdom/v1`` (enrich ``adapters/registry/PingdomAdapter.scala``).

A GET whose ``message`` querystring parameter is JSON; its ``action`` picks the schema
(``iglu:com.pingdom/incident_<action>/jsonschema/1-0-0``) and is removed. A value still wrapped as
a Python unicode repr (``(u'...',)``) fails the payload.
"""

from __future__ import annotations

import re
from typing import Any, Final

from plowline.enrich.adapters.common import lookup_schema, raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.pingdom"
TRACKER: Final = "com.pingdom-v1"
SCHEMAS: Final = {
    "assign": "iglu:com.pingdom/incident_assign/jsonschema/1-0-0",
    "notify_user": "iglu:com.pingdom/incident_notify_user/jsonschema/1-0-0",
    "notify_of_close": "iglu:com.pingdom/incident_notify_of_close/jsonschema/1-0-0",
}
_PYTHON_REPR: Final = re.compile(r"\(u'(.+)',\)")


def pingdom(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    if not pairs:
        return AdapterFailure(
            [input_data("querystring", None, "empty querystring: no events to process")]
        )
    failures: list[dict[str, Any]] = []
    for name, value in pairs:
        wrapped = None if value is None else _PYTHON_REPR.fullmatch(value)
        if wrapped is not None:
            failures.append(
                input_data(name, wrapped.group(1), f"should not pass regex {_PYTHON_REPR.pattern}")
            )
    if failures:
        return AdapterFailure(failures)
    params = dict(pairs)
    message = params.get("message")
    if message is None:
        shown = "&".join(f"{k}={'null' if v is None else v}" for k, v in params.items())
        return AdapterFailure([input_data("querystring", shown, "no `message` parameter provided")])
    try:
        parsed = parse_json(message, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("message", message, str(exc))])
    action = parsed.get("action") if isinstance(parsed, dict) else None
    schema = lookup_schema(action if isinstance(action, str) else None, SCHEMAS)
    if isinstance(schema, dict):
        return AdapterFailure([schema])
    assert isinstance(parsed, dict)
    data = {k: v for k, v in parsed.items() if k != "action"}
    query = {k: v for k, v in params.items() if k != "message"}
    return [raw_event(payload, VENDOR, "v1", TRACKER, query, schema, data)]
