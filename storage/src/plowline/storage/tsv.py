"""Enriched TSV lines: split, check the field count, validate values against atomic.events.

`split` is the fast path every loader runs (decode + count). `validate` checks every value
against its column (type, range, length, NOT NULL); loaders run it when the database refused a
batch, to name the bad values, and the embedded store always runs it.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime

from plowline.storage import badrows
from plowline.storage.atomic import FIELD_COUNT, Field, fields
from plowline.storage.badrows import InvalidValue

INT32 = (-(2**31), 2**31 - 1)
_INT = re.compile(r"-?\d{1,10}")
_TSTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def split(raw: bytes) -> list[str] | bytes:
    """The 131 fields of a line, or a loader_parsing_error bad row (bytes)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return badrows.unhandled(raw, f"invalid UTF-8 at byte {exc.start}: {exc.reason}")
    if "\t" not in line:
        return badrows.not_tsv(line)
    parts = line.split("\t")
    if len(parts) != FIELD_COUNT:
        return badrows.field_count_mismatch(line, len(parts))
    return parts


def _check_int(v: str) -> str | None:
    if not _INT.fullmatch(v) or not INT32[0] <= int(v) <= INT32[1]:
        return "not a 32-bit integer"
    return None


def _check_float(v: str) -> str | None:
    try:
        f = float(v)
    except ValueError:
        return "not a number"
    return None if math.isfinite(f) else "not a finite number"


def _check_bool(v: str) -> str | None:
    return None if v in ("0", "1") else "not a boolean (1 or 0)"


def _check_tstamp(v: str) -> str | None:
    if not _TSTAMP.fullmatch(v):
        return "not a timestamp (yyyy-MM-dd HH:mm:ss.SSS)"
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return "not a valid date and time"
    return None


def _check_uuid(v: str) -> str | None:
    if not _UUID.fullmatch(v):
        return "not a UUID"
    uuid.UUID(v)
    return None


def _check_json(v: str) -> str | None:
    try:
        doc = json.loads(v)
    except ValueError as exc:
        return f"not JSON: {exc}"
    if not isinstance(doc, dict) or "schema" not in doc or "data" not in doc:
        return "not self-describing JSON"
    return None


_BY_TYPE: dict[str, Callable[[str], str | None]] = {
    "int": _check_int,
    "decimal": _check_float,
    "double": _check_float,
    "bool": _check_bool,
    "timestamp": _check_tstamp,
    "uuid": _check_uuid,
    "json": _check_json,
}


def _checker(f: Field) -> Callable[[str], str | None]:
    typed = _BY_TYPE.get(f.type)
    limit = f.limit

    def check(v: str) -> str | None:
        if "\x00" in v:
            return "holds a NUL character"
        if limit is not None and len(v) > limit:
            return f"longer than the column's {limit} characters ({len(v)})"
        return typed(v) if typed else None

    return check


_CHECKS: list[Callable[[str], str | None]] = []


def validate(parts: list[str]) -> list[InvalidValue]:
    """Every problem with the values of one split line (empty list: loadable)."""
    if not _CHECKS:
        _CHECKS.extend(_checker(f) for f in fields())
    errors: list[InvalidValue] = []
    for f, v, check in zip(fields(), parts, _CHECKS, strict=True):
        if not v:
            if not f.nullable:
                errors.append(InvalidValue(f.name, v, "required field is empty"))
            continue
        problem = check(v)
        if problem:
            errors.append(InvalidValue(f.name, v, problem))
    return errors


def parse(raw: bytes) -> list[str] | bytes:
    """split + validate: the fields of a loadable line, or its bad row."""
    parts = split(raw)
    if isinstance(parts, bytes):
        return parts
    errors = validate(parts)
    return badrows.invalid_values(raw, errors) if errors else parts
