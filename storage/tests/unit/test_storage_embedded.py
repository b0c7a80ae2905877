"""The embedded (SQLite) store: same tables, same bad rows, evolution, idempotency."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from plowline.storage.atomic import atomic_columns
from plowline.storage.embedded import EmbeddedLoader
from plowline.storage.schemas import (
    DirectorySchemas,
    StaticSchemas,
    second_table_name,
    table_name,
)
from plowline.storage.testing import check_bad_row
from plowline.storage.testing.events import ENTITY_TABLES, contexts, enriched_lines, with_fields
from plowline.storage.testing.evolution import EVO_SCHEMAS, evo_lines, lines_with, write_schemas


def count(db: Path, table: str, where: str = "") -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}" {where}').fetchone()  # noqa: S608
    return int(row[0])


def cols(db: Path, table: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "plowline.sqlite"


def test_events_entities_and_reload(db: Path) -> None:
    lines = list(enriched_lines(90))
    with EmbeddedLoader(db) as loader:
        loader.setup()
        assert loader.load(lines).loaded == 90
        assert loader.load(lines).skipped
        # the attached name works as on PostgreSQL
        row = loader.conn.execute("SELECT count(*) FROM atomic.events").fetchone()
        assert row == (90,)
    assert count(db, "events") == 90
    assert cols(db, "events") == [*(f.name for f in atomic_columns()), "load_tstamp"]
    assert count(db, ENTITY_TABLES[0]) == 90
    assert count(db, ENTITY_TABLES[3]) == 30
    assert cols(db, ENTITY_TABLES[3])[:9] == [
        "schema_vendor",
        "schema_name",
        "schema_format",
        "schema_version",
        "root_id",
        "root_tstamp",
        "ref_root",
        "ref_tree",
        "ref_parent",
    ]
    with sqlite3.connect(db) as conn:
        typed = conn.execute(
            "SELECT typeof(br_cookies), typeof(geo_latitude), typeof(page_urlport) FROM events"
        ).fetchone()
    assert typed == ("integer", "real", "integer")


def test_bad_rows(db: Path) -> None:
    good = list(enriched_lines(4))
    with EmbeddedLoader(db) as loader:
        loader.setup()
        result = loader.load(
            [
                good[0],
                b"x\ty",
                with_fields(good[1], geo_region="ABCD"),
                with_fields(
                    good[2], contexts=contexts({"schema": "iglu:x/y/jsonschema/1-0-0", "data": {}})
                ),
                good[3][:-5] + b"\xff",
            ]
        )
    assert result.loaded == 1
    assert len(result.bad) == 4
    for bad in result.bad:
        check_bad_row(bad)
    assert count(db, "events") == 1


def test_evolution(db: Path, tmp_path: Path) -> None:
    schemas = DirectorySchemas([write_schemas(tmp_path / "schemas")])
    with EmbeddedLoader(db, schemas=schemas) as loader:
        loader.setup()
        assert loader.load(lines_with("1-0-0", {"sku": "a", "quantity": 2}, 3, seed=1)).loaded == 3
        v1 = table_name("com.acme", "cartItem", 1)
        assert "price_detail.unit_price" not in cols(db, v1)
        data = {"sku": "b", "priceDetail": {"unitPrice": 1.5}}
        assert loader.load(lines_with("1-0-1", data, 2, seed=2)).loaded == 2
        assert "price_detail.unit_price" in cols(db, v1)
        assert loader.load(lines_with("2-0-0", {"sku": 3}, 1, seed=3)).loaded == 1
    assert count(db, v1, "WHERE sku = 'a' AND quantity = 2") == 3
    assert count(db, v1, 'WHERE "price_detail.unit_price" = 1.5') == 2
    assert count(db, table_name("com.acme", "cartItem", 2)) == 1


def test_legal_schemaver_changes_widen_and_incompatible_values_are_bad_rows(db: Path) -> None:
    """Issue 15 item 4, in the embedded store: SQLite stores anything, but values are judged
    by the columns PostgreSQL would have, widened as SchemaVer allows."""
    with EmbeddedLoader(db, schemas=StaticSchemas(EVO_SCHEMAS)) as loader:
        loader.setup()
        old = {"label": "short", "count": 100, "amount": 3, "code": "abcd"}
        assert loader.load(evo_lines("1-0-0", old, 1, seed=1)).loaded == 1
        new = {"label": "l" * 100, "count": 2**40, "amount": 2.25, "code": "c" * 30}
        result = loader.load(evo_lines("1-0-1", new, 2, seed=2))
        assert (result.loaded, result.bad) == (2, [])
        narrow = {"label": "abc", "count": 9, "amount": 4, "code": "zz"}
        assert loader.load(evo_lines("1-0-2", narrow, 1, seed=3)).loaded == 1
        again = loader.load(evo_lines("1-0-1", new, 1, seed=4))  # still wide after 1-0-2
        assert (again.loaded, again.bad) == (1, [])
        mixed = evo_lines("1-1-0", {"code": "e", "amount": "abc"}, 1, seed=5)
        mixed += evo_lines("1-0-0", old, 1, seed=6)
        result = loader.load(mixed)
    assert result.loaded == 1
    [bad] = result.bad
    assert "amount" in str(check_bad_row(bad)["failure"])
    table = table_name("com.acme", "evo", 1)
    assert count(db, table, "WHERE amount = 2.25") == 3


COLLIDING = {
    "iglu:com.acme.col/foo_bar/jsonschema/1-0-0": {
        "type": "object",
        "properties": {"first": {"type": "string"}},
    },
    "iglu:com.acme.col/fooBar/jsonschema/1-0-0": {
        "type": "object",
        "properties": {"second": {"type": "integer"}},
    },
}


def _entity_lines(uri: str, data: dict[str, object], seed: int) -> list[bytes]:
    ctx = contexts({"schema": uri, "data": data})
    return [
        with_fields(line, contexts=ctx, derived_contexts="", unstruct_event="")
        for line in enriched_lines(1, seed=seed)
    ]


def test_schemas_whose_table_names_collide_get_a_table_each(db: Path) -> None:
    """Issue 15 item 3, in the embedded store: the second schema's values were dropped."""
    foo_bar, foo_camel = list(COLLIDING)
    plain = table_name("com.acme.col", "foo_bar", 1)
    other = second_table_name("com.acme.col", "fooBar", 1)
    with EmbeddedLoader(db, schemas=StaticSchemas(COLLIDING)) as loader:
        loader.setup()
        assert loader.load(_entity_lines(foo_bar, {"first": "x"}, seed=1)).loaded == 1
        assert loader.load(_entity_lines(foo_camel, {"second": 5}, seed=2)).loaded == 1
    with EmbeddedLoader(db, schemas=StaticSchemas(COLLIDING)) as fresh:  # the other one first
        assert fresh.load(_entity_lines(foo_camel, {"second": 6}, seed=3)).loaded == 1
        assert fresh.load(_entity_lines(foo_bar, {"first": "y"}, seed=4)).loaded == 1
    assert "second" not in cols(db, plain)
    assert "first" not in cols(db, other)
    assert count(db, plain, "WHERE schema_name = 'foo_bar' AND first IN ('x', 'y')") == 2
    assert count(db, other, "WHERE schema_name = 'fooBar' AND second IN (5, 6)") == 2
    assert count(db, plain) == 2
    assert count(db, other) == 2


