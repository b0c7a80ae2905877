"""Schema evolution against a real PostgreSQL, on the native and the Python path alike:
columns widen as SchemaVer allows and never narrow, a value that does not fit its column is a
bad row of its own event (never a wrong number, never a stuck batch), and two schemas whose
table names collide each keep their values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from plowline.storage.postgres import PostgresLoader, is_data_error, is_outage
from plowline.storage.schemas import StaticSchemas, second_table_name, table_name
from plowline.storage.testing import check_bad_row
from plowline.storage.testing.events import contexts, enriched_lines, with_fields
from plowline.storage.testing.evolution import EVO_SCHEMAS, evo_lines

pytestmark = pytest.mark.postgres

EVO_TABLE = table_name("com.acme", "evo", 1)
PATHS = [
    pytest.param({"native": True, "entity_copy": "binary"}, id="native-binary"),
    pytest.param({"native": True, "entity_copy": "text"}, id="native-text"),
    pytest.param({"native": False}, id="python"),
]


@pytest.fixture
def dsn(pg_database: Any) -> str:
    return str(pg_database.dsn)


def _loader(dsn: str, path: dict[str, Any], **options: Any) -> PostgresLoader:
    schemas = options.pop("schemas", StaticSchemas(EVO_SCHEMAS))
    loader = PostgresLoader(dsn, schemas=schemas, **path, **options)
    loader.setup()
    return loader


def _types(dsn: str, table: str) -> dict[str, tuple[str, bool]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
            " FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0"
            " AND NOT a.attisdropped",
            (f'atomic."{table}"',),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


def _messages(bad: list[bytes]) -> list[str]:
    return [json.dumps(check_bad_row(b)["failure"]) for b in bad]


@pytest.mark.parametrize("path", PATHS)
def test_integer_to_number_in_a_fresh_loader_stores_the_number(
    dsn: str, path: dict[str, Any]
) -> None:
    """Issue 15 item 1: 1-0-0 made `amount` BIGINT; a loader that first sees 1-0-1 (number)
    stored 1.5 as its float's bit pattern (4609434218613702656) on the native path."""
    with _loader(dsn, path) as first:
        assert first.load(evo_lines("1-0-0", {"code": "a", "amount": 7}, 2, seed=1)).loaded == 2
    assert _types(dsn, EVO_TABLE)["amount"][0] == "bigint"
    with _loader(dsn, path) as later:  # another process: knows the table only from PostgreSQL
        batch = evo_lines("1-0-1", {"code": "b", "amount": 1.5}, 3, seed=2)
        batch += evo_lines("1-0-1", {"code": "c", "amount": 12}, 1, seed=3)
        result = later.load(batch)
    amounts = _rows(dsn, f"SELECT amount FROM atomic.{EVO_TABLE} ORDER BY amount")  # noqa: S608
    assert amounts == [(1.5,), (1.5,), (1.5,), (7.0,), (7.0,), (12.0,)]  # no 4609434218613702656
    assert (result.loaded, result.bad) == (4, [])
    assert _types(dsn, EVO_TABLE)["amount"][0] == "double precision"


