"""Helpers the vendor webhook adapters share (enrich ``adapters/registry/Adapter.scala``).

Failure messages follow ``FailureDetails.AdapterFailure``: ``InputData`` (field, value,
expectation), ``NotJson`` (field, value, error) and ``SchemaMapping`` (actual,
expectedMapping, expectation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote_plus

from plowline.enrich.adapters.webhook import unstruct_event_params
from plowline.enrich.jsonutil import compact
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

# Parameters toUnstructEventParams leaves out of the event data (they describe the event).
NOT_DATA: Final = ("nuid", "aid", "cv", "p")
_SEPARATORS: Final = re.compile(r"[&;]")
_CAMEL: Final = re.compile(r"[_-](\w)")


def schema_mapping(
    actual: str | None, mapping: Mapping[str, str], expectation: str
) -> dict[str, Any]:
    return {"actual": actual, "expectedMapping": dict(mapping), "expectation": expectation}


def lookup_schema(
    event_type: str | None, mapping: Mapping[str, str], index: int | None = None
) -> str | dict[str, Any]:
    """The schema for ``event_type``, or a SchemaMapping message (``Adapter.lookupSchema``)."""
    at = "" if index is None else f" at index {index}"
    if event_type is None:
        return schema_mapping(
            None, mapping, f"cannot determine event type: type parameter not provided{at}"
        )
    if event_type in mapping:
        return mapping[event_type]
    if event_type == "":
        return schema_mapping("", mapping, f"cannot determine event type: type parameter empty{at}")
    return schema_mapping(
        event_type, mapping, f"no schema associated with the provided type parameter{at}"
    )


def check_body(
    payload: CollectorPayload, content_type: str | None, *, contains: bool = False
) -> str | AdapterFailure:
    """The body, or the failure for a missing body or an unexpected content type.

    ``content_type`` None: any content type. ``contains``: the header need only contain it
    (SendGrid, Mailgun); otherwise it must be equal (the collector lower-cases the header).
    """
    body = payload.body
    if body is None or body == "":
        return AdapterFailure([input_data("body", None, "empty body: no events to process")])
    if content_type is None:
        return body
    actual = payload.content_type
    if actual is None:
        return AdapterFailure(
            [input_data("contentType", None, f"no content type: expected {content_type}")]
        )
    if (content_type not in actual) if contains else (actual != content_type):
        return AdapterFailure([input_data("contentType", actual, f"expected {content_type}")])
    return body


def parse_form(body: str) -> dict[str, str | None]:
    """A form body as Apache ``URLEncodedUtils.parse`` reads it: ``&`` and ``;`` separate,
    a name without ``=`` has no value, the last value wins."""
    form: dict[str, str | None] = {}
    for token in _SEPARATORS.split(body):
        if not token:
            continue
        name, equals, value = token.partition("=")
        key = unquote_plus(name, errors="replace")
        if not key:
            continue
        form[key] = unquote_plus(value, errors="replace") if equals else None
    return form


def data_params(params: Mapping[str, str | None]) -> dict[str, str | None]:
    return {k: v for k, v in params.items() if k not in NOT_DATA}


def raw_event(
    payload: CollectorPayload,
    vendor: str,
    version: str,
    tracker: str,
    params: Mapping[str, str | None],
    schema: str,
    data: Any,
    platform: str = "srv",
) -> RawEvent:
    """One ``e=ue`` event; ``params`` supplies ``p`` and the accepted querystring parameters."""
    event = unstruct_event_params(tracker, dict(params), schema, data, platform)
    return RawEvent(vendor, version, event, payload.content_type, payload)


def collect(results: Sequence[RawEvent | dict[str, Any]]) -> list[RawEvent] | AdapterFailure:
    """Every event, or every failure when any item failed (``rawEventsListProcessor``)."""
    failures = [r for r in results if isinstance(r, dict)]
    if failures:
        return AdapterFailure(failures)
    events = [r for r in results if isinstance(r, RawEvent)]
    if not events:
        return AdapterFailure([input_data("", None, "empty list of events")])
    return events


def iso_millis(moment: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`` in UTC (Adapter.JsonSchemaDateTimeFormat)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def seconds_to_iso(seconds: int) -> str | None:
    try:
        return iso_millis(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _java_long(text: str) -> int | None:
    if re.fullmatch(r"[+-]?[0-9]+", text) is None:
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        number = _java_long(value)
        converted = None if number is None else seconds_to_iso(number)
        return value if converted is None else converted
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        converted = seconds_to_iso(int(value))
        return value if converted is None else converted
    return value


def cleanup_json_event_values(
    value: Any, event: tuple[str, str] | None, timestamp_keys: Sequence[str]
) -> Any:
    """Epoch-second timestamps under ``timestamp_keys`` become date-times and the event-type
    field is dropped, at every depth (``Adapter.cleanupJsonEventValues``)."""
    if isinstance(value, list):
        return [cleanup_json_event_values(v, event, timestamp_keys) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if event is not None and key == event[0] and item == event[1]:
            continue
        if key in timestamp_keys:
            out[key] = _timestamp(item)
        elif isinstance(item, (dict, list)):
            out[key] = cleanup_json_event_values(item, event, timestamp_keys)
        else:
            out[key] = item
    return out


def camel_case(name: str) -> str:
    """``X-Mailgun-Sid`` / ``x_mailgun_sid`` -> ``xMailgunSid`` (``Adapter.camelCase``)."""
    if not name:
        return name
    return _CAMEL.sub(lambda m: m.group(1).upper(), name[0].lower() + name[1:])


def camelize(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel_case(k): camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def reformat_datetime(value: str, pattern: str) -> str:
    """``value`` read with ``pattern`` (strptime, UTC) as a JSON Schema date-time; unchanged when
    it does not parse (``JsonUtils.toJsonSchemaDateTime``)."""
    try:
        moment = datetime.strptime(value, pattern).replace(tzinfo=UTC)
    except ValueError:
        return value
    return iso_millis(moment)


def circe_get_string(value: Any, field: str) -> tuple[str | None, str]:
    """``cursor.get[String](field)``: the string, or None and circe's failure message."""
    item = value.get(field) if isinstance(value, dict) else None
    if isinstance(item, str):
        return item, ""
    if not (isinstance(value, dict) and field in value):
        return None, f"Attempt to decode value on failed cursor: DownField({field})"
    return (
        None,
        f"Got value '{compact(item)}' with wrong type, expecting string: DownField({field})",
    )


def parse_instant(text: str) -> datetime | None:
    """An ISO-8601 date-time (UTC when it has no offset), as Joda's ``new DateTime(text)``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
