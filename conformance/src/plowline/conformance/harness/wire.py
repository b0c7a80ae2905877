"""Recorded HTTP requests decoded into tracker-protocol events (parameter maps).

GET ``/i`` carries one event in the querystring; POST ``tp2`` carries a ``payload_data``
self-describing JSON whose ``data`` is a list of events. JSON-valued parameters (``co``,
``ue_pr``, and the base64url ``cx``, ``ue_px``) are decoded so cases compare meaning, not
bytes. Anything undecodable becomes a problem string, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from plowline.conformance.harness.collector import RecordedRequest

PAYLOAD_DATA_PREFIX: Final = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/"
JSON_PARAMS: Final = {"co": False, "ue_pr": False, "cx": True, "ue_px": True}


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One event as sent: its parameters, the request it came in, whether that was accepted."""

    params: dict[str, str]
    request: int
    accepted: bool


@dataclass(slots=True)
class DecodedRequest:
    request: RecordedRequest
    events: list[WireEvent] = field(default_factory=list)
    payload_schema: str | None = None
    problems: list[str] = field(default_factory=list)


def _decode_base64url(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def decode_json_param(name: str, value: str) -> Any:
    """The JSON meaning of ``co``/``ue_pr`` (plain) or ``cx``/``ue_px`` (base64url)."""
    if JSON_PARAMS[name]:
        try:
            value = _decode_base64url(value).decode("utf-8")
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"{name} is not base64url UTF-8: {error}") from None
    try:
        return json.loads(value)
    except ValueError as error:
        raise ValueError(f"{name} is not JSON: {error}") from None


def decode_request(request: RecordedRequest) -> DecodedRequest:
    out = DecodedRequest(request)
    if not request.known_path:
        out.problems.append(
            f"request {request.index} to unknown path {request.method} {request.path}"
        )
        return out
    if request.method == "GET":
        try:
            pairs = parse_qsl(
                request.query, keep_blank_values=True, strict_parsing=False, errors="strict"
            )
        except (UnicodeDecodeError, ValueError) as error:
            out.problems.append(f"request {request.index}: unreadable querystring: {error}")
            return out
        out.events.append(WireEvent(dict(pairs), request.index, request.accepted))
        return out
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        out.problems.append(f"request {request.index}: body is not UTF-8 JSON: {error}")
        return out
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        out.problems.append(f"request {request.index}: body is not a payload_data document")
        return out
    schema = body.get("schema")
    out.payload_schema = schema if isinstance(schema, str) else None
    for position, item in enumerate(body["data"]):
        if not isinstance(item, dict):
            out.problems.append(f"request {request.index}: data[{position}] is not an object")
            continue
        params: dict[str, str] = {}
        for key, value in item.items():
            if not isinstance(value, str):
                out.problems.append(
                    f"request {request.index}: data[{position}].{key} is not a string: {value!r}"
                )
                value = json.dumps(value)
            params[key] = value
        out.events.append(WireEvent(params, request.index, request.accepted))
    return out


def decode_all(requests: list[RecordedRequest]) -> list[DecodedRequest]:
    return [decode_request(r) for r in requests]
