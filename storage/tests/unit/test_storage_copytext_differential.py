"""The native COPY-text encoder (plowline-copytext) against the Python reference.

Both paths of the loader run on the same batch with the same tables; the COPY texts (as
multisets of rows: the native path appends deferred lines last) and the bad rows must be the
same. Batches mix generated events with hostile entities (every column kind, escapes, NULs,
limits, duplicate keys, data before schema, bad JSON, huge numbers) and broken lines.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.storage.postgres import Encoded, PostgresLoader, _by_table, atomic_row
from plowline.storage.prepare import batch_id, prepare
from plowline.storage.schemas import DirectorySchemas, SchemaRef, StaticSchemas
from plowline.storage.testing.events import CONTEXTS_URI, enriched_lines, with_fields
from plowline_copytext import batch_digest, encode

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


def _contexts(items: str) -> str:
    return f'{{"schema":"{CONTEXTS_URI}","data":[{items}]}}'


class _Result:
    def fetchall(self) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None


class _OfflineConnection:
    """Just enough of a psycopg connection for the loader's DDL bookkeeping, no database."""

    closed = False
    broken = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def execute(self, *_args: object) -> _Result:
        return _Result()

    def close(self) -> None:
        self.closed = True


def _loader(native: bool, jsonb: bool = False) -> PostgresLoader:
    schemas = StaticSchemas({KINDS_URI: KINDS_SCHEMA}, fallback=DirectorySchemas())
    return PostgresLoader(
        "postgresql://offline",
        schemas=schemas,
        entity_mode="jsonb" if jsonb else "columns",
        native=native,
        connect=lambda _dsn: _OfflineConnection(),  # type: ignore[arg-type,return-value]
    )


def _rows(text: str | bytes) -> Counter[bytes]:
    data = text.encode() if isinstance(text, str) else text
    return Counter(data.splitlines(keepends=True))


def _both(lines: Sequence[bytes], jsonb: bool = False) -> tuple[Any, Any]:
    """(reference, native) as (atomic rows, {table: rows}, bad rows) for one batch."""
    out = []
    for native in (False, True):
        loader = _loader(native, jsonb)
        conn = loader._connection()
        atomic: str | bytes
        if native:
            built = loader._native_texts(list(lines), conn)
            assert built is not None
            encoded, atomic = built
        else:
            prepared = prepare(lines)
            loader._ensure(conn, [e.ref for ev in prepared.events for e in ev.entities])
            events, bad = loader._encode_all(prepared)
            atomic = "".join(atomic_row(e.parts) + "\n" for e in events)
            encoded = Encoded(0, [e.raw for e in events], bad, [], _by_table(events))
        tables = {t: _rows(v) for t, v in encoded.tables.items()}
        out.append((_rows(atomic), tables, Counter(encoded.bad), Counter(encoded.good)))
    return out[0], out[1]


def _assert_same(lines: Sequence[bytes], jsonb: bool = False) -> None:
    reference, native = _both(lines, jsonb)
    assert native[0] == reference[0], "atomic.events rows differ"
    assert native[1] == reference[1], "entity rows differ"
    assert native[2] == reference[2], "bad rows differ"
    assert native[3] == reference[3], "good lines differ"


BASE = list(enriched_lines(40, seed=11))


def test_generated_events_are_encoded_natively_and_identically() -> None:
    loader = _loader(native=True)
    built = loader._native_texts(BASE, loader._connection())
    assert built is not None
    _, _, deferred, unknown = encode(BASE, loader._book.plans)
    assert (deferred, unknown) == ([], [])  # nothing left to the reference
    _assert_same(BASE)
    _assert_same(BASE, jsonb=True)


# -- hostile entities --------------------------------------------------------------------

