"""Issue 20: the warehouse layout dbt-snowplow-web reads, against a real PostgreSQL:
load_tstamp in atomic.events, geo_region without CHAR padding, JSON properties as TEXT
(json_columns='text'), ids that are not UUIDs (event_ids='text'), and the migrations that
bring tables made by an older loader to this layout."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from plowline.storage.atomic import atomic_columns
from plowline.storage.postgres import PostgresLoader, atomic_row
from plowline.storage.schemas import StaticSchemas, table_name
from plowline.storage.testing.events import contexts, enriched_lines, event_id, with_fields

pytestmark = pytest.mark.postgres

CONSENT = "iglu:com.acme/consent/jsonschema/1-0-0"
CONSENT_TABLE = table_name("com.acme", "consent", 1)
SCHEMAS = StaticSchemas(
    {
        CONSENT: {
            "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
            "self": {
                "vendor": "com.acme",
                "name": "consent",
                "format": "jsonschema",
                "version": "1-0-0",
            },
            "type": "object",
            "properties": {
                "basis": {"type": "string", "maxLength": 20},
                "scopes": {"type": "array", "items": {"type": "string"}},
                "extra": {"type": ["string", "integer", "null"]},
            },
            "required": ["basis"],
            "additionalProperties": False,
        }
    }
)


@pytest.fixture
def dsn(pg_database: Any) -> str:
    return str(pg_database.dsn)


def _rows(dsn: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def _types(dsn: str, table: str) -> dict[str, str]:
    rows = _rows(
        dsn,
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'atomic' AND c.relname = %s AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum",
        (table,),
    )
    return {r[0]: r[1] for r in rows}


def _consent_lines(count: int, seed: int, **data: Any) -> list[bytes]:
    ctx = contexts({"schema": CONSENT, "data": {"basis": "consent", **data}})
    return [
        with_fields(line, contexts=ctx, derived_contexts="", unstruct_event="")
        for line in enriched_lines(count, seed=seed)
    ]


def _old_events(dsn: str) -> None:
    """atomic.events as a loader before issue 20 made it: CHAR(3) geo_region, no load_tstamp."""
    cols = ", ".join(
        f'"{f.name}" ' + ("CHAR(3)" if f.name == "geo_region" else f.postgres or "")
        for f in atomic_columns()
    )
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS atomic")
        conn.execute(f"CREATE TABLE atomic.events ({cols})")


def test_fresh_events_table_has_load_tstamp_and_unpadded_geo_region(dsn: str) -> None:
    with PostgresLoader(dsn, native=False) as loader:
        loader.setup()
        lines = [with_fields(line, geo_region="CA") for line in enriched_lines(3, seed=1)]
        assert loader.load(lines).loaded == 3
        assert loader.load(list(enriched_lines(2, seed=2))).loaded == 2
    types = _types(dsn, "events")
    assert types["load_tstamp"] == "timestamp without time zone"
    assert types["geo_region"] == "character varying(3)"
    assert list(types)[-1] == "load_tstamp"  # after the enriched fields, as Snowplow's loaders
    rows = _rows(dsn, "SELECT geo_region FROM atomic.events WHERE geo_region IS NOT NULL")
    assert ("CA",) in rows
    assert all(len(r[0]) == len(r[0].rstrip()) for r in rows)
    # One load time per batch (its transaction), none missing, none in the future.
    stamps = _rows(
        dsn,
        "SELECT count(DISTINCT load_tstamp), count(*) FILTER (WHERE load_tstamp IS NULL),"
        " bool_and(load_tstamp <= now() AT TIME ZONE 'UTC')"
        " AND bool_and(load_tstamp >= collector_tstamp - interval '100 years') FROM atomic.events",
    )
    assert stamps == [(2, 0, True)]


def test_setup_migrates_an_older_events_table(dsn: str) -> None:
    _old_events(dsn)
    old = with_fields(next(enriched_lines(1, seed=3)), geo_region="CA")
    # A row an older loader wrote (COPY of its atomic fields), before the migration.
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        names = ", ".join(f'"{f.name}"' for f in atomic_columns())
        with cur.copy(f"COPY atomic.events ({names}) FROM STDIN (FORMAT text, NULL '')") as copy:
            copy.write(atomic_row(old.decode().split("\t")) + "\n")
    assert _rows(dsn, "SELECT geo_region FROM atomic.events") == [("CA ",)]  # CHAR padding
    with PostgresLoader(dsn, native=False) as loader:
        loader.setup()
        loader.setup()  # idempotent
        assert loader.load(list(enriched_lines(2, seed=4))).loaded == 2
    types = _types(dsn, "events")
    assert types["geo_region"] == "character varying(3)"
    assert types["load_tstamp"] == "timestamp without time zone"
    rows = _rows(
        dsn,
        "SELECT event_id::text, geo_region, load_tstamp IS NULL FROM atomic.events"
        " WHERE event_id = %s",
        (event_id(old),),
    )
    assert rows == [(event_id(old), "CA", True)]  # padding gone; its load time unknown
    assert _rows(dsn, "SELECT count(*) FROM atomic.events WHERE load_tstamp IS NOT NULL") == [(2,)]


@pytest.mark.parametrize("native", [None, False], ids=["auto", "python"])
def test_json_columns_text_stores_json_text_dbt_can_parse(dsn: str, native: bool | None) -> None:
    """dbt-snowplow-web's PostgreSQL SQL splits arrays out of text (translate, split_part):
    with json_columns='text' the array column is TEXT holding the JSON; a union-typed
    property keeps its JSON quotes."""
    with PostgresLoader(dsn, schemas=SCHEMAS, json_columns="text", native=native) as loader:
        loader.setup()
        lines = _consent_lines(2, seed=5, scopes=["necessary", "analytics"], extra="a")
        lines += _consent_lines(1, seed=6, scopes=[], extra=7)
        assert loader.load(lines).loaded == 3
    types = _types(dsn, CONSENT_TABLE)
    assert (types["scopes"], types["extra"], types["basis"]) == (
        "text",
        "text",
        "character varying(20)",
    )
    rows = _rows(
        dsn,
        f"SELECT scopes, extra, split_part(translate(scopes, '[]\"', ''), ',', 2)"  # noqa: S608
        f" FROM atomic.{CONSENT_TABLE} ORDER BY length(scopes) DESC",
    )
    assert rows == [
        ('["necessary","analytics"]', '"a"', "analytics"),
        ('["necessary","analytics"]', '"a"', "analytics"),
        ("[]", "7", ""),
    ]


def test_json_columns_text_migrates_a_jsonb_table(dsn: str) -> None:
    with PostgresLoader(dsn, schemas=SCHEMAS, native=False) as before:
        before.setup()
        assert before.load(_consent_lines(1, seed=7, scopes=["a"])).loaded == 1
    assert _types(dsn, CONSENT_TABLE)["scopes"] == "jsonb"
    with PostgresLoader(dsn, schemas=SCHEMAS, json_columns="text", native=False) as loader:
        loader.setup()
        assert loader.load(_consent_lines(1, seed=8, scopes=["b", "c"])).loaded == 1
    assert _types(dsn, CONSENT_TABLE)["scopes"] == "text"
    rows = _rows(dsn, f"SELECT scopes FROM atomic.{CONSENT_TABLE} ORDER BY scopes")  # noqa: S608
    assert rows == [('["a"]',), ('["b","c"]',)]  # jsonb's text form, then ours


def test_event_ids_text_loads_ids_that_are_not_uuids(dsn: str) -> None:
    """event_ids='text' (Python path): any id loads into TEXT event_id and root_id; real
    UUIDs keep their text; the default (UUID columns) makes such an id a bad row."""
    line = with_fields(next(enriched_lines(1, seed=9)), event_id="order-42")
    real = next(enriched_lines(1, seed=10))
    with PostgresLoader(dsn, native=False) as strict:
        strict.setup()
        assert strict.load(list(enriched_lines(1, seed=11))).loaded == 1
        refused = strict.load([line])
        assert (refused.loaded, len(refused.bad)) == (0, 1)
    assert _types(dsn, "events")["event_id"] == "uuid"
    with pytest.raises(ValueError, match="Python path"):
        PostgresLoader(dsn, event_ids="text", native=True)
    with PostgresLoader(dsn, event_ids="text") as loader:  # an existing table migrates
        loader.setup()
        result = loader.load([line, real])
        assert (result.loaded, result.bad) == (2, [])
    assert _types(dsn, "events")["event_id"] == "text"
    ids = {r[0] for r in _rows(dsn, "SELECT event_id FROM atomic.events")}
    assert {"order-42", event_id(real)} <= ids
    page = "com_snowplowanalytics_snowplow_web_page_1"
    assert _types(dsn, page)["root_id"] == "text"
    roots = {r[0] for r in _rows(dsn, f"SELECT root_id FROM atomic.{page}")}  # noqa: S608
    assert "order-42" in roots
