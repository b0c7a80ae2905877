"""Table names and columns derived from JSON Schemas; identifiers stay safe whatever the input."""

from __future__ import annotations

import json
import math
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given
from plowline.storage.postgres import pg_type
from plowline.storage.schemas import (
    META_COLUMNS,
    Column,
    DirectorySchemas,
    SchemaRef,
    derive_columns,
    entities_of,
    fit_identifier,
    loads,
    snake,
    table_name,
)
from plowline.storage.testing.events import contexts, unstruct
from psycopg import sql


def test_snowplow_table_names() -> None:
    assert table_name("com.snowplowanalytics.snowplow", "web_page", 1) == (
        "com_snowplowanalytics_snowplow_web_page_1"
    )
    assert table_name("com.acme-corp", "cartItem", 2) == "com_acme_corp_cart_item_2"
    assert table_name("nl.basjes", "yauaa_context", 1) == "nl_basjes_yauaa_context_1"
    assert snake("PerformanceTiming") == "performance_timing"
    assert snake("useragentFamily") == "useragent_family"


def test_columns_of_a_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "zeta": {"type": "string", "maxLength": 10},
            "alpha": {"type": ["string", "null"], "format": "date-time"},
            "count": {"type": "integer", "minimum": 0, "maximum": 100},
            "big": {"type": "integer"},
            "ratio": {"type": ["number", "integer"]},
            "flag": {"type": "boolean"},
            "kind": {"enum": ["a", "bbb"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "either": {"type": ["string", "integer"]},
            "free": {"type": "object"},
            "id": {"type": "string", "format": "uuid"},
            "nested": {
                "type": "object",
                "properties": {
                    "innerValue": {"type": "string"},
                    "deep": {"type": "object", "properties": {"x": {"type": "number"}}},
                },
                "required": ["innerValue"],
            },
        },
        "required": ["zeta", "nested", "count"],
    }
    cols = derive_columns(schema)
    described = [(c.name, pg_type(c), c.nullable) for c in cols]
    assert described == [
        ("count", "INTEGER", False),
        ("nested.inner_value", "TEXT", False),
        ("zeta", "VARCHAR(10)", False),
        ("alpha", "TIMESTAMP", True),
        ("big", "BIGINT", True),
        ("either", "JSONB", True),
        ("flag", "BOOLEAN", True),
        ("free", "JSONB", True),
        ("id", "UUID", True),
        ("kind", "VARCHAR(3)", True),
        ("nested.deep.x", "DOUBLE PRECISION", True),
        ("ratio", "DOUBLE PRECISION", True),
        ("tags", "JSONB", True),
    ]
    assert next(c for c in cols if c.name == "nested.deep.x").path == ("nested", "deep", "x")


def test_properties_named_like_meta_columns_do_not_collide() -> None:
    cols = derive_columns(
        {"properties": {"root_id": {"type": "string"}, "rootId": {"type": "string"}}}
    )
    names = [c.name for c in cols]
    assert len(set(names)) == 2
    assert not set(names) & set(META_COLUMNS)


def test_real_schemas_from_the_spec() -> None:
    store = DirectorySchemas()
    ref = SchemaRef.parse("iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2")
    assert ref is not None
    schema = store.lookup(ref)
    assert schema is not None
    cols = {c.name: c for c in derive_columns(schema)}
    assert cols["session_id"].kind == "uuid"
    assert not cols["session_id"].nullable
    assert cols["previous_session_id"].nullable
    missing = SchemaRef.parse("iglu:com.acme/none/jsonschema/1-0-0")
    assert missing is not None
    assert store.lookup(missing) is None
    sneaky = SchemaRef("..", "..", "jsonschema", 1, 0, 0)
    assert store.lookup(sneaky) is None


@given(st.text(max_size=300))
def test_identifiers_fit_and_never_hold_nul(name: str) -> None:
    fitted = fit_identifier(name)
    assert fitted
    assert "\x00" not in fitted
    assert len(fitted.encode()) <= 63
    if "\x00" not in name and 0 < len(name.encode()) <= 63:
        assert fitted == name


@given(st.text(min_size=1, max_size=100), st.text(min_size=1, max_size=100), st.integers(0, 10**6))
def test_hostile_names_render_as_one_quoted_identifier(vendor: str, name: str, model: int) -> None:
    table = table_name(vendor, name, model)
    rendered = sql.SQL("{}.{}").format(sql.Identifier("atomic"), sql.Identifier(table)).as_string()
    assert rendered.startswith('"atomic"."')
    inner = rendered[len('"atomic".') :]
    assert inner[0] == inner[-1] == '"'
    assert inner[1:-1].replace('""', '"') == table  # nothing escapes the quotes


def test_entities_of_an_event() -> None:
    ctx = contexts({"schema": "iglu:a.b/c/jsonschema/1-0-0", "data": {"x": 1}})
    ue = unstruct("iglu:a.b/e/jsonschema/2-1-0", {"y": 2})
    found = entities_of(ctx, ue, "")
    assert isinstance(found, list)
    assert [(e.ref.uri, e.data, e.origin) for e in found] == [
        ("iglu:a.b/c/jsonschema/1-0-0", {"x": 1}, "contexts"),
        ("iglu:a.b/e/jsonschema/2-1-0", {"y": 2}, "unstruct_event"),
    ]
    assert isinstance(entities_of("{bad", "", ""), str)
    assert isinstance(entities_of(contexts({"schema": "nope", "data": {}}), "", ""), str)
    assert entities_of("", "", "") == []


def test_column_dataclass_defaults() -> None:
    assert Column("a", ("a",), "text").nullable


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_loads_reads_like_the_stdlib(value: Any) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 123456789012345678901234567890}',  # over 64 bits: orjson makes it a float
        '{"a": [1, -12345678901234567890123]}',
        "123456789012345678901234567890",
        '{"x": 1e400}',
        '{"k": 1, "k": 2}',
    ],
)
def test_loads_falls_back_to_the_stdlib_where_orjson_refuses(text: str) -> None:
    assert loads(text) == json.loads(text)


def test_loads_refuses_lone_surrogates_but_keeps_pairs() -> None:
    # No database stores a lone surrogate; writing one would crash the COPY, so it is an error
    # here (the event becomes a bad row). A pair is one character and stays.
    with pytest.raises(ValueError, match="lone surrogate"):
        loads('{"s": "\\ud800", "n": NaN}')
    assert loads('{"s": "\\ud83d\\ude00", "n": 1e400}')["s"] == "\U0001f600"


def test_loads_keeps_the_stdlib_result_for_nan_and_errors() -> None:
    assert math.isnan(loads('{"v": NaN}')["v"])
    with pytest.raises(ValueError, match="Expecting"):
        loads("{not json")
