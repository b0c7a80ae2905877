"""Value parsers (enrich's ConversionUtils) and querystring parsing, with property tests."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.enrich.conversions import (
    ParseError,
    decode_base64url,
    encode_base64url,
    format_tstamp,
    java_length,
    parse_bool_byte,
    parse_decimal,
    parse_dims,
    parse_int,
    parse_tstamp,
    parse_uuid,
    tstamp_to_ms,
    tsv_safe,
)
from plowline.enrich.querystring import QuerystringError, parse_querystring


@pytest.mark.parametrize(
    ("text", "out"),
    [("12.990", "12.990"), ("1E+3", "1000"), ("1.5E-10", "1.5E-10"), ("-0.00", "0.00"),
     ("0.0000001", "1E-7"), ("null", None), ("NULL", None), ("+5", "5"), (".5", "0.5"), ("7", "7")],
)  # fmt: skip
def test_decimals(text: str, out: str | None) -> None:
    assert parse_decimal(text) == out


@pytest.mark.parametrize("text", ["", "NaN", "Infinity", "1_000", " 1", "1e", "0x10", "1,5"])
def test_bad_decimals(text: str) -> None:
    with pytest.raises(ParseError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "out"), [("0", "0"), ("-2147483648", "-2147483648"), ("+7", "7"), ("nUlL", None)]
)
def test_ints(text: str, out: str | None) -> None:
    assert parse_int(text) == out


@pytest.mark.parametrize("text", ["", "2147483648", "1.0", "1e3", "abc", " 1"])
def test_bad_ints(text: str) -> None:
    with pytest.raises(ParseError):
        parse_int(text)


def test_bool_dims_uuid_tstamp() -> None:
    assert parse_bool_byte("1") == "1"
    with pytest.raises(ParseError):
        parse_bool_byte("true")
    assert parse_dims("1920x1080") == ("1920", "1080")
    for bad in ("1920", "1920x", "-1x2", "1x2x3", "99999999999x1"):
        with pytest.raises(ParseError):
            parse_dims(bad)
    assert (
        parse_uuid("2EC13853-1F43-4C6E-9E2C-1A4C8D3A5B6E") == "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e"
    )
    with pytest.raises(ParseError):
        parse_uuid("2ec138531f434c6e9e2c1a4c8d3a5b6e")
    assert parse_tstamp("0") == "1970-01-01 00:00:00.000"
    assert parse_tstamp("-1") == "1969-12-31 23:59:59.999"
    assert parse_tstamp("253402300799999") == "9999-12-31 23:59:59.999"
    for bad in ("253402300800000", "1.5", "", "abc"):
        with pytest.raises(ParseError):
            parse_tstamp(bad)


@given(st.integers(min_value=-62135596800000, max_value=253402300799999))
def test_tstamp_round_trip(ms: int) -> None:
    assert tstamp_to_ms(format_tstamp(ms)) == ms


@given(st.text())
def test_tsv_safe_has_no_control_characters(text: str) -> None:
    safe = tsv_safe(text)
    assert safe is None or not any(ord(c) < 32 or ord(c) == 127 for c in safe)


def test_java_length_counts_utf16_units() -> None:
    assert java_length("abc") == 3
    assert java_length("é😀") == 3


@given(st.text(max_size=200))
def test_base64url_round_trip(text: str) -> None:
    encoded = encode_base64url(text)
    assert decode_base64url(encoded) == text
    padded = base64.urlsafe_b64encode(text.encode()).decode()
    assert decode_base64url(padded) == text
    standard = base64.b64encode(text.encode()).decode()
    assert decode_base64url(standard) == text


@given(st.text(max_size=100))
def test_base64url_never_fails(text: str) -> None:
    assert isinstance(decode_base64url(text), str)


def test_querystring_semantics() -> None:
    assert parse_querystring("a=1&b=&c&a=2;d=x+y%21") == [
        ("a", "1"), ("b", ""), ("c", None), ("a", "2"), ("d", "x y!"),
    ]  # fmt: skip
    assert parse_querystring("=x&&e=pv#frag") == [("e", "pv")]
    assert parse_querystring(None) == []
    assert parse_querystring("k=%E2%82%AC") == [("k", "€")]
    assert parse_querystring("k=%FF") == [("k", "\ufffd")]


@pytest.mark.parametrize("query", ["a=b c", "a=%zz", "a=|", "a=1#b#c", 'a="', "a={"])
def test_illegal_querystrings(query: str) -> None:
    with pytest.raises(QuerystringError):
        parse_querystring(query)


@given(st.text(max_size=80))
def test_querystring_parses_or_raises_typed_error(text: str) -> None:
    try:
        pairs = parse_querystring(text)
    except QuerystringError:
        return
    assert all(name for name, _ in pairs)