_SCALARS = [
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
    '"s"',
    '"xl"',
    '"quote\\"d"',
    '"\\u007f del"',
    '"\\u2028"',
]
_VALUE = st.recursive(
    st.sampled_from(_SCALARS),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda v: "[" + ",".join(v) + "]")
        | st.lists(st.tuples(st.sampled_from(["w", "unit", "a", ""]), inner), max_size=3).map(
            lambda kv: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in kv) + "}"
        )
    ),
    max_leaves=6,
)
_KEYS = st.sampled_from(
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
def _entity(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(_KEYS, _VALUE), max_size=8))
    data = "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"
    if draw(st.integers(0, 9)) == 0:
        data = draw(_VALUE)  # not an object
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
def _hostile_line(draw: st.DrawFn) -> bytes:
    base = draw(st.sampled_from(BASE))
    items = draw(st.lists(_entity(), max_size=3))
    ctx = _contexts(",".join(items))
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_hostile_line(), min_size=1, max_size=6), st.booleans())
def test_hostile_batches_match_the_reference(lines: list[bytes], jsonb: bool) -> None:
    _assert_same(lines, jsonb)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 130))
def test_arbitrary_bytes_in_any_field_match_the_reference(junk: bytes, index: int) -> None:
    parts = BASE[index % len(BASE)].split(b"\t")
    parts[index] = junk.replace(b"\t", b" ")
    _assert_same([b"\t".join(parts), BASE[0], junk])


def test_long_lines_and_many_entities() -> None:
    rng = random.Random(5)
    big = ",".join(
        f'{{"schema":"{KINDS_URI}","data":{{"name":"n{i}","small":{rng.randint(0, 999)}}}}}'
        for i in range(300)
    )
    _assert_same([with_fields(BASE[0], contexts=_contexts(big)), *BASE[:5]])


def test_schema_ref_parse_and_native_agree_on_uri_forms() -> None:
    uris = ["iglu:com.acme/kinds/jsonschema/01-0-0", "iglu:com.acme/kinds/jsonschema/1-0-0"]
    assert SchemaRef.parse(uris[0]) == SchemaRef.parse(uris[1])
    lines = [
        with_fields(BASE[0], contexts=json.dumps({"data": [{"schema": u, "data": {"name": "a"}}]}))
        for u in uris
    ]
    _assert_same(lines)


def test_every_column_kind_is_encoded_natively() -> None:
    """Values of every kind that the native path must take itself (not defer) and get right."""
    entities = [
        {
            "name": "tab\there \\ é",
            "note": None,
            "at": "2026-11-27 10:00:00.000",
            "day": "2026-11-27",
            "id": "6e4fa6f2-0000-4000-8000-000000000000",
            "small": 7,
            "big": -(2**40),
            "ratio": 0.1,
            "flag": True,
            "tags": ["a", {"b": [1.5, None, "new\nline"]}],
            "size": "xl",
            "dims": {"w": 3, "unit": "cm"},
        },
        {"name": "x", "ratio": 12, "dims": "not an object", "tags": "text", "extra": [1, 2]},
        {"dims": {"w": 1e16}, "name": "dup", "name ": "ignored"},
    ]
    items = ",".join(
        json.dumps({"schema": KINDS_URI, "data": e}, ensure_ascii=False) for e in entities
    )
    line = with_fields(BASE[0], contexts=_contexts(items))
    for jsonb in (False, True):
        loader = _loader(native=True, jsonb=jsonb)
        assert loader._native_texts([line], loader._connection()) is not None
        _, tables, deferred, unknown = encode([line], loader._book.plans)
        assert (deferred, unknown) == ([], [])
        assert tables["com_acme_kinds_1"].count(b"\n") == 3
        _assert_same([line], jsonb)


@given(st.lists(st.binary(max_size=50), max_size=8))
def test_native_batch_id_is_the_reference_batch_id(lines: list[bytes]) -> None:
    # Same id on both paths: a batch reloaded after switching paths is still recognised.
    assert batch_digest(lines) == batch_id(lines)
