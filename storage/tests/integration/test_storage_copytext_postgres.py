"""Real PostgreSQL judges the native encoder: the same hostile batches loaded on the native
path and on the Python reference path leave the same rows in every table, and the same
number of bad rows."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.storage.postgres import PostgresLoader
from plowline.storage.testing.hostile import BASE_LINES, hostile_line, kinds_schemas
from psycopg import sql

pytestmark = pytest.mark.postgres
_EXAMPLE = itertools.count()  # each example loads into schemas of its own


def _dump(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[str]]:
    """Every table of a schema (but the load manifest) as sorted COPY lines."""
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name <> 'plowline_load_manifest'",
        (schema,),
    ).fetchall()
    out: dict[str, list[str]] = {}
    for (table,) in tables:
        query = sql.SQL("COPY (SELECT * FROM {}.{}) TO STDOUT").format(
            sql.Identifier(schema), sql.Identifier(table)
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
