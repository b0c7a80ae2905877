"""Real PostgreSQL judges the native encoder: the same hostile batches loaded on the native
path and on the Python reference path leave the same rows in every table, and the same
number of bad rows."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any, Literal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.storage.postgres import PostgresLoader
from plowline.storage.schemas import DirectorySchemas, StaticSchemas
from plowline.storage.testing.events import with_fields
from plowline.storage.testing.hostile import (
    BASE_LINES,
    KIND_PROPERTIES,
    KINDS_SCHEMA,
    KINDS_URI,
    contexts_of,
    hostile_line,
    kinds_schemas,
)
from psycopg import sql

pytestmark = pytest.mark.postgres
if os.environ.get("CI") != "true":  # CI installs the `native` extra: there these never skip
    pytest.importorskip("plowline.copytext", reason="plowline-storage[native] is not installed")
_EXAMPLE = itertools.count()  # each example loads into schemas of its own


def _dump(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[str]]:
    """Every table of a schema (but the load manifest) as sorted COPY lines, without
    atomic.events.load_tstamp (each load's own time: never the same on two paths)."""
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name <> 'plowline_load_manifest'",
        (schema,),
    ).fetchall()
    out: dict[str, list[str]] = {}
    for (table,) in tables:
        names = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name <> 'load_tstamp' ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
        query = sql.SQL("COPY (SELECT {} FROM {}.{}) TO STDOUT").format(
            sql.SQL(", ").join(sql.Identifier(n) for (n,) in names),
            sql.Identifier(schema),
            sql.Identifier(table),
        )
        with conn.cursor() as cur, cur.copy(query) as copy:
            text = b"".join(bytes(chunk) for chunk in copy).decode()
        out[table] = sorted(text.splitlines())
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(hostile_line(), min_size=1, max_size=8),
    jsonb=st.booleans(),
    entity_copy=st.sampled_from(["binary", "text"]),
)
def test_native_and_reference_paths_store_the_same_rows(
    pg_database: Any, batch: list[bytes], jsonb: bool, entity_copy: Literal["binary", "text"]
) -> None:
    loaded = {}
    n = next(_EXAMPLE)
    for schema, native in (("ref", False), ("nat", True)):
        name = f"{schema}_{n}"
        with PostgresLoader(
            pg_database.dsn,
            schema=name,
            schemas=kinds_schemas(),
            entity_mode="jsonb" if jsonb else "columns",
            native=native,
            entity_copy=entity_copy,
        ) as loader:
            loader.setup()
            result = loader.load([*batch, *BASE_LINES[:2]])
            loaded[schema] = (result.loaded, len(result.bad), result.skipped)
    assert loaded["nat"] == loaded["ref"]
    with psycopg.connect(pg_database.dsn) as conn:
        on_native, on_reference = _dump(conn, f"nat_{n}"), _dump(conn, f"ref_{n}")
    assert on_native.keys() == on_reference.keys()
    for table, rows in on_reference.items():
        assert on_native[table] == rows, table


EVOLVING = ("name", "small", "big", "ratio", "flag", "at", "tags")
# Values the current schema allows, which then meet the earlier layout's columns.
_VALID = {
    "name": "abc",
    "small": 7,
    "big": -(2**40),
    "ratio": 0.5,
    "flag": True,
    "at": "2026-11-27 10:00:00.000",
    "tags": ["a", 1],
}
VALID = with_fields(
    BASE_LINES[7], contexts=contexts_of(json.dumps({"schema": KINDS_URI, "data": _VALID}))
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(hostile_line(), min_size=1, max_size=6),
    earlier=st.fixed_dictionaries({p: st.sampled_from(sorted(KIND_PROPERTIES)) for p in EVOLVING}),
    entity_copy=st.sampled_from(["binary", "text"]),
)
def test_tables_an_earlier_version_made_store_the_same_rows_on_both_paths(
    pg_database: Any,
    batch: list[bytes],
    earlier: dict[str, str],
    entity_copy: Literal["binary", "text"],
) -> None:
    """Issue 15: after an evolution a column has the table's type, not the version's, so
    any value may meet any column kind. An earlier layout (each property of any kind) makes
    the table; hostile batches of the current schema then load the same on both paths
    (widened where SchemaVer allows, bad rows where a value does not fit, never a value
    stored as another type's bytes)."""
    properties = dict(KINDS_SCHEMA["properties"])
    properties.update({p: KIND_PROPERTIES[kind] for p, kind in earlier.items()})
    first = StaticSchemas(
        {KINDS_URI: {"type": "object", "properties": properties}}, fallback=DirectorySchemas()
    )
    seed = with_fields(
        BASE_LINES[5], contexts=contexts_of(f'{{"schema":"{KINDS_URI}","data":{{}}}}')
    )
    loaded = {}
    n = next(_EXAMPLE)
    for schema, native in (("ref", False), ("nat", True)):
        name = f"evo{schema}_{n}"
        with PostgresLoader(pg_database.dsn, schema=name, schemas=first, native=native) as made:
            made.setup()
            assert made.load([seed]).loaded == 1
        with PostgresLoader(
            pg_database.dsn,
            schema=name,
            schemas=kinds_schemas(),
            native=native,
            entity_copy=entity_copy,
        ) as loader:
            result = loader.load([*batch, VALID, *BASE_LINES[:2]])
            loaded[schema] = (result.loaded, len(result.bad), result.skipped, loader.reconnects)
    assert loaded["nat"] == loaded["ref"]
    with psycopg.connect(pg_database.dsn) as conn:
        on_native, on_reference = _dump(conn, f"evonat_{n}"), _dump(conn, f"evoref_{n}")
    assert on_native.keys() == on_reference.keys()
    for table, rows in on_reference.items():
        assert on_native[table] == rows, table
