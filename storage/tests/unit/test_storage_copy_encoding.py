"""COPY text encoding of atomic rows and entity values."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import pytest
from hypothesis import given
from plowline.storage.postgres import EncodeError, atomic_row, encode
from plowline.storage.schemas import Column


def unescape(text: str) -> str:
    """PostgreSQL's COPY text decoding for the escapes we emit."""
    out, i = [], 0
    table = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
    while i < len(text):
        if text[i] == "\\":
            out.append(table[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@given(st.text().filter(lambda s: "\x00" not in s))
def test_text_round_trips_through_copy_escaping(value: str) -> None:
    encoded = encode(Column("c", ("c",), "text"), value)
    assert "\t" not in encoded
    assert "\n" not in encoded
    assert unescape(encoded) == value


def test_kinds() -> None:
    assert encode(Column("c", ("c",), "integer"), 5) == "5"
    assert encode(Column("c", ("c",), "integer"), 5.0) == "5"
    assert encode(Column("c", ("c",), "double"), 2) == "2.0"
    assert encode(Column("c", ("c",), "boolean"), True) == "t"
    assert encode(Column("c", ("c",), "json"), {"a": [1, "\t"]}) == '{"a":[1,"\\\\t"]}'
    assert encode(Column("c", ("c",), "text"), None) == "\\N"
    assert encode(Column("c", ("c",), "varchar", 3), 12) == "12"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (Column("c", ("c",), "varchar", 3), "abcd"),
        (Column("c", ("c",), "integer"), 2**31),
        (Column("c", ("c",), "integer"), True),
        (Column("c", ("c",), "bigint"), "12"),
        (Column("c", ("c",), "double"), math.inf),
        (Column("c", ("c",), "boolean"), 1),
        (Column("c", ("c",), "uuid"), 5),
        (Column("c", ("c",), "text"), "a\x00b"),
        (Column("c", ("c",), "text", nullable=False), None),
    ],
)
def test_values_that_do_not_fit(column: Column, value: object) -> None:
    with pytest.raises(EncodeError, match="c"):
        encode(column, value)


def test_atomic_row_drops_json_fields_and_escapes() -> None:
    parts = [f"v{i}" for i in range(131)]
    parts[0] = "back\\slash"
    parts[1] = "carriage\rreturn"
    row = atomic_row(parts).split("\t")
    assert len(row) == 128
    assert "v52" not in row
    assert "v58" not in row
    assert "v122" not in row
    assert row[0] == "back\\\\slash"
    assert row[1] == "carriage\\rreturn"
