"""Unbounce webhook ``/com.unbounce/v1`` (enrich ``adapters/registry/UnbounceAdapter.scala``).

A form POST with ``page_id``, ``page_name``, ``variant``, ``page_url`` and ``data.json`` (the
submitted form as JSON) becomes ``iglu:com.unbounce/form_post/jsonschema/1-0-0``: the fields
camel-cased, ``data.json`` parsed (and camel-cased too), ``data.xml`` dropped.

Deviation: when the form does not parse, enrich names the whole body as the failure's field;
Plowline names it ``body`` (the bad-row schema bounds ``field`` to 64 characters).
"""

from __future__ import annotations

from typing import Final

from plowline.enrich.adapters.common import camelize, check_body, raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, QuerystringError, parse_querystring, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.unbounce"
TRACKER: Final = "com.unbounce-v1"
CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
SCHEMA: Final = "iglu:com.unbounce/form_post/jsonschema/1-0-0"
_REQUIRED: Final = ("page_id", "page_name", "variant", "page_url", "data.json")


def unbounce(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = check_body(payload, CONTENT_TYPE)
    if isinstance(body, AdapterFailure):
        return body
    try:
        form = {k: v for k, v in parse_querystring(body) if v is not None}
    except QuerystringError as exc:
        return AdapterFailure([input_data("body", body, f"could not parse body: {exc}")])
    for name in _REQUIRED:
        if name not in form:
            return AdapterFailure([input_data(name, None, f"missing '{name}' field in body")])
    data_json = form["data.json"]
    if not data_json:
        return AdapterFailure([input_data("data.json", None, "empty 'data.json' field in body")])
    try:
        parsed = parse_json(data_json, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("data.json", data_json, str(exc))])
    fields = {k: v for k, v in form.items() if k not in ("data.json", "data.xml")}
    data = camelize({"data.json": parsed, **fields})
    return [raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), SCHEMA, data)]
