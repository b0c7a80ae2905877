"""StatusGator webhook ``/com.statusgator/v1``: a form POST -> ``status_change`` event."""

from __future__ import annotations

import re
from typing import Final

from plowline.enrich.adapters.webhook import media_type, parse_form, unstruct_event_params
from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.statusgator"
TRACKER: Final = "com.statusgator-v1"
SCHEMA: Final = "iglu:com.statusgator/status_change/jsonschema/1-0-0"
_FORM: Final = "application/x-www-form-urlencoded"
_SNAKE: Final = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    """``service_name`` -> ``serviceName`` (the adapter's key convention)."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def statusgator(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if body is None or not body.strip():
        return AdapterFailure([input_data("body", body, "empty body: no events to process")])
    if payload.content_type is None:
        return AdapterFailure(
            [input_data("contentType", None, f"no content type: expected {_FORM}")]
        )
    if media_type(payload.content_type) != _FORM:
        return AdapterFailure(
            [input_data("contentType", payload.content_type, f"expected {_FORM}")]
        )
    form = parse_form(body)
    if not form:
        return AdapterFailure([input_data("body", body, "no form fields in body")])
    data = {camel_case(key): value for key, value in form.items()}
    params = unstruct_event_params(TRACKER, to_map(pairs), SCHEMA, data, "srv")
    return [RawEvent(VENDOR, "v1", params, payload.content_type, payload)]