@pytest.mark.parametrize("path", PATHS)
def test_an_incompatible_type_change_is_a_bad_row_and_the_rest_loads(
    dsn: str, path: dict[str, Any]
) -> None:
    """Issue 15 item 2: integer -> string/boolean made PostgreSQL answer `ProtocolViolation:
    insufficient data left in message` on the native path; the loader took it for an outage,
    retried and gave up, and every restart met the same batch."""
    with _loader(dsn, path) as first:
        assert first.load(evo_lines("1-0-0", {"code": "a", "amount": 7}, 1, seed=1)).loaded == 1
    batches = []
    for n, (version, value) in enumerate((("1-1-0", "abc"), ("1-1-1", True))):
        # A new process whose first batch holds only the new version (the case).
        batch = evo_lines(version, {"code": "b", "amount": value}, 2, seed=10 + n)
        batch += evo_lines(version, {"code": "c"}, 1, seed=20 + n)  # no value: nothing to refuse
        with _loader(dsn, path, retry_for=1.0) as later:
            result = later.load(batch)
            assert later.reconnects == 0
            mixed = evo_lines(version, {"code": "d", "amount": value}, 1, seed=30 + n)
            mixed += evo_lines("1-0-0", {"code": "e", "amount": 8}, 2, seed=40 + n)
            again = later.load(mixed)
        assert (result.loaded, len(result.bad)) == (1, 2)
        assert (again.loaded, len(again.bad)) == (2, 1)
        for message in _messages(result.bad + again.bad):
            assert "RowDecodingError" in message
            assert "amount" in message
            assert "incompatible type change" in message
        batches.append(batch)
    assert _types(dsn, EVO_TABLE)["amount"][0] == "bigint"  # never narrowed to text
    assert _rows(dsn, f"SELECT count(*) FROM atomic.{EVO_TABLE}") == [(7,)]  # noqa: S608
    assert _rows(dsn, "SELECT count(*) FROM atomic.events") == [(7,)]
    with _loader(dsn, path, retry_for=1.0) as restarted:  # the same batches again: done already
        assert all(restarted.load(batch).skipped for batch in batches)


@pytest.mark.parametrize("path", PATHS)
def test_legal_schemaver_changes_widen_columns_and_never_narrow(
    dsn: str, path: dict[str, Any]
) -> None:
    """Issue 15 item 4: maxLength 10 -> 100, maximum removed, integer -> number and a
    required property made optional changed no column, so every new value was a bad row."""
    with _loader(dsn, path) as loader:
        old = {"label": "short", "count": 100, "amount": 3, "code": "abcd"}
        assert loader.load(evo_lines("1-0-0", old, 2, seed=1)).loaded == 2
        before = _types(dsn, EVO_TABLE)
        assert before["label"] == ("character varying(10)", False)
        assert before["count"] == ("integer", False)
        assert before["code"] == ("character varying(4)", True)
        new = {"label": "l" * 100, "count": 2**40, "amount": 2.25}  # code: now optional
        result = loader.load(evo_lines("1-0-1", new, 3, seed=2))
        assert (result.loaded, result.bad) == (3, [])
        wide = {"label": "x", "count": 1, "code": "c" * 300}
        assert loader.load(evo_lines("1-0-1", wide, 1, seed=3)).loaded == 1
        after = _types(dsn, EVO_TABLE)
        assert after["label"] == ("character varying(100)", False)
        assert after["count"] == ("bigint", False)
        assert after["amount"] == ("double precision", False)
        assert after["code"] == ("text", False)
        # A narrower version changes nothing; its values load into the wide columns.
        narrow = {"label": "abc", "count": 9, "amount": 4, "code": "zz"}
        assert loader.load(evo_lines("1-0-2", narrow, 1, seed=4)).loaded == 1
    with _loader(dsn, path) as fresh:  # another process, the narrow version first
        assert fresh.load(evo_lines("1-0-2", narrow, 1, seed=5)).loaded == 1
        assert fresh.load(evo_lines("1-0-1", new, 1, seed=6)).loaded == 1
        assert fresh.load(evo_lines("1-0-0", old, 1, seed=7)).loaded == 1
    assert _types(dsn, EVO_TABLE) == after
    rows = _rows(
        dsn,
        f"SELECT schema_version, count(*), min(length(label)), max(count), sum(amount)"  # noqa: S608
        f" FROM atomic.{EVO_TABLE} GROUP BY 1 ORDER BY 1",
    )
    assert rows == [
        ("1-0-0", 3, 5, 100, 9.0),
        ("1-0-1", 5, 1, 2**40, 2.25 * 4),
        ("1-0-2", 2, 3, 9, 8.0),
    ]


