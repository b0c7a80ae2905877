"""CallRail post-call webhook ``/com.callrail/v1`` (enrich CallrailAdapter.scala).

A GET whose querystring is the call: every parameter but ``nuid``, ``aid``, ``cv`` and ``p``
goes into ``iglu:com.callrail/call_complete/jsonschema/1-0-2``, with ``first_call`` and
``answered`` as booleans, ``duration`` as an integer, ``datetime`` (``yyyy-MM-dd HH:mm:ss``, UTC)
as a date-time and empty values as null (enrich ``JsonUtils.toJson``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from plowline.enrich.adapters.common import data_params, raw_event, reformat_datetime
from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.callrail"
TRACKER: Final = "com.callrail-v1"
SCHEMA: Final = "iglu:com.callrail/call_complete/jsonschema/1-0-2"
BOOLS: Final = ("first_call", "answered")
INTS: Final = ("duration",)
DATE_TIMES: Final = ("datetime",)


def to_json_value(key: str, value: str | None) -> Any:
    if value is None or value == "":
        return None
    if key in BOOLS:
        return {"true": True, "false": False}.get(value, value)
    if key in INTS:
        return int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else value
    if key in DATE_TIMES:
        return reformat_datetime(value, "%Y-%m-%d %H:%M:%S")
    return value


def format_params(params: Mapping[str, str | None]) -> dict[str, Any]:
    return {k: to_json_value(k, v) for k, v in data_params(params).items()}


def callrail(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    params = to_map(pairs)
    if not params:
        return AdapterFailure([input_data("querystring", None, "empty querystring")])
    return [raw_event(payload, VENDOR, "v1", TRACKER, params, SCHEMA, format_params(params))]
