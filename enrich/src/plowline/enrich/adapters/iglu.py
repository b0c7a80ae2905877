"""The Iglu webhook ``/com.snowplowanalytics.iglu/v1`` (enrich adapters/AdapterRegistry.scala).

GET ``?schema=iglu:...&k=v``: the other parameters become the event's data. POST with a JSON
body: the body is the data when ``schema`` is in the querystring, else the body must be a
self-describing JSON itself. POST with a form body: the form fields are the data.
"""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.adapters.webhook import media_type, parse_form, unstruct_event_params
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_iglu, not_json
from plowline.enrich.validation import parse_iglu_uri, sdj_error
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.snowplowanalytics.iglu"
TRACKER: Final = "com.snowplowanalytics.iglu-v1"
PLATFORM: Final = "app"
_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"


def iglu_webhook(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    query = to_map(pairs)
    schema = query.get("schema")
    body = payload.body
    if schema is not None and parse_iglu_uri(schema) is None:
        return AdapterFailure([input_data("schema", schema, "not a valid Iglu schema URI")])
    if body is None:
        if schema is None:
            return AdapterFailure(
                [input_data("schema", None, "empty querystring: no schema parameter and no body")]
            )
        data: Any = {k: v for k, v in query.items() if k != "schema"}
        return [_event(payload, query, schema, data)]
    kind = media_type(payload.content_type)
    if kind == _FORM:
        if schema is None:
            return AdapterFailure(
                [input_data("schema", None, "a form body needs a schema querystring parameter")]
            )
        return [_event(payload, query, schema, parse_form(body))]
    if kind != _JSON:
        return AdapterFailure(
            [input_data("contentType", payload.content_type, f"expected one of {_JSON}, {_FORM}")]
        )
    try:
        parsed = parse_json(body, ctx.max_json_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    if schema is not None:
        return [_event(payload, query, schema, parsed)]
    code = sdj_error(parsed)
    if code is not None:
        return AdapterFailure([not_iglu(parsed, code)])
    return [_event(payload, query, parsed["schema"], parsed["data"])]


def _event(
    payload: CollectorPayload, query: dict[str, str | None], schema: str, data: Any
) -> RawEvent:
    params = unstruct_event_params(TRACKER, query, schema, data, PLATFORM)
    return RawEvent(VENDOR, "v1", params, payload.content_type, payload)
