"""Turning argument values into wire strings; every check here runs on the caller's thread."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from plowline.tracker.errors import InvalidEventError
from plowline.tracker.self_describing import (
    CONTEXTS_SCHEMA,
    UNSTRUCT_EVENT_SCHEMA,
    SelfDescribingJson,
)

Number = int | float | Decimal


def check_text(name: str, value: object, *, allow_empty: bool = False) -> str:
    """A string that UTF-8 can encode (no lone surrogates); empty only when allowed."""
    if not isinstance(value, str):
        raise InvalidEventError(f"{name} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise InvalidEventError(f"{name} must not be empty")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidEventError(f"{name} is not encodable as UTF-8: {error.reason}") from None
    return value


def optional_text(name: str, value: object) -> str | None:
    """``None`` stays ``None`` (the parameter is then not sent); anything else must be text."""
    return None if value is None else check_text(name, value, allow_empty=True)


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """An integer (bools are refused: ``True`` is not a count)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(f"{name} must be an integer, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidEventError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_number(name: str, value: object) -> Number:
    """A finite int, float or Decimal (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidEventError(f"{name} must be a number, got {type(value).__name__}")
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise InvalidEventError(f"{name} must be finite, got {value}")
    return value


def number_text(value: Number) -> str:
    """Shortest text that reads back as the same number: 10 -> "10", 10.0 -> "10", 0.1 -> "0.1".

    Integral floats drop ``.0`` so every Plowline tracker (JavaScript prints numbers this way)
    sends the same string for the same value.
    """
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def to_json(name: str, value: Any) -> str:
    """Compact JSON (no spaces, non-ASCII kept as is), refusing what JSON cannot carry."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as error:
        raise InvalidEventError(f"{name} is not JSON-serialisable: {error}") from None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidEventError(f"{name} is not encodable as UTF-8: {error.reason}") from None
    return text


def base64url(text: str) -> str:
    """RFC 4648 §5 URL-safe base64 of the UTF-8 bytes, ``=`` padding kept (enrich accepts both)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def json_param(
    payload: dict[str, str],
    value: dict[str, Any],
    *,
    encode_base64: bool,
    plain: str,
    encoded: str,
    what: str,
) -> None:
    """Add ``value`` as JSON under ``plain`` (e.g. co) or as base64url under ``encoded`` (cx)."""
    text = to_json(what, value)
    if encode_base64:
        payload[encoded] = base64url(text)
    else:
        payload[plain] = text


def add_contexts(
    payload: dict[str, str], contexts: Sequence[SelfDescribingJson], *, encode_base64: bool
) -> None:
    """Wrap entities in ``contexts/1-0-1`` and add them as ``co`` or ``cx``; none -> nothing."""
    if not contexts:
        return
    wrapper = {"schema": CONTEXTS_SCHEMA, "data": [c.to_dict() for c in contexts]}
    json_param(
        payload, wrapper, encode_base64=encode_base64, plain="co", encoded="cx", what="contexts"
    )


def add_unstruct_event(
    payload: dict[str, str], event: SelfDescribingJson, *, encode_base64: bool
) -> None:
    """Wrap the event SDJ in ``unstruct_event/1-0-0`` and add it as ``ue_pr`` or ``ue_px``."""
    wrapper = {"schema": UNSTRUCT_EVENT_SCHEMA, "data": event.to_dict()}
    json_param(
        payload, wrapper, encode_base64=encode_base64, plain="ue_pr", encoded="ue_px", what="event"
    )