def test_jsonb_mode(db: Path) -> None:
    with EmbeddedLoader(db, entity_mode="jsonb") as loader:
        loader.setup()
        assert loader.load(list(enriched_lines(6))).loaded == 6
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT json_extract(data, '$.targetUrl') FROM "
            "com_snowplowanalytics_snowplow_link_click_1 ORDER BY root_tstamp LIMIT 1"
        ).fetchone()
    assert row == ("https://example.org/2",)


hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=60
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(vendor=hostile, name=hostile, prop=hostile)
def test_hostile_names(tmp_path: Path, vendor: str, name: str, prop: str) -> None:
    uri = f"iglu:{vendor}/{name}/jsonschema/1-0-0"
    schemas = StaticSchemas({uri: {"type": "object", "properties": {prop: {"type": "string"}}}})
    [line] = list(enriched_lines(1))
    line = with_fields(
        line,
        contexts=contexts({"schema": uri, "data": {prop: "v"}}),
        derived_contexts="",
        unstruct_event="",
    )
    db = tmp_path / f"h{abs(hash((vendor, name, prop)))}.sqlite"
    with EmbeddedLoader(db, schemas=schemas) as loader:
        loader.setup()
        assert loader.load([line]).loaded == 1
    with sqlite3.connect(db) as conn:
        table = table_name(vendor, name, 1)
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        assert (table,) in rows
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_load_tstamp_is_the_batch_load_time_from_the_clock(db: Path) -> None:
    """Issue 20: atomic.events has load_tstamp (dbt-snowplow-web's consent and CWV modules
    read it), the injected clock's time of the batch, in the enriched timestamp format."""
    clock = iter([datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), datetime(2026, 1, 3)])
    with EmbeddedLoader(db, clock=lambda: next(clock)) as loader:
        loader.setup()
        lines = list(enriched_lines(3))
        assert loader.load(lines[:2]).loaded == 2
        assert loader.load(lines[2:]).loaded == 1
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT load_tstamp FROM events ORDER BY load_tstamp").fetchall()
    assert rows == [("2026-01-02 03:04:05.678",)] * 2 + [("2026-01-03 00:00:00.000",)]


def test_an_older_store_gains_load_tstamp_with_null_in_its_rows(db: Path) -> None:
    """A store made before load_tstamp: setup adds the column; old rows keep NULL."""
    names = ", ".join(f'"{f.name}"' for f in atomic_columns())
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE events ({names})")
        conn.execute("INSERT INTO events (app_id, event_id) VALUES ('old', 'x')")
    with EmbeddedLoader(db) as loader:
        loader.setup()
        loader.setup()  # idempotent
        assert loader.load(list(enriched_lines(1))).loaded == 1
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT app_id, load_tstamp IS NULL FROM events").fetchall()
    assert rows[0] == ("old", 1)
    assert rows[1][1] == 0


def test_event_ids_text_accepts_ids_that_are_not_uuids(db: Path) -> None:
    """event_ids='text' takes any non-empty id (as Snowplow's BigQuery/Snowflake loaders
    do); the default keeps refusing them as invalid values."""
    line = with_fields(next(iter(enriched_lines(1))), event_id="order-42")
    with EmbeddedLoader(db) as strict:
        strict.setup()
        result = strict.load([line])
    assert result.loaded == 0
    assert "event_id" in str(check_bad_row(result.bad[0])["failure"])
    with EmbeddedLoader(db, event_ids="text") as loader:
        loader.setup()
        assert loader.load([line], batch="b2").loaded == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT event_id FROM events").fetchall() == [("order-42",)]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        roots = {
            r[0]
            for t in tables
            if t.startswith("com_")
            for r in conn.execute(f'SELECT root_id FROM "{t}"')  # noqa: S608
        }
    assert roots == {"order-42"}
