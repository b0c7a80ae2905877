"""The native COPY-text encoder (plowline-copytext) against the Python reference.

Both paths of the loader run on the same batch with the same tables; the COPY texts (as
multisets of rows: the native path appends deferred lines last) and the bad rows must be the
same. Batches mix generated events with hostile entities (every column kind, escapes, NULs,
limits, duplicate keys, data before schema, bad JSON, huge numbers) and broken lines.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.storage.postgres import Encoded, PostgresLoader, _by_table, atomic_row
from plowline.storage.prepare import batch_id, prepare
from plowline.storage.schemas import SchemaRef
from plowline.storage.testing.events import with_fields
from plowline.storage.testing.hostile import (
    BASE_LINES,
    KINDS_URI,
    contexts_of,
    hostile_line,
    kinds_schemas,
)

if os.environ.get("CI") != "true":  # CI installs the `native` extra: there these never skip
    pytest.importorskip("plowline.copytext", reason="plowline-storage[native] is not installed")
from plowline.copytext import batch_digest, encode


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
    schemas = kinds_schemas()
    return PostgresLoader(
        "postgresql://offline",
        schemas=schemas,
        entity_mode="jsonb" if jsonb else "columns",
        native=native,
        entity_copy="text",  # byte-for-byte comparable; binary is judged by PostgreSQL
        connect=lambda _dsn: _OfflineConnection(),  # type: ignore[arg-type,return-value]
    )


def _rows(text: str | list[bytes]) -> Counter[bytes]:
    data = text.encode() if isinstance(text, str) else b"".join(text)
    return Counter(data.splitlines(keepends=True))


def _both(lines: Sequence[bytes], jsonb: bool = False) -> tuple[Any, Any]:
    """(reference, native) as (atomic rows, {table: rows}, bad rows) for one batch."""
    out = []
    for native in (False, True):
        loader = _loader(native, jsonb)
        conn = loader._connection()
        atomic: str | list[bytes]
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


BASE = BASE_LINES


def test_generated_events_are_encoded_natively_and_identically() -> None:
    loader = _loader(native=True)
    built = loader._native_texts(BASE, loader._connection())
    assert built is not None
    _, _, deferred, unknown = encode(BASE, loader._book.plans)
    assert (deferred, unknown) == ([], [])  # nothing left to the reference
    _assert_same(BASE)
    _assert_same(BASE, jsonb=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_line(), min_size=1, max_size=6), st.booleans())
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
    _assert_same([with_fields(BASE[0], contexts=contexts_of(big)), *BASE[:5]])


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
    line = with_fields(BASE[0], contexts=contexts_of(items))
    for jsonb in (False, True):
        loader = _loader(native=True, jsonb=jsonb)
        assert loader._native_texts([line], loader._connection()) is not None
        _, tables, deferred, unknown = encode([line], loader._book.plans)
        assert (deferred, unknown) == ([], [])
        assert tables["com_acme_kinds_1"].count(b"\n") == 3
        _assert_same([line], jsonb)
        # The same values all have an exact binary form: nothing is left to the text path.
        binary = PostgresLoader(
            "postgresql://offline",
            schemas=kinds_schemas(),
            entity_mode="jsonb" if jsonb else "columns",
            native=True,
            connect=lambda _dsn: _OfflineConnection(),  # type: ignore[arg-type,return-value]
        )
        assert binary._native_texts([line], binary._connection()) is not None
        _, tables, deferred, unknown = encode([line], binary._book.plans)
        assert (deferred, unknown) == ([], [])
        assert tables["com_acme_kinds_1"]  # three binary tuples


@given(st.lists(st.binary(max_size=50), max_size=8))
def test_native_batch_id_is_the_reference_batch_id(lines: list[bytes]) -> None:
    # Same id on both paths: a batch reloaded after switching paths is still recognised.
    assert batch_digest(lines) == batch_id(lines)
