"""Mailgun webhook ``/com.mailgun/v1`` (enrich ``adapters/registry/MailgunAdapter.scala``).

Legacy webhooks POST a form (urlencoded or ``multipart/form-data``) holding ``event``,
``timestamp``, ``token`` and ``signature``; the fields are camel-cased (``X-Mailgun-Sid`` ->
``xMailgunSid``), ``body-plain`` is dropped, ``attachment-count`` becomes an integer, ``event``
is dropped and the epoch-second ``timestamp`` becomes a date-time. Webhooks v3 POST JSON
``{"signature": {...}, "event-data": {...}}``; enrich's blackbox ``MailgunAdapterSpec`` maps it
to the event data merged with the signature fields, camel-cased the same way.
Schemas: ``iglu:com.mailgun/<name>/jsonschema/1-0-0``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from plowline.enrich.adapters.common import (
    camelize,
    cleanup_json_event_values,
    lookup_schema,
    raw_event,
)
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.querystring import Pairs, QuerystringError, parse_querystring, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.mailgun"
TRACKER: Final = "com.mailgun-v1"
CONTENT_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
_JSON: Final = "application/json"
SCHEMAS: Final = {
    "bounced": "iglu:com.mailgun/message_bounced/jsonschema/1-0-0",
    "clicked": "iglu:com.mailgun/message_clicked/jsonschema/1-0-0",
    "complained": "iglu:com.mailgun/message_complained/jsonschema/1-0-0",
    "delivered": "iglu:com.mailgun/message_delivered/jsonschema/1-0-0",
    "dropped": "iglu:com.mailgun/message_dropped/jsonschema/1-0-0",
    "opened": "iglu:com.mailgun/message_opened/jsonschema/1-0-0",
    "unsubscribed": "iglu:com.mailgun/recipient_unsubscribed/jsonschema/1-0-0",
}
_BOUNDARY: Final = re.compile(r'multipart/form-data.*?boundary="?([\S ]{0,69}) *"?')
_DISPOSITION: Final = re.compile(
    r'Content-Disposition:\s*form-data\s*;[^\r\n]*?name="([^"]+)"[^\r\n]*(?=[\r\n]|\Z)'
)


def _multipart(body: str, boundary: str) -> dict[str, str]:
    """Rudimentary multipart/form-data fields: the part's last Content-Disposition name and
    the text after that header line, trimmed (enrich's ``parseMultipartForm``)."""
    fields: dict[str, str] = {}
    for part in body.split(f"--{boundary}"):
        matches = list(_DISPOSITION.finditer(part))
        if matches:
            last = matches[-1]
            fields[last.group(1)] = part[last.end() :].strip()
    return fields


def _form(body: str, content_type: str) -> dict[str, str]:
    boundary = _BOUNDARY.fullmatch(content_type)
    if boundary is not None:
        return _multipart(body, boundary.group(1))
    return {k: v for k, v in parse_querystring(body) if v is not None}


def _mutate(fields: dict[str, Any]) -> dict[str, Any]:
    camel: dict[str, Any] = camelize(fields)
    out = {k: v for k, v in camel.items() if k not in ("bodyPlain", "attachmentCount")}
    count = camel.get("attachmentCount")
    number = _as_int(count)
    if number is not None:
        out["attachmentCount"] = number
    return out


def _as_int(value: Any) -> int | None:
    """circe's ``as[Int]``: a 32-bit integer as a JSON number or numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if re.fullmatch(r"-?[0-9]+", value) is None:
            return None
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    return None


def mailgun(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if not body:
        return AdapterFailure([input_data("body", None, "empty body: no events to process")])
    content_type = payload.content_type
    accepted = ", ".join(CONTENT_TYPES)
    if content_type is None:
        return AdapterFailure(
            [input_data("contentType", None, f"no content type: expected one of {accepted}")]
        )
    if content_type.startswith(_JSON):
        return _json_event(payload, pairs, body, ctx.max_json_depth)
    if not content_type.startswith(CONTENT_TYPES):
        return AdapterFailure(
            [input_data("contentType", content_type, f"expected one of {accepted}")]
        )
    try:
        fields = _form(body, content_type)
    except QuerystringError as exc:
        return AdapterFailure([input_data("body", body, f"could not parse body: {exc}")])
    event_type = fields.get("event")
    if event_type is None:
        return AdapterFailure(
            [input_data("body", body, "no `event` parameter provided: cannot determine event type")]
        )
    schema = lookup_schema(event_type, SCHEMAS)
    if isinstance(schema, dict):
        return AdapterFailure([schema])
    for name in ("timestamp", "token", "signature"):
        if name not in fields:
            return AdapterFailure([input_data(name, None, f"missing '{name}'")])
    data = cleanup_json_event_values(_mutate(fields), ("event", event_type), ["timestamp"])
    return [raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), schema, data)]


def _json_event(
    payload: CollectorPayload, pairs: Pairs, body: str, max_depth: int
) -> list[RawEvent] | AdapterFailure:
    try:
        parsed = parse_json(body, max_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", body, str(exc))])
    if not isinstance(parsed, dict):
        return AdapterFailure([input_data("body", body, "body is not a json object")])
    event_data = parsed.get("event-data")
    signature = parsed.get("signature")
    if not isinstance(event_data, dict):
        return AdapterFailure(
            [input_data("event-data", body, "field `event-data` is not an object")]
        )
    if not isinstance(signature, dict):
        return AdapterFailure([input_data("signature", body, "field `signature` is not an object")])
    event = event_data.get("event")
    event_type = event if isinstance(event, str) else None
    schema = lookup_schema(event_type, SCHEMAS)
    if isinstance(schema, dict) or event_type is None:
        return AdapterFailure([schema if isinstance(schema, dict) else {}])
    for name in ("timestamp", "token", "signature"):
        if name not in signature:
            return AdapterFailure([input_data(name, None, f"missing '{name}'")])
    merged = {**event_data, **signature}
    data = cleanup_json_event_values(_mutate(merged), ("event", event_type), ["timestamp"])
    return [raw_event(payload, VENDOR, "v1", TRACKER, to_map(pairs), schema, data)]