@pytest.mark.parametrize("path", PATHS[::2])
def test_a_column_that_cannot_widen_makes_bad_rows_not_a_halt(
    dsn: str, path: dict[str, Any]
) -> None:
    """PostgreSQL refuses to change the type of a column a view uses: the loader goes on,
    and only the values that need the wider type are bad rows."""
    with _loader(dsn, path) as first:
        assert first.load(evo_lines("1-0-0", {"code": "a", "amount": 7}, 1, seed=1)).loaded == 1
    with psycopg.connect(dsn) as conn:
        conn.execute(f"CREATE VIEW amounts AS SELECT amount FROM atomic.{EVO_TABLE}")  # noqa: S608
    batch = evo_lines("1-0-1", {"code": "b", "amount": 1.5}, 1, seed=2)
    batch += evo_lines("1-0-1", {"code": "c", "amount": 9}, 2, seed=3)
    with _loader(dsn, path, retry_for=1.0) as later:
        result = later.load(batch)
    assert result.loaded == 2
    [message] = _messages(result.bad)
    assert "cannot widen" in message
    assert _types(dsn, EVO_TABLE)["amount"][0] == "bigint"
    assert _rows(dsn, "SELECT amount FROM amounts ORDER BY 1") == [(7,), (9,), (9,)]


@pytest.mark.parametrize("path", PATHS)
def test_a_column_changed_by_hand_to_a_type_the_loader_never_makes(
    dsn: str, path: dict[str, Any]
) -> None:
    """A NUMERIC column has no binary form the native encoder writes: its table's rows go as
    text, and PostgreSQL judges every value (bad rows for what it refuses)."""
    with _loader(dsn, path) as first:
        assert first.load(evo_lines("1-0-0", {"code": "a", "amount": 7}, 1, seed=1)).loaded == 1
    with psycopg.connect(dsn) as conn:
        conn.execute(f"ALTER TABLE atomic.{EVO_TABLE} ALTER COLUMN amount TYPE NUMERIC(6, 2)")
    batch = evo_lines("1-0-1", {"code": "b", "amount": 1.5}, 2, seed=2)
    batch += evo_lines("1-0-1", {"code": "c", "amount": 1e9}, 1, seed=3)  # over NUMERIC(6, 2)
    batch += evo_lines("1-0-0", {"code": "d", "amount": 8}, 1, seed=4)
    with _loader(dsn, path, retry_for=1.0) as later:
        result = later.load(batch)
        assert later.reconnects == 0
    assert result.loaded == 3
    [message] = _messages(result.bad)
    assert "numeric field overflow" in message
    assert _types(dsn, EVO_TABLE)["amount"][0] == "numeric(6,2)"
    amounts = _rows(dsn, f"SELECT code, amount::text FROM atomic.{EVO_TABLE} ORDER BY 1")  # noqa: S608
    assert amounts == [("a", "7.00"), ("b", "1.50"), ("b", "1.50"), ("d", "8.00")]


@pytest.mark.parametrize("path", PATHS[:2])
def test_a_column_another_loader_widened_is_read_again_before_copy(
    dsn: str, path: dict[str, Any]
) -> None:
    """Widening must not corrupt a second loader (another worker or process) that still
    encodes the old column type: a BIGINT's 8 bytes in a DOUBLE PRECISION column would be a
    wrong number without any error."""
    with _loader(dsn, path) as a, _loader(dsn, path) as b:
        assert a.load(evo_lines("1-0-0", {"code": "a", "amount": 5}, 1, seed=1)).loaded == 1
        assert b.load(evo_lines("1-0-0", {"code": "b", "amount": 6}, 1, seed=2)).loaded == 1
        staged = b.stage(evo_lines("1-0-0", {"code": "c", "amount": 7}, 1, seed=3))
        assert staged.encoded is not None  # encoded for a BIGINT column
        assert a.load(evo_lines("1-0-1", {"code": "e", "amount": 0.5}, 1, seed=4)).loaded == 1
        assert b.apply(staged).loaded == 1
        assert b.load(evo_lines("1-0-0", {"code": "d", "amount": 8}, 1, seed=5)).loaded == 1
    amounts = _rows(dsn, f"SELECT code, amount FROM atomic.{EVO_TABLE} ORDER BY 1")  # noqa: S608
    assert amounts == [("a", 5.0), ("b", 6.0), ("c", 7.0), ("d", 8.0), ("e", 0.5)]


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


