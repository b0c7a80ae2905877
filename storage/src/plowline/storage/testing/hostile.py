"""Hypothesis strategies for hostile enriched lines: every column kind, escapes, NULs, limits,
duplicate keys, data before schema, bad JSON, huge numbers, broken lines. Used by the tests
that hold the native COPY-text encoder to the Python reference (unit: the texts; integration:
the rows real PostgreSQL stores). Needs hypothesis (a dev dependency)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st
from plowline.storage.schemas import DirectorySchemas, StaticSchemas
from plowline.storage.testing.events import CONTEXTS_URI, enriched_lines, with_fields

KINDS_URI = "iglu:com.acme/kinds/jsonschema/1-0-0"
KINDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "note": {"type": ["string", "null"]},
        "at": {"type": "string", "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
        "id": {"type": ["string", "null"], "format": "uuid"},
        "small": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000},
        "big": {"type": ["integer", "null"]},
        "ratio": {"type": ["number", "null"]},
        "flag": {"type": ["boolean", "null"]},
        "tags": {"type": ["array", "null"]},
        "size": {"enum": ["s", "m", "xl"]},
        "dims": {
            "type": "object",
            "properties": {"w": {"type": "number"}, "unit": {"type": "string"}},
        },
    },
    "required": ["name"],
}

BASE_LINES = list(enriched_lines(40, seed=11))

# One JSON Schema property per column kind the loaders make (text, varchar, integer...): an
# earlier version's layout for a table, so that values meet columns of any kind.
KIND_PROPERTIES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "varchar": {"type": "string", "maxLength": 5},
    "integer": {"type": "integer", "minimum": 0, "maximum": 1000},
    "bigint": {"type": "integer"},
    "double": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "uuid": {"type": "string", "format": "uuid"},
    "json": {"type": ["array", "object", "string", "null"]},
}


def kinds_schemas() -> StaticSchemas:
    """The bundled schemas plus the every-kind test schema."""
    return StaticSchemas({KINDS_URI: KINDS_SCHEMA}, fallback=DirectorySchemas())


def contexts_of(items: str) -> str:
    """A contexts document around already-serialised entity objects."""
    return f'{{"schema":"{CONTEXTS_URI}","data":[{items}]}}'


SCALARS = [
    "null",
    "true",
    "false",
    "0",
    "-0",
    "7",
    "-12",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "1234567890123456789012",
    "3.0",
    "1.5",
    "-0.0",
    "1e16",
    "1E2",
    "1e400",
    "NaN",
    "0.1",
    "2.5e-7",
    '""',
    '"x"',
    '"tab\\there"',
    '"new\\nline"',
    '"back\\\\slash"',
    '"cr\\r"',
    '"nul\\u0000"',
    '"caf\\u00e9"',
    '"\\ud800"',
    '"emoji \\ud83d\\ude00"',
    '"twelve chars"',
    '"thirteen char"',
    '"2026-11-27 10:00:00.000"',
    '"2026-11-27"',
    '"6e4fa6f2-0000-4000-8000-000000000000"',
    '"6E4FA6F2-0000-4000-8000-00000000000A"',
    '"{6e4fa6f2-0000-4000-8000-000000000000}"',
    '"2026-11-27T10:00:00.123456Z"',
    '"2026-11-27T10:00:00+02:00"',
    '"2026-02-30 00:00:00"',
    '"2024-02-29"',
    '"1999-12-31 23:59:59.9999999"',
    '"0001-01-01 00:00:00"',
    '"s"',
    '"xl"',
    '"quote\\"d"',
    '"\\u007f del"',
    '"\\u2028"',
]
VALUE = st.recursive(
    st.sampled_from(SCALARS),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda v: "[" + ",".join(v) + "]")
        | st.lists(st.tuples(st.sampled_from(["w", "unit", "a", ""]), inner), max_size=3).map(
            lambda kv: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in kv) + "}"
        )
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "name",
        "note",
        "at",
        "day",
        "id",
        "small",
        "big",
        "ratio",
        "flag",
        "tags",
        "size",
        "dims",
        "x",
    ]
)


@st.composite
def entity_json(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(KEYS, VALUE), max_size=8))
    data = "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"
    if draw(st.integers(0, 9)) == 0:
        data = draw(VALUE)  # not an object
    uri = draw(
        st.sampled_from(
            [KINDS_URI, KINDS_URI, "iglu:com.acme/missing/jsonschema/1-0-0", "iglu:bad", "nope"]
        )
    )
    parts = [f'"schema":{json.dumps(uri)}', f'"data":{data}']
    shape = draw(st.integers(0, 9))
    if shape == 0:
        parts.reverse()  # data before schema
    elif shape == 1:
        parts = parts[:1]  # no data
    elif shape == 2:
        parts.append(f'"data":{data}')  # duplicate key
    return "{" + ",".join(parts) + "}"


@st.composite
def hostile_line(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(BASE_LINES))
    items = draw(st.lists(entity_json(), max_size=3))
    ctx = contexts_of(",".join(items))
    how = draw(st.integers(0, 12))
    if how == 0:
        ctx = ctx[: draw(st.integers(0, len(ctx)))]  # truncated JSON
    line = with_fields(base, contexts=ctx)
    if how == 1:
        line = with_fields(line, unstruct_event='{"data":' + (items[0] if items else "1") + "}")
    elif how == 2:
        line = line.replace(b"\t", b"\t\t", 1)  # field count
    elif how == 3:
        line = line[:20] + b"\xff" + line[20:]  # invalid UTF-8
    elif how == 4:
        line = with_fields(line, page_title="a\\b\rc")  # atomic escapes
    elif how == 5:
        line = with_fields(line, derived_contexts=ctx)
    return line
