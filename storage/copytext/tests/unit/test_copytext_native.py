"""plowline-copytext on its own: the API, Python-exact formatting, and never a crash.

Byte-for-byte agreement with the Python loader is tested in plowline-storage
(storage/tests/unit/test_storage_copytext_differential.py), where the reference lives.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if os.environ.get("CI") != "true":  # CI installs the `native` extra: there these never skip
    pytest.importorskip("plowline.copytext", reason="plowline-storage[native] is not installed")
from plowline.copytext import Plans, batch_digest, encode, float_repr, json_roundtrip

URI = "iglu:com.acme/thing/jsonschema/1-0-0"
HEAD, TAIL = "com.acme\tthing\tjsonschema\t1-0-0\t", "\tevents\t[]\tevents"
COLUMNS = [(["name"], "varchar", 5, False), (["n"], "integer", None, True)]


def line(contexts: str = "", *, fields: int = 131) -> bytes:
    parts = [""] * fields
    parts[3] = "2026-11-27 10:00:00.000"
    parts[6] = "6e4fa6f2-0000-4000-8000-000000000000"
    if fields > 52:
        parts[52] = contexts
    return "\t".join(parts).encode()


def ctx(*entities: object) -> str:
    return json.dumps({"schema": "iglu:x/contexts/jsonschema/1-0-1", "data": list(entities)})


META = ("com.acme", "thing", "jsonschema", "1-0-0", '["events", "thing"]')
PLANS = Plans(False, [(URI, "thing_1", HEAD, TAIL, COLUMNS, None)])
BINARY = Plans(False, [(URI, "thing_1", "", "", COLUMNS, META)], binary=True)


def test_a_line_becomes_an_atomic_row_and_an_entity_row() -> None:
    good = line(ctx({"schema": URI, "data": {"name": "a\tb", "n": 3}}))
    atomic, tables, deferred, unknown = encode([good], PLANS)
    assert (deferred, unknown) == ([], [])
    assert atomic.count(b"\t") == 127  # 128 columns: the three JSON fields are dropped
    assert tables == {
        "thing_1": (
            HEAD + "6e4fa6f2-0000-4000-8000-000000000000\t2026-11-27 10:00:00.000" + TAIL
        ).encode()
        + b"\ta\\tb\t3\n"
    }


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (line(fields=130), "too few fields"),
        (line(fields=132), "too many fields"),
        (b"\xff" + line(), "invalid UTF-8"),
        (line().replace(b"\t", b"\n", 1), "a newline"),
        (line(ctx({"schema": URI, "data": {"name": "toolong"}})), "over the varchar limit"),
        (line(ctx({"schema": URI, "data": {"n": 1}})), "required value missing"),
        (line(ctx({"schema": URI, "data": {"name": "a", "n": 2**31}})), "out of integer range"),
        (line(ctx({"schema": URI, "data": {"name": "a", "n": 1.0}})), "a float for an integer"),
        (line(ctx({"schema": URI, "data": [1]})), "data not an object"),
        (line(ctx({"schema": URI, "data": {"name": "a\u0000"}})), "a NUL"),
        (line('{"data": [NaN]}'), "JSON only Python reads"),
        (line('{"data": [{"schema": "%s", "data": {"n": -0}}]}' % URI), "-0"),  # noqa: UP031
        (line("{not json"), "bad JSON"),
    ],
)
def test_lines_it_is_not_sure_about_are_deferred(raw: bytes, why: str) -> None:
    atomic, tables, deferred, _ = encode([line(), raw, line()], PLANS)
    assert deferred == [1], why
    assert atomic.count(b"\n") == 2
    assert tables == {}


def test_unknown_schemas_are_reported_once() -> None:
    other = "iglu:com.acme/other/jsonschema/1-0-0"
    raw = line(ctx({"schema": other, "data": {}}, {"schema": URI, "data": {"name": "a"}}))
    _, tables, deferred, unknown = encode([raw, raw], PLANS)
    assert (deferred, unknown, tables) == ([0, 1], [other], {})


def test_plans_reject_bad_specs() -> None:
    with pytest.raises(ValueError, match="unknown column kind"):
        Plans(False, [(URI, "t", "", "", [(["x"], "money", None, True)], None)])
    with pytest.raises(ValueError, match="path is empty"):
        Plans(False, [(URI, "t", "", "", [([], "text", None, True)], None)])
    with pytest.raises(ValueError, match="binary plans need meta"):
        Plans(False, [(URI, "t", "", "", [], None)], binary=True)
    assert len(Plans(False, [(URI, "", "", "", None, None)])) == 1


def test_only_bytes_are_accepted() -> None:
    with pytest.raises(TypeError):
        encode(["not bytes"], PLANS)  # type: ignore[list-item]


@pytest.mark.parametrize(
    "value", [0.0, -0.0, 1.0, 0.1, 1e16, 1e15, 1e-4, 1e-5, 1.2345678901234568e17, 5e-324, 1.79e308]
)
def test_float_repr_is_pythons(value: float) -> None:
    assert float_repr(value) == repr(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_repr_is_pythons_for_any_float(value: float) -> None:
    assert float_repr(value) == repr(value)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(_JSON)
def test_json_is_written_as_python_writes_it_or_deferred(value: object) -> None:
    text = json.dumps(value)
    expected = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    got = json_roundtrip(text)
    assert got in (expected, None)
    if got is None:  # only for numbers Python reads differently (19+ digits, -0)
        assert any(c.isdigit() for c in text)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=400), max_size=5), st.booleans())
def test_arbitrary_bytes_never_crash_and_every_line_is_accounted_for(
    junk: list[bytes], jsonb: bool
) -> None:
    for binary in (False, True):
        spec = (URI, "thing_1", HEAD, TAIL, [] if jsonb else COLUMNS, META)
        plans = Plans(jsonb, [spec], binary=binary)
        lines = [*junk, line(ctx({"schema": URI, "data": {"name": "a"}}))]
        atomic, _, deferred, _ = encode(lines, plans)
        assert atomic.count(b"\n") + len(deferred) == len(lines)
        assert deferred == sorted(set(deferred))


@given(st.lists(st.binary(max_size=64), max_size=6))
def test_batch_digest_is_sha256_of_length_prefixed_lines(lines: list[bytes]) -> None:
    import hashlib

    digest = hashlib.sha256()
    for item in lines:
        digest.update(len(item).to_bytes(8, "big") + item)
    assert batch_digest(lines) == digest.hexdigest()


def _fields(tuple_bytes: bytes) -> list[bytes | None]:
    """One binary COPY tuple: a 16-bit field count, then (32-bit length, bytes) per field."""
    count = struct.unpack_from(">h", tuple_bytes)[0]
    pos, out = 2, []
    for _ in range(count):
        (size,) = struct.unpack_from(">i", tuple_bytes, pos)
        pos += 4
        out.append(None if size < 0 else tuple_bytes[pos : pos + size])
        pos += max(size, 0)
    assert pos == len(tuple_bytes)
    return out


def test_binary_tuples_hold_postgres_binary_values() -> None:
    good = line(ctx({"schema": URI, "data": {"name": "a\tb", "n": -3}}))
    _, tables, deferred, _ = encode([good], BINARY)
    assert deferred == []
    fields = _fields(tables["thing_1"])
    assert fields[:4] == [b"com.acme", b"thing", b"jsonschema", b"1-0-0"]
    assert fields[4] == uuid.UUID("6e4fa6f2-0000-4000-8000-000000000000").bytes
    since_2000 = datetime(2026, 11, 27, 10, 0) - datetime(2000, 1, 1)
    assert fields[5] == struct.pack(">q", since_2000 // timedelta(microseconds=1))
    assert fields[6:9] == [b"events", b'["events", "thing"]', b"events"]
    assert fields[9:] == [b"a\tb", struct.pack(">i", -3)]


def test_binary_mode_defers_values_without_an_exact_binary_form() -> None:
    odd_time = line(ctx({"schema": URI, "data": {"name": "a"}})).replace(
        b"2026-11-27 10:00:00.000", b"2026-11-27 10:00:00+02"
    )
    _, tables, deferred, _ = encode([odd_time], BINARY)
    assert (deferred, tables) == ([0], {})
    _, _, deferred, _ = encode([odd_time], PLANS)  # text mode leaves it to PostgreSQL
    assert deferred == []