def _entity_lines(uri: str, data: dict[str, Any], count: int, seed: int) -> list[bytes]:
    ctx = contexts({"schema": uri, "data": data})
    return [
        with_fields(line, contexts=ctx, derived_contexts="", unstruct_event="")
        for line in enriched_lines(count, seed=seed)
    ]


@pytest.mark.parametrize("path", PATHS)
def test_schemas_whose_table_names_collide_get_a_table_each(dsn: str, path: dict[str, Any]) -> None:
    """Issue 15 item 3: `foo_bar` and `fooBar` both make com_acme_col_foo_bar_1; the second
    schema's column was never added and its values were dropped, the event reported loaded."""
    plain = table_name("com.acme.col", "foo_bar", 1)
    assert table_name("com.acme.col", "fooBar", 1) == plain
    other = second_table_name("com.acme.col", "fooBar", 1)
    foo_bar, foo_camel = list(COLLIDING)
    schemas = StaticSchemas(COLLIDING)
    with _loader(dsn, path, schemas=schemas) as loader:
        assert loader.load(_entity_lines(foo_bar, {"first": "x"}, 2, seed=1)).loaded == 2
        assert loader.load(_entity_lines(foo_camel, {"second": 5}, 3, seed=2)).loaded == 3
        mixed = _entity_lines(foo_bar, {"first": "y"}, 1, seed=3)
        mixed += _entity_lines(foo_camel, {"second": 6}, 1, seed=4)
        assert loader.load(mixed).loaded == 2
    with _loader(dsn, path, schemas=schemas) as fresh:  # another process, the other one first
        assert fresh.load(_entity_lines(foo_camel, {"second": 7}, 1, seed=5)).loaded == 1
        assert fresh.load(_entity_lines(foo_bar, {"first": "z"}, 1, seed=6)).loaded == 1
    assert "second" not in _types(dsn, plain)
    assert "first" not in _types(dsn, other)
    firsts = _rows(dsn, f'SELECT schema_name, first FROM atomic."{plain}" ORDER BY 2')  # noqa: S608
    assert firsts == [("foo_bar", "x"), ("foo_bar", "x"), ("foo_bar", "y"), ("foo_bar", "z")]
    seconds = _rows(dsn, f'SELECT schema_name, second FROM atomic."{other}" ORDER BY 2')  # noqa: S608
    assert seconds == [("fooBar", 5)] * 3 + [("fooBar", 6), ("fooBar", 7)]


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def test_a_refused_copy_tuple_is_data_and_a_lost_connection_an_outage(
    dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """The errors PostgreSQL really raises, classified: a binary COPY field of the wrong
    size (08P01 on a live connection) is about the data; a killed backend is an outage."""
    conn.execute("CREATE TABLE t (n BIGINT)")
    stream = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    stream += b"\x00\x01" + (1).to_bytes(4, "big") + b"\x01"  # 1 byte for a BIGINT
    stream += b"\xff\xff"
    with (
        pytest.raises(psycopg.Error) as refused,
        conn.cursor() as cur,
        cur.copy("COPY t (n) FROM STDIN (FORMAT binary)") as copy,
    ):
        copy.write(stream)
    assert isinstance(refused.value, psycopg.errors.ProtocolViolation)
    assert not is_outage(refused.value, conn)
    assert is_data_error(refused.value, conn)
    assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is fine
    pid = conn.info.backend_pid
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError) as lost:
        conn.execute("SELECT 1")
    assert is_outage(lost.value, conn)
    assert not is_data_error(lost.value, conn)
