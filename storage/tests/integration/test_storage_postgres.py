"""The PostgreSQL loader against a real PostgreSQL: layout, bad rows, evolution, idempotency."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from plowline.conformance.services.pytest_plugin import require_control
from plowline.storage.postgres import PostgresLoader
from plowline.storage.runner import run_batches
from plowline.storage.schemas import DirectorySchemas, StaticSchemas, table_name
from plowline.storage.streams import Record, open_sink, open_source
from plowline.storage.streams.memory import reset
from plowline.storage.testing import check_bad_row
from plowline.storage.testing.events import ENTITY_TABLES, contexts, enriched_lines, with_fields
from plowline.storage.testing.evolution import lines_with, write_schemas

pytestmark = pytest.mark.postgres


def count(dsn: str, table: str, where: str = "") -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f'SELECT count(*) FROM atomic."{table}" {where}').fetchone()  # noqa: S608
    assert row is not None
    return int(row[0])


def columns(dsn: str, table: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'atomic' AND table_name = %s",
            (table,),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture
def dsn(pg_database: Any) -> str:
    return str(pg_database.dsn)


@pytest.fixture
def loader(dsn: str) -> Any:
    pg = PostgresLoader(dsn)
    pg.setup()
    yield pg
    pg.close()


def test_atomic_events_layout(loader: PostgresLoader, dsn: str) -> None:
    cols = columns(dsn, "events")
    assert len(cols) == 129  # the 128 non-JSON enriched fields and load_tstamp
    assert cols["load_tstamp"] == ("timestamp without time zone", "YES")
    assert cols["geo_region"][0] == "character varying"
    assert cols["event_id"] == ("uuid", "NO")
    for name in ("collector_tstamp", "v_collector", "v_etl"):
        assert cols[name][1] == "NO"
    assert cols["app_id"][1] == "YES"
    assert cols["tr_total"][0] == "double precision"
    assert cols["br_features_pdf"][0] == "boolean"
    assert cols["derived_tstamp"][0] == "timestamp without time zone"
    assert "contexts" not in cols
    assert "unstruct_event" not in cols


def test_events_and_entities_load_once(loader: PostgresLoader, dsn: str) -> None:
    lines = list(enriched_lines(3000))
    first = loader.load(lines[:2000])
    second = loader.load(lines[2000:])
    assert (first.loaded, second.loaded, first.bad, second.bad) == (2000, 1000, [], [])
    again = loader.load(lines[:2000])
    assert again.skipped
    assert again.loaded == 0
    assert count(dsn, "events") == 3000
    assert count(dsn, ENTITY_TABLES[0]) == 3000
    assert count(dsn, ENTITY_TABLES[3]) == 1000  # every third event is a link click
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            'SELECT e.page_url, e.page_title, e.br_features_pdf, e.se_value, c."target_url",'
            " c.element_classes, c.root_tstamp = e.collector_tstamp, c.ref_tree"
            " FROM atomic.events e JOIN atomic.com_snowplowanalytics_snowplow_link_click_1 c"
            " ON c.root_id = e.event_id ORDER BY e.collector_tstamp LIMIT 1"
        ).fetchone()
    assert row == (
        "https://shop.example.com/p/2?q=a+b%20c\\d",
        "Product — ünïcödé",
        False,
        12.99,
        "https://example.org/2",
        ["btn", "primary"],
        True,
        '["events", "link_click"]',
    )
    session_cols = columns(dsn, "com_snowplowanalytics_snowplow_client_session_1")
    assert session_cols["session_id"] == ("uuid", "NO")
    assert session_cols["session_index"][0] == "integer"  # the schema bounds it to 32 bits
    assert session_cols["first_event_timestamp"][0] == "timestamp without time zone"


def test_bad_lines_become_loader_bad_rows(loader: PostgresLoader, dsn: str) -> None:
    good = list(enriched_lines(10))
    bad_inputs = [
        b"only\ttwo",
        b"no tabs at all",
        good[0].replace(b"\t", b"\t\t", 1),  # 132 fields
        good[1].replace(b"shop", b"sh\xffop"),  # invalid UTF-8
        with_fields(good[2], geo_country="GBR"),  # over CHAR(2)
        with_fields(good[3], txn_id="12x"),
        with_fields(good[4], event_id="not-a-uuid"),
        with_fields(good[5], v_etl=""),  # NOT NULL
        with_fields(good[6], page_title="a\x00b"),
        with_fields(
            good[7],
            contexts=contexts({"schema": "iglu:com.acme/nope/jsonschema/1-0-0", "data": {}}),
        ),
        with_fields(good[8], contexts="{not json"),
    ]
    result = loader.load([*bad_inputs, good[9]])
    assert result.loaded == 1
    assert len(result.bad) == len(bad_inputs)
    failures = [check_bad_row(b)["failure"] for b in result.bad]
    types = sorted(f["type"] for f in failures)
    assert types.count("FieldNumberMismatch") == 2
    assert types.count("NotTSV") == 1
    keys = {e.get("key") for f in failures if f["type"] == "RowDecodingError" for e in f["errors"]}
    assert {"geo_country", "txn_id", "event_id", "v_etl", "page_title", "contexts"} <= keys
    assert count(dsn, "events") == 1


def test_entity_value_over_its_column_limit_is_a_bad_row(tmp_path: Path, dsn: str) -> None:
    lines = lines_with("1-0-0", {"sku": "x" * 21}, 1, seed=1) + lines_with(
        "1-0-0", {"sku": "ok", "quantity": 3}, 1, seed=2
    )
    with PostgresLoader(dsn, schemas=DirectorySchemas([write_schemas(tmp_path)])) as loader:
        loader.setup()
        result = loader.load(lines)
    assert result.loaded == 1
    [bad] = result.bad
    assert "longer than 20" in str(check_bad_row(bad)["failure"])


@pytest.fixture
def acme_loader(tmp_path: Path, dsn: str) -> Any:
    with PostgresLoader(dsn, schemas=DirectorySchemas([write_schemas(tmp_path)])) as loader:
        loader.setup()
        yield loader


def test_schema_evolution(tmp_path: Path, dsn: str, acme_loader: PostgresLoader) -> None:
    loader = acme_loader
    v1 = table_name("com.acme", "cartItem", 1)
    assert loader.load(lines_with("1-0-0", {"sku": "a", "quantity": 1}, 5, seed=1)).loaded == 5
    assert set(columns(dsn, v1)) >= {"sku", "quantity"}
    assert "price_detail.unit_price" not in columns(dsn, v1)
    data = {"sku": "b", "priceDetail": {"unitPrice": 9.5}}
    assert loader.load(lines_with("1-0-1", data, 4, seed=2)).loaded == 4
    cols = columns(dsn, v1)
    assert cols["price_detail.unit_price"] == ("double precision", "YES")
    assert count(dsn, v1) == 9
    assert count(dsn, v1, "WHERE sku = 'a' AND quantity = 1") == 5  # old rows kept
    assert count(dsn, v1, 'WHERE "price_detail.unit_price" = 9.5') == 4
    # A fresh loader (another process) sees the widened table and loads both versions.
    mixed = lines_with("1-0-0", {"sku": "c"}, 2, seed=3) + lines_with("1-0-1", data, 2, seed=4)
    v2 = table_name("com.acme", "cartItem", 2)
    with PostgresLoader(dsn, schemas=DirectorySchemas([tmp_path])) as later:
        assert later.load(mixed).loaded == 4
        assert later.load(lines_with("2-0-0", {"sku": 7, "tags": ["x"]}, 3, seed=5)).loaded == 3
    assert columns(dsn, v2)["sku"] == ("bigint", "NO")
    assert columns(dsn, v2)["tags"][0] == "jsonb"
    assert count(dsn, v2) == 3
    assert count(dsn, v1) == 13


def test_rows_built_while_staging_survive_refusal_and_new_columns(
    dsn: str, acme_loader: PostgresLoader
) -> None:
    loader = acme_loader
    v1 = table_name("com.acme", "cartItem", 1)
    # First sight of the table: DDL and rows in apply.
    assert loader.load(lines_with("1-0-0", {"sku": "a", "quantity": 1}, 3, seed=1)).loaded == 3
    # The table is known now: stage builds the COPY texts; PostgreSQL refuses one line.
    good = lines_with("1-0-0", {"sku": "d"}, 2, seed=2)
    staged = loader.stage([with_fields(good[0], txn_id="12x"), good[1]])
    assert staged.encoded is not None
    result = loader.apply(staged)
    assert result.loaded == 1
    [bad] = result.bad
    assert "txn_id" in str(check_bad_row(bad)["failure"])
    # Staged with the 1-0-0 columns, applied after a 1-0-1 batch added a column: rebuilt.
    early = loader.stage(lines_with("1-0-0", {"sku": "b"}, 2, seed=3))
    assert early.encoded is not None
    data = {"sku": "c", "priceDetail": {"unitPrice": 2.5}}
    assert loader.load(lines_with("1-0-1", data, 2, seed=4)).loaded == 2
    late = loader.apply(early)
    assert (late.loaded, late.bad) == (2, [])
    assert count(dsn, v1) == 3 + 1 + 2 + 2
    assert count(dsn, v1, "WHERE sku = 'b' AND \"price_detail.unit_price\" IS NULL") == 2
    assert count(dsn, "events") == 3 + 1 + 2 + 2


def test_jsonb_entity_mode(dsn: str) -> None:
    with PostgresLoader(dsn, entity_mode="jsonb") as loader:
        loader.setup()
        assert loader.load(list(enriched_lines(30))).loaded == 30
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT data->>'targetUrl' FROM atomic.com_snowplowanalytics_snowplow_link_click_1"
            " ORDER BY root_tstamp LIMIT 1"
        ).fetchone()
    assert row == ("https://example.org/2",)
    assert set(columns(dsn, ENTITY_TABLES[0])) >= {"data", "root_id", "ref_tree"}


hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/"),
    min_size=1,
    max_size=80,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(vendor=hostile, name=hostile, prop=hostile)
def test_hostile_schema_names_are_quoted(dsn: str, vendor: str, name: str, prop: str) -> None:
    uri = f"iglu:{vendor}/{name}/jsonschema/1-0-0"
    schema = {"type": "object", "properties": {prop: {"type": "string"}}}
    [line] = list(enriched_lines(1, seed=len(vendor) * 1000 + len(name)))
    line = with_fields(
        line,
        contexts=contexts({"schema": uri, "data": {prop: "v"}}),
        derived_contexts="",
        unstruct_event="",
    )
    schemas = StaticSchemas({uri: schema})
    with PostgresLoader(dsn, schema="hostile", schemas=schemas, retry_for=0) as loader:
        loader.setup()
        result = loader.load([line], batch=uri + prop)
    table = table_name(vendor, name, 1)
    if "\x00" in vendor + name or len(vendor) > 128 or len(name) > 128:
        assert result.loaded == 0  # no database can name a table with a NUL: a bad row
        [bad] = result.bad
        check_bad_row(bad)
        return
    assert result.loaded == 1 or result.skipped, result.bad
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hostile'"
            " AND table_name = %s",
            (table,),
        ).fetchone()
        assert found == (1,)
        assert conn.execute("SELECT count(*) FROM hostile.events").fetchone() is not None


def test_loader_survives_a_postgres_restart(postgres: Any, dsn: str) -> None:
    require_control(postgres)
    topic = "restart-" + str(time.monotonic_ns())
    lines = list(enriched_lines(6000, seed=11))
    sink = open_sink(f"memory://{topic}")
    sink.write([Record(v) for v in lines])
    source = open_source(f"memory://{topic}?group=pg")
    loader = PostgresLoader(dsn, retry_for=120)
    loader.setup()

    from plowline.storage.runner import Stopper

    stop = Stopper()
    done = threading.Event()
    out: dict[str, Any] = {}

    def work() -> None:
        out["progress"] = run_batches(
            source,
            loader,
            batch_size=300,
            max_wait=0.5,
            idle_exit=3.0,
            stop=stop,
            out=io.StringIO(),
        )
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 60
    while count(dsn, "events") < 600 and time.monotonic() < deadline:
        time.sleep(0.05)
    postgres.restart()
    thread.join(timeout=240)
    loader.close()
    source.close()
    assert done.is_set()
    assert count(dsn, "events") == 6000
    with psycopg.connect(dsn) as conn:
        distinct = conn.execute("SELECT count(DISTINCT event_id) FROM atomic.events").fetchone()
        entity = conn.execute(
            "SELECT count(*), count(DISTINCT root_id) FROM "
            "atomic.com_snowplowanalytics_snowplow_web_page_1"
        ).fetchone()
    assert distinct == (6000,)
    assert entity == (6000, 6000)
    assert loader.reconnects >= 1
    reset(topic)
