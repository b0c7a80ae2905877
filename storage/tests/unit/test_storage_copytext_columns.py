"""Every column kind against every kind of JSON value, native encoder against the Python
reference: what the reference refuses the native encoder never writes (it defers the line),
and what it writes is the reference's value, byte for byte as COPY text and value for value
as a binary COPY field. After a schema evolution a column's type is the table's, not the
version's, so any value may meet any column (issue 15: a float's bit pattern in a BIGINT)."""

from __future__ import annotations

import json
import os
import struct
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.storage.postgres import PostgresLoader, db_column, widening
from plowline.storage.prepare import prepare
from plowline.storage.schemas import Column, StaticSchemas
from plowline.storage.testing.events import with_fields
from plowline.storage.testing.hostile import (
    BASE_LINES,
    KIND_PROPERTIES,
    SCALARS,
    VALUE,
    contexts_of,
)

if os.environ.get("CI") != "true":  # CI installs the `native` extra: there these never skip
    pytest.importorskip("plowline.copytext", reason="plowline-storage[native] is not installed")
from plowline.copytext import encode

URI = "iglu:com.acme/onecolumn/jsonschema/1-0-0"
PROPERTY = KIND_PROPERTIES
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL's binary timestamps and dates count from


class _Result:
    def fetchall(self) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None


class _Offline:
    """Just enough of a connection for the loader's DDL bookkeeping, no database."""

    closed = False
    broken = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def execute(self, *_args: object) -> _Result:
        return _Result()

    def close(self) -> None:
        self.closed = True


def _loader(kind: str, required: bool, native: bool, binary: bool) -> PostgresLoader:
    schema = {"type": "object", "properties": {"v": PROPERTY[kind]}}
    if required:
        schema["required"] = ["v"]
    return PostgresLoader(
        "postgresql://offline",
        schemas=StaticSchemas({URI: schema}),
        native=native,
        entity_copy="binary" if binary else "text",
        connect=lambda _dsn: _Offline(),  # type: ignore[arg-type,return-value]
    )


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[nxt])
        else:
            out.append(ch)
    return "".join(out)


def _last_field(row: bytes) -> bytes | None:
    """The last field of one binary COPY tuple (None: NULL)."""
    (count,) = struct.unpack_from(">h", row, 0)
    at, value = 2, None
    for _ in range(count):
        (size,) = struct.unpack_from(">i", row, at)
        at += 4
        value = None if size < 0 else row[at : at + size]
        at += max(size, 0)
    assert at == len(row), "one tuple, nothing after it"
    return value


def _same_value(kind: str, text: str, field: bytes | None) -> None:
    """The reference's COPY text of a value and the native binary field mean the same."""
    if text == "\\N":
        assert field is None
        return
    assert field is not None
    if kind in ("text", "varchar"):
        assert field.decode() == _unescape(text)
    elif kind == "json":
        assert field[:1] == b"\x01"
        assert json.loads(field[1:]) == json.loads(_unescape(text))
        assert field[1:].decode() == _unescape(text)
    elif kind == "integer":
        assert struct.unpack(">i", field) == (int(text),)
    elif kind == "bigint":
        assert struct.unpack(">q", field) == (int(text),)
    elif kind == "double":
        assert struct.unpack(">d", field) == (float(text),)
    elif kind == "boolean":
        assert field == (b"\x01" if text == "t" else b"\x00")
    elif kind == "uuid":
        assert field == uuid.UUID(text).bytes
    elif kind == "date":
        days = (date.fromisoformat(text) - EPOCH.date()).days
        assert struct.unpack(">i", field) == (days,)
    elif kind == "timestamp":
        at = datetime.fromisoformat(text).replace(tzinfo=UTC)
        micros = (at - EPOCH) // (datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH)
        assert struct.unpack(">q", field) == (micros,)
    else:  # pragma: no cover
        raise AssertionError(kind)


def _reference(kind: str, required: bool, line: bytes) -> str | None:
    """The Python path's COPY text of the value (None: the event is a bad row)."""
    loader = _loader(kind, required, native=False, binary=False)
    prepared = prepare([line])
    loader._ensure(loader._connection(), [e.ref for ev in prepared.events for e in ev.entities])
    events, bad = loader._encode_all(prepared)
    if bad:
        return None
    [event] = events
    [(_, row)] = event.rows
    return row.split("\t")[-1]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(PROPERTY)),
    required=st.booleans(),
    value=st.sampled_from(SCALARS) | VALUE,
)
def test_native_writes_only_what_the_reference_writes(
    kind: str, required: bool, value: str
) -> None:
    entity = f'{{"schema":"{URI}","data":{{"v":{value}}}}}'
    line = with_fields(BASE_LINES[0], contexts=contexts_of(entity), derived_contexts="")
    expected = _reference(kind, required, line)
    for binary in (False, True):
        loader = _loader(kind, required, native=True, binary=binary)
        built = loader._native_texts([line], loader._connection())
        assert built is not None
        _, tables, deferred, unknown = encode([line], loader._book.plans)
        assert unknown == []
        if deferred:
            continue  # the reference decides: always allowed
        assert expected is not None, f"native wrote {value} into a {kind} column, reference refused"
        [row] = [bytes(t) for t in tables.values()]
        if binary:
            _same_value(kind, expected, _last_field(row))
        else:
            assert row.rstrip(b"\n").split(b"\t")[-1] == expected.encode()


def test_widening_follows_schemaver_and_never_narrows() -> None:
    def have(type_text: str) -> Any:
        return db_column(type_text, False)

    def want(kind: str, length: int | None = None) -> Column:
        return Column("c", ("c",), kind, length)

    assert widening(have("character varying(10)"), want("varchar", 100)) == ("VARCHAR(100)", None)
    assert widening(have("character varying(100)"), want("varchar", 10)) == (None, None)
    assert widening(have("character varying(10)"), want("text")) == ("TEXT", None)
    assert widening(have("text"), want("varchar", 10)) == (None, None)
    assert widening(have("integer"), want("bigint")) == ("BIGINT", None)
    assert widening(have("integer"), want("double")) == ("DOUBLE PRECISION", None)
    assert widening(have("bigint"), want("double")) == ("DOUBLE PRECISION", None)
    assert widening(have("double precision"), want("integer")) == (None, None)
    assert widening(have("bigint"), want("integer")) == (None, None)
    assert widening(have("jsonb"), want("boolean")) == (None, None)
    for kind in ("text", "boolean", "json", "timestamp"):
        wider, note = widening(have("bigint"), want(kind))
        assert wider is None
        assert note is not None
        assert "BIGINT" in note
    assert widening(have("numeric(10,2)"), want("double")) == (None, None)  # not ours: as is
    assert db_column("numeric(10,2)", False).kind is None
    assert db_column("character varying", True) == db_column("character varying", True)
