"""Enriched TSV parsing: field count, UTF-8, value checks; bad rows match their schema."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from plowline.storage import tsv
from plowline.storage.atomic import FIELD_COUNT, atomic_columns, fields
from plowline.storage.testing import check_bad_row
from plowline.storage.testing.events import enriched_lines, with_fields

GOOD = list(enriched_lines(30))


def test_the_field_table_has_131_fields_and_128_columns() -> None:
    assert len(fields()) == FIELD_COUNT
    assert len(atomic_columns()) == 128
    assert [f.name for f in fields() if f.postgres is None] == [
        "contexts",
        "unstruct_event",
        "derived_contexts",
    ]
    assert {f.name for f in fields() if not f.nullable} == {
        "collector_tstamp",
        "event_id",
        "v_collector",
        "v_etl",
    }


def test_generated_events_are_valid() -> None:
    for line in GOOD:
        parts = tsv.parse(line)
        assert isinstance(parts, list)
        assert len(parts) == FIELD_COUNT


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_any_bytes_give_fields_or_a_valid_bad_row(raw: bytes) -> None:
    result = tsv.parse(raw)
    if isinstance(result, list):
        assert len(result) == FIELD_COUNT
    else:
        check_bad_row(result)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=300).filter(lambda n: n != FIELD_COUNT))
def test_wrong_field_counts(n: int) -> None:
    line = "\t".join(["x"] * n).encode()
    result = tsv.split(line)
    assert isinstance(result, bytes)
    failure = check_bad_row(result)["failure"]
    if n <= 1:
        assert failure == {"type": "NotTSV"}
    else:
        assert failure == {"type": "FieldNumberMismatch", "fieldCount": n}


def test_invalid_utf8_is_a_row_decoding_error() -> None:
    result = tsv.split(GOOD[0] + b"\xc3\x28")
    assert isinstance(result, bytes)
    data = check_bad_row(result)
    [error] = data["failure"]["errors"]
    assert error["type"] == "UnhandledRowDecodingError"
    assert "UTF-8" in error["message"]
    assert data["payload"].endswith("\\xc3(")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("geo_country", "GBR", "longer than"),
        ("page_urlport", "80.5", "32-bit integer"),
        ("page_urlport", "99999999999", "32-bit integer"),
        ("br_cookies", "yes", "boolean"),
        ("geo_latitude", "north", "number"),
        ("geo_latitude", "NaN", "finite"),
        ("derived_tstamp", "2026-13-01 00:00:00.000", "date and time"),
        ("derived_tstamp", "yesterday", "timestamp"),
        ("event_id", "123", "UUID"),
        ("collector_tstamp", "", "required"),
        ("page_title", "nul\x00here", "NUL"),
        ("contexts", "[1,2]", "self-describing"),
        ("unstruct_event", "{oops", "not JSON"),
    ],
)
def test_bad_values_are_named(name: str, value: str, message: str) -> None:
    result = tsv.parse(with_fields(GOOD[1], **{name: value}))
    assert isinstance(result, bytes)
    [error] = check_bad_row(result)["failure"]["errors"]
    assert error["key"] == name
    assert error["value"] == value
    assert message in error["message"]


@settings(max_examples=200)
@given(st.text(max_size=400).filter(lambda s: "\t" not in s and "\n" not in s))
def test_any_string_in_a_string_field_is_accepted_or_named(value: str) -> None:
    result = tsv.parse(with_fields(GOOD[2], geo_city=value))
    ok = len(value) <= 75 and "\x00" not in value
    assert isinstance(result, list) == ok
    if not ok:
        assert isinstance(result, bytes)
        [error] = check_bad_row(result)["failure"]["errors"]
        assert error["key"] == "geo_city"


@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_integer_range(n: int) -> None:
    result = tsv.parse(with_fields(GOOD[3], doc_width=str(n)))
    assert isinstance(result, list) == (-(2**31) <= n < 2**31)
