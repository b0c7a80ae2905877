"""Load enriched events into PostgreSQL: atomic.events plus one table per entity schema.

Each batch is one transaction: a manifest row keyed by the batch's content hash (so a
reloaded batch is skipped, never duplicated), then COPY into atomic.events and every entity
table. When PostgreSQL refuses a value the batch is validated in Python and, if needed,
bisected with savepoints until every refused event is isolated as a loader bad row.
Connection loss (e.g. a server restart) retries the whole batch on a new connection.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from plowline.storage import badrows, tsv
from plowline.storage.atomic import COLLECTOR_TSTAMP, EVENT_ID, atomic_columns
from plowline.storage.copyplans import (
    BINARY_HEADER,
    BINARY_TRAILER,
    PlanBook,
    PlanSpec,
    deferred_spec,
    encoder_name,
    native_batch_id,
    native_encode,
    native_wanted,
)
from plowline.storage.prepare import Event, Prepared, batch_id, batch_key, gc_paused, prepare
from plowline.storage.schemas import (
    META_COLUMNS,
    Column,
    DirectorySchemas,
    SchemaRef,
    SchemaStore,
    derive_columns,
    distinct,
    extract,
    ref_tree,
    second_table_name,
)
from psycopg import sql

log = logging.getLogger(__name__)

EntityMode = Literal["columns", "jsonb"]
# How entity properties of no scalar type (arrays, objects without properties, unions) are
# stored: JSONB, or their JSON as TEXT (what dbt-snowplow-web's PostgreSQL SQL reads: it
# parses arrays out of the text with translate/split_part, which do not take JSONB).
JsonColumns = Literal["jsonb", "text"]
# event_id and the entities' root_id as UUID (refusing other ids), or as TEXT: any id loads,
# as Snowplow's loaders for BigQuery and Snowflake store event_id as a string.
EventIds = Literal["uuid", "text"]
# The time a batch was loaded (its transaction's start, UTC): Snowplow's loaders add it to
# atomic.events, after the enriched fields.
LOAD_TSTAMP = "load_tstamp"
LOAD_TSTAMP_DEFAULT = "(now() AT TIME ZONE 'UTC')"
_ESC = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NULL = "\\N"
PG_TYPES = {
    "text": "TEXT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "uuid": "UUID",
    "json": "JSONB",
}
META_TYPES = (
    "VARCHAR(128) NOT NULL",
    "VARCHAR(128) NOT NULL",
    "VARCHAR(128) NOT NULL",
    "VARCHAR(128) NOT NULL",
    "UUID NOT NULL",
    "TIMESTAMP NOT NULL",
    "VARCHAR(255) NOT NULL",
    "VARCHAR(1500) NOT NULL",
    "VARCHAR(255) NOT NULL",
)
MANIFEST = "plowline_load_manifest"


def pg_type(c: Column) -> str:
    return f"VARCHAR({c.length})" if c.kind == "varchar" else PG_TYPES[c.kind]


# PostgreSQL's names for the types of PG_TYPES (format_type), back to column kinds. Any other
# type (a column someone changed by hand: numeric, json, real...) has no kind: its table's
# rows then go as text, which PostgreSQL parses and judges.
_KIND_OF_TYPE = {
    "text": "text",
    "character varying": "text",
    "integer": "integer",
    "bigint": "bigint",
    "double precision": "double",
    "boolean": "boolean",
    "timestamp without time zone": "timestamp",
    "date": "date",
    "uuid": "uuid",
    "jsonb": "json",
}
_VARCHAR = re.compile(r"character varying\(([0-9]+)\)")
_CHAR = re.compile(r"character\(([0-9]+)\)")


@dataclass(frozen=True, slots=True)
class DbColumn:
    """A column as PostgreSQL has it: kind None for a type the loader never makes."""

    kind: str | None
    length: int | None
    nullable: bool
    type: str  # format_type's text, for messages


def db_column(type_text: str, not_null: bool) -> DbColumn:
    m = _VARCHAR.fullmatch(type_text)
    if m is not None:
        return DbColumn("varchar", int(m[1]), not not_null, type_text)
    return DbColumn(_KIND_OF_TYPE.get(type_text), None, not not_null, type_text)


_WIDER_NUMBER = {"integer": 0, "bigint": 1, "double": 2}


def widening(have: DbColumn, want: Column) -> tuple[str | None, str | None]:
    """What a schema version's column asks of an existing column: (the wider type to change
    it to, or None; why the version's values may not fit, or None).

    SchemaVer lets a revision or addition relax a property (a longer maxLength, a maximum
    removed, integer to number), so the column widens to what a table made from the new
    version would have; it never narrows (older versions' values must still fit). A type
    change no widening covers (integer to string or boolean...) leaves the column as it is:
    the values that do not fit it become bad rows of their own events.
    """
    kind, length = have.kind, have.length
    if kind is None:
        return None, None  # an unknown type: PostgreSQL judges every value (text COPY)
    if kind == want.kind == "varchar":
        if want.length is not None and length is not None and want.length > length:
            return f"VARCHAR({want.length})", None
        return None, None
    if kind == want.kind:
        return None, None
    if kind == "varchar" and want.kind == "text":
        return "TEXT", None
    if kind in _WIDER_NUMBER and want.kind in _WIDER_NUMBER:
        if _WIDER_NUMBER[want.kind] > _WIDER_NUMBER[kind]:
            return PG_TYPES[want.kind], None
        return None, None
    if kind in ("text", "varchar", "json"):
        return None, None  # holds any value (as its text or its JSON)
    return None, (
        f"{want.name} is {want.kind} in this schema version but its column is "
        f"{have.type.upper()}: an incompatible type change"
    )


def is_outage(exc: BaseException, conn: psycopg.Connection[Any] | None) -> bool:
    """Whether an error means "try again later" (a lost connection, a server shutting down
    or out of resources, a deadlock): the batch is retried on a new connection. Anything
    else is PostgreSQL's answer about this batch; retrying would get the same answer again.

    A protocol violation (08P01) on a live connection is the server refusing the bytes of a
    COPY (a binary field of the wrong size for its column), not an outage, though its SQLSTATE
    class is "connection exception":
    https://www.postgresql.org/docs/current/errcodes-appendix.html
    """
    if not isinstance(exc, psycopg.Error):
        return False
    if conn is None or conn.closed or conn.broken:
        return True
    state = exc.sqlstate
    if state is None:
        return isinstance(exc, psycopg.OperationalError)
    if state == "08P01":
        return False
    return state[:2] in ("08", "40", "53", "57", "58")


def is_data_error(exc: BaseException, conn: psycopg.Connection[Any] | None) -> bool:
    """PostgreSQL refused some of the batch's values: find the events (bad rows)."""
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
        return True
    return isinstance(exc, psycopg.errors.ProtocolViolation) and not is_outage(exc, conn)


class _LayoutChangedError(Exception):
    """Another loader changed a column type of a table this batch was encoded for."""


class EncodeError(ValueError):
    pass


# One encoder instance: json.dumps with options would build a new one per call (slow).
_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode(c: Column, value: Any) -> str:
    """A value as COPY text for its column; EncodeError when it does not fit."""
    if value is None:
        if not c.nullable:
            raise EncodeError(f"{c.name}: required value missing")
        return _NULL
    kind = c.kind
    if kind == "json":
        text = _json(value)
    elif kind in ("text", "varchar", "timestamp", "date", "uuid"):
        if isinstance(value, str):
            text = value
        elif kind in ("text", "varchar"):
            text = _json(value)
        else:
            raise EncodeError(f"{c.name}: expected a string, got {type(value).__name__}")
        if c.length is not None and len(text) > c.length:
            raise EncodeError(f"{c.name}: longer than {c.length} characters ({len(text)})")
    elif kind in ("integer", "bigint"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EncodeError(f"{c.name}: expected an integer, got {value!r}"[:200])
        bound = 2**31 if kind == "integer" else 2**63
        if not -bound <= value < bound:
            raise EncodeError(f"{c.name}: {value} out of range for {kind}")
        return str(value)
    elif kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EncodeError(f"{c.name}: expected a number, got {value!r}"[:200])
        number = float(value)
        if not math.isfinite(number):
            raise EncodeError(f"{c.name}: not a finite number")
        return repr(number)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise EncodeError(f"{c.name}: expected a boolean, got {value!r}"[:200])
        return "t" if value else "f"
    else:  # pragma: no cover - KINDS is closed
        raise EncodeError(f"{c.name}: unknown column kind {kind}")
    if "\x00" in text:
        raise EncodeError(f"{c.name}: holds a NUL character")
    return text.translate(_ESC)


_STRING_KINDS = ("text", "varchar", "timestamp", "date", "uuid")


def compile_row(columns: list[Column]) -> Callable[[dict[str, Any]], str]:
    """One function building a table row's COPY text from an entity's data object.

    Generated source, like dataclasses does: one call per entity instead of one per column.
    Property names only ever enter the source through repr(); the common cases (absent,
    plain printable strings within the length) are inlined, everything else goes to encode().
    """
    lines = ["def row(d):", "    get = d.get"]
    names: dict[str, Any] = {"_enc": encode, "_extract": extract, "_NULL": _NULL, "_TAB": "\t"}
    for i, c in enumerate(columns):
        names[f"c{i}"] = c
        if len(c.path) == 1:
            lines.append(f"    v = get({c.path[0]!r})")
        else:
            names[f"p{i}"] = c.path
            lines.append(f"    v = _extract(d, p{i})")
        if c.nullable:
            lines.append(f"    if v is None: s{i} = _NULL")
            branch = "elif"
        else:
            branch = "if"
        if c.kind in _STRING_KINDS:
            limit = c.length if c.kind == "varchar" and c.length is not None else 1 << 62
            lines.append(
                f"    {branch} type(v) is str and len(v) <= {limit} and v.isprintable()"
                f" and '\\\\' not in v: s{i} = v"
            )
            lines.append(f"    else: s{i} = _enc(c{i}, v)")
        elif branch == "elif":
            lines.append(f"    else: s{i} = _enc(c{i}, v)")
        else:
            lines.append(f"    s{i} = _enc(c{i}, v)")
    joined = ", ".join(f"s{i}" for i in range(len(columns)))
    lines.append(f"    return _TAB.join(({joined}{',' if len(columns) == 1 else ''}))")
    if not columns:
        lines[-1] = "    return ''"
    exec("\n".join(lines), names)  # noqa: S102 - source built above from repr()'d names only
    fn: Callable[[dict[str, Any]], str] = names["row"]
    return fn


@dataclass
class Table:
    """The table of one schema (vendor, name, model), whatever versions of it are loaded."""

    name: str = ""  # "" until a version with a schema claimed it (see _claim)
    columns: list[Column] = field(default_factory=list)  # as the database has them
    versions: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)  # versions with no schema to be found
    refused: str | None = None  # why this schema's events cannot be stored
    text_only: bool = False  # a column of a type the native encoder does not write
    notes: dict[str, str] = field(default_factory=dict)  # version: its incompatible changes
    row: Callable[[dict[str, Any]], str] = field(default=lambda _d: "")


TableKey = tuple[str, str, int]  # vendor, name, model


def table_key(ref: SchemaRef) -> TableKey:
    return (ref.vendor, ref.name, ref.model)


# COPY text as one string (Python path) or as chunks of bytes (the native encoder's output,
# kept in chunks: one 30 MB buffer per batch costs more in page faults than it saves).
CopyText = str | list[bytes]
NATIVE_CHUNK = 4096  # lines per native encoder call


def _write(copy: psycopg.Copy, text: CopyText) -> None:
    if isinstance(text, str):
        copy.write(text)
    else:
        for part in text:
            copy.write(part)


@dataclass(frozen=True, slots=True)
class Encoded:
    """Entity rows built in `stage` with the table layout of generation `layout`."""

    layout: int
    good: list[bytes]  # lines of the events in the COPY texts
    bad: list[bytes]  # bad rows of the batch, in the order `apply` would make them
    refs: list[SchemaRef]  # the batch's distinct schemas
    tables: Mapping[str, CopyText]  # COPY text per entity table
    binary: Mapping[str, list[bytes]] = field(default_factory=dict)  # binary COPY tuples


@dataclass(frozen=True, slots=True)
class Staged:
    """A batch ready for `apply`. Only texts when `encoded` (the per-event objects are freed
    while the GC is paused, so it never has to walk them); rebuilt from `lines` if needed."""

    batch: str
    lines: Sequence[bytes]
    prepared: Prepared | None  # None when encoded
    atomic: CopyText  # COPY text of the atomic rows of `encoded.good` (else of every event)
    encoded: Encoded | None = None  # None: entity rows are built in `apply`


@dataclass(frozen=True, slots=True)
class LoadResult:
    loaded: int
    bad: list[bytes]
    skipped: bool = False  # the batch had been loaded before


_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]").search


def validate(parts: list[str], event_ids: EventIds = "uuid") -> list[badrows.InvalidValue]:
    """tsv.validate, taking any non-empty event_id when event ids are text."""
    errors = tsv.validate(parts)
    if event_ids == "text":
        errors = [e for e in errors if e.key != "event_id" or not parts[EVENT_ID]]
    return errors


def _escape(text: str) -> str:
    """COPY text escaping, skipped for the usual value that needs none."""
    return text.translate(_ESC) if _NEEDS_ESCAPE(text) else text


def atomic_row(parts: list[str]) -> str:
    """atomic.events COPY text (NULL '') of a split line: drop the three JSON fields."""
    row = "\t".join(parts[:52] + parts[53:58] + parts[59:122] + parts[123:])
    if "\\" in row:
        row = row.replace("\\", "\\\\")
    if "\r" in row:
        row = row.replace("\r", "\\r")
    return row


def _by_table(events: list[Event]) -> dict[str, str]:
    """The events' entity rows as COPY text per table."""
    by_table: dict[str, list[str]] = {}
    for e in events:
        for table, row in e.rows:
            rows = by_table.get(table)
            if rows is None:
                rows = by_table[table] = []
            rows.append(row)
    return {table: "\n".join(rows) + "\n" for table, rows in by_table.items()}


class PostgresLoader:
    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "atomic",
        entity_mode: EntityMode = "columns",
        schemas: SchemaStore | None = None,
        retry_for: float = 120.0,
        connect: Callable[[str], psycopg.Connection[Any]] | None = None,
        native: bool | None = None,
        entity_copy: Literal["binary", "text"] = "binary",
        json_columns: JsonColumns = "jsonb",
        event_ids: EventIds = "uuid",
    ) -> None:
        self.dsn = dsn
        self.json_columns = json_columns
        self.event_ids = event_ids
        self.schema = schema
        self.entity_mode = entity_mode
        self.schemas = schemas if schemas is not None else DirectorySchemas()
        self.retry_for = retry_for
        self._connect = connect or (lambda d: psycopg.connect(d, autocommit=True))
        self._conn: psycopg.Connection[Any] | None = None
        # Tables by schema (vendor, name, model) and by name: two schemas may make the same
        # name (`foo_bar`, `fooBar`); the second then gets a table of its own (_claim).
        self._tables: dict[TableKey, Table] = {}
        self._named: dict[str, Table] = {}
        self._heads: dict[SchemaRef, tuple[Table, str, str] | str] = {}
        # Seqlock over _tables/_heads: odd while _ensure changes them, bumped on every change,
        # so rows built by `stage` in another thread are used only if no DDL came between.
        self._layout = 0
        self.reconnects = 0
        # The native encoder (plowline.copytext, the `native` extra) writes the same COPY texts
        # for the lines it is sure about; the rest (and everything when off or not installed)
        # takes the Python path below.
        # Text ids are never written by the native encoder (its binary root_id is a UUID).
        if event_ids == "text" and native:
            raise ValueError("event_ids='text' loads through the Python path only (native=False)")
        self.native = native_wanted(native) and event_ids == "uuid"
        log.info("COPY encoder: %s", encoder_name(self.native))
        # The native encoder writes entity rows in PostgreSQL's binary COPY format by default
        # (uuid and timestamp columns cost the server ~40% less than parsing their text).
        # JSON as TEXT: text COPY (a binary JSONB field has a version byte a TEXT one has not).
        binary = entity_copy == "binary" and json_columns == "jsonb"
        self._book = PlanBook(entity_mode == "jsonb", binary=binary)

    # -- connection -------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self._connect(self.dsn)
        return self._conn

    def _retrying(self, action: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        """Run `action` in a fresh attempt after every lost connection, up to retry_for seconds."""
        deadline = time.monotonic() + self.retry_for
        delay = 0.2
        while True:
            try:
                return action(self._connection())
            except psycopg.Error as exc:
                if not is_outage(exc, self._conn):
                    raise
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("PostgreSQL unavailable (%s); retrying in %.1fs", exc, delay)
                self.reconnects += 1
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> PostgresLoader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- DDL --------------------------------------------------------------------------------

    def _q(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))

    def _atomic_type(self, name: str, spec: str) -> str:
        """The atomic.events column type of an enriched field, with this loader's options."""
        if name == "event_id" and self.event_ids == "text":
            return "TEXT NOT NULL"
        return spec

    def setup(self) -> None:
        """Create the schema, atomic.events and the load manifest (idempotent), and migrate an
        atomic.events made by an older version: it gains load_tstamp (NULL in rows loaded
        before: their load time is not known), CHAR columns the spec now has as VARCHAR
        change type (PostgreSQL's cast drops the padding), and with event_ids='text' a UUID
        event_id becomes TEXT. Nothing narrows: a TEXT event_id stays TEXT."""

        def run(conn: psycopg.Connection[Any]) -> None:
            defs = [
                sql.SQL("{} {}").format(
                    sql.Identifier(f.name), sql.SQL(self._atomic_type(f.name, f.postgres or ""))
                )
                for f in atomic_columns()
            ]
            defs.append(
                sql.SQL("{} TIMESTAMP DEFAULT {}").format(
                    sql.Identifier(LOAD_TSTAMP), sql.SQL(LOAD_TSTAMP_DEFAULT)
                )
            )
            with conn.transaction():
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
                conn.execute(
                    sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                        self._q("events"), sql.SQL(", ").join(defs)
                    )
                )
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (batch_id TEXT PRIMARY KEY, "
                        "loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(), events INTEGER NOT NULL, "
                        "bad INTEGER NOT NULL)"
                    ).format(self._q(MANIFEST))
                )
                self._migrate_events(conn)

        self._retrying(run)

    def _migrate_events(self, conn: psycopg.Connection[Any]) -> None:
        """Bring an existing atomic.events to this version's layout (see `setup`)."""
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE UPDATE EXCLUSIVE MODE").format(self._q("events"))
        )
        have = self._db_columns(conn, ["events"]).get("events", {})
        events = self._q("events")
        if LOAD_TSTAMP not in have:
            log.info("adding %s.events.%s", self.schema, LOAD_TSTAMP)
            # Added without a default first, so the rows already there keep NULL.
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} TIMESTAMP").format(
                    events, sql.Identifier(LOAD_TSTAMP)
                )
            )
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    events, sql.Identifier(LOAD_TSTAMP), sql.SQL(LOAD_TSTAMP_DEFAULT)
                )
            )
        for f in atomic_columns():
            col = have.get(f.name)
            if col is None:
                continue
            want = self._atomic_type(f.name, f.postgres or "").removesuffix(" NOT NULL")
            char = _CHAR.fullmatch(col.type)
            if char is not None and want == f"VARCHAR({char[1]})":
                to = want  # character(n) to varchar(n): the cast drops the trailing blanks
            elif col.type == "uuid" and want == "TEXT":
                to = want
            else:
                continue
            log.info("changing %s.events.%s from %s to %s", self.schema, f.name, col.type, to)
            conn.execute(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                    events, sql.Identifier(f.name), sql.SQL(to), sql.Identifier(f.name), sql.SQL(to)
                )
            )

    def _db_columns(
        self, conn: psycopg.Connection[Any], tables: Sequence[str]
    ) -> dict[str, dict[str, DbColumn]]:
        """The columns of tables as PostgreSQL has them, by table and column name."""
        rows = conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) AND a.attnum > 0 "
            "AND NOT a.attisdropped",
            (self.schema, list(tables)),
        ).fetchall()
        out: dict[str, dict[str, DbColumn]] = {}
        for table, column, type_text, not_null in rows:
            out.setdefault(table, {})[column] = db_column(type_text, not_null)
        return out

    def _owner(self, conn: psycopg.Connection[Any], table: str) -> SchemaRef | None:
        """The schema whose table this is: the URI in its comment (None: no comment)."""
        row = conn.execute(
            "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND c.relname = %s",
            (self.schema, table),
        ).fetchone()
        return SchemaRef.parse(row[0]) if row is not None else None

    def _ensure(self, conn: psycopg.Connection[Any], refs: list[SchemaRef]) -> None:
        """Create tables for new models, add columns for new additions (SchemaVer evolution).

        Another loader may run the same DDL at the same moment: PostgreSQL then reports a
        duplicate (even with IF NOT EXISTS); the work is done, so look again and go on.
        """
        known = self._tables
        refs = [
            r
            for r in distinct(refs)
            if (t := known.get(table_key(r))) is None or not {r.version} & (t.versions | t.missing)
        ]
        if not refs:
            return
        self._layout += 1
        try:
            self._ensure_retrying(conn, refs)
        finally:
            self._layout += 1

    def _ensure_retrying(self, conn: psycopg.Connection[Any], refs: list[SchemaRef]) -> None:
        for attempt in range(5):
            try:
                self._ensure_once(conn, refs)
                return
            except (
                psycopg.errors.UniqueViolation,
                psycopg.errors.DuplicateTable,
                psycopg.errors.DuplicateColumn,
                psycopg.errors.DuplicateObject,
            ):
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _ensure_once(self, conn: psycopg.Connection[Any], refs: list[SchemaRef]) -> None:
        for ref in distinct(refs):
            key = table_key(ref)
            table = self._tables.get(key) or Table()
            if ref.version in table.versions or ref.version in table.missing:
                continue
            columns: list[Column] = []
            if self.entity_mode == "columns":
                schema = self.schemas.lookup(ref)
                if schema is None:
                    table.missing.add(ref.version)
                    self._tables[key] = table
                    self._heads.pop(ref, None)
                    continue
                columns = derive_columns(schema)
            with conn.transaction():
                name = table.name or self._claim(conn, ref, columns)
                notes: list[str] = []
                found: dict[str, DbColumn] = {}
                if name is not None:
                    notes = self._widen(conn, name, ref, columns)
                    conn.execute(
                        sql.SQL("COMMENT ON TABLE {} IS {}").format(
                            self._q(name), sql.Literal(ref.uri)
                        )
                    )
                    found = self._db_columns(conn, [name]).get(name, {})
            # The transaction is committed: only now may other batches see the change.
            if name is None:
                table.refused = (
                    f"the tables {ref.table} and {second_table_name(*key)} belong to other "
                    f"schemas: {ref.uri} cannot be stored"
                )
            else:
                table.name = name
                self._named[name] = table
                self._merge_columns(table, columns, found)
            if notes:
                table.notes[ref.version] = "; ".join(notes)
            table.versions.add(ref.version)
            self._tables[key] = table
            self._heads.clear()
            self._book.clear()
            table.row = compile_row(table.columns)

    def _claim(
        self, conn: psycopg.Connection[Any], ref: SchemaRef, columns: list[Column]
    ) -> str | None:
        """The table of a schema seen for the first time, created if need be: its usual
        name, or if another schema holds that one (the table comment names the owner),
        the name with a hash of vendor/name; None when both are taken."""
        key = table_key(ref)
        for name in (ref.table, second_table_name(*key)):
            defs: list[sql.Composable] = [
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
                for n, t in zip(META_COLUMNS, self._meta_types(), strict=True)
            ]
            if self.entity_mode == "jsonb":
                defs.append(sql.SQL("data JSONB"))
            defs += [
                sql.SQL("{} {}{}").format(
                    sql.Identifier(c.name),
                    sql.SQL(self._pg_type(c)),
                    sql.SQL("" if c.nullable else " NOT NULL"),
                )
                for c in columns
            ]
            conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                    self._q(name), sql.SQL(", ").join(defs)
                )
            )
            # One loader at a time changes a table (this lock conflicts with itself only
            # among the modes COPY and ALTER take), held until the DDL commits.
            conn.execute(
                sql.SQL("LOCK TABLE {} IN SHARE UPDATE EXCLUSIVE MODE").format(self._q(name))
            )
            owner = self._owner(conn, name)
            other = self._named.get(name)
            if (owner is None or table_key(owner) == key) and (
                other is None or other is self._tables.get(key)
            ):
                return name
        return None

    def _meta_types(self) -> tuple[str, ...]:
        if self.event_ids == "uuid":
            return META_TYPES
        return tuple(
            "TEXT NOT NULL" if n == "root_id" else t
            for n, t in zip(META_COLUMNS, META_TYPES, strict=True)
        )

    def _pg_type(self, c: Column) -> str:
        """The column type the loader makes for a column, with its json_columns option."""
        return "TEXT" if c.kind == "json" and self.json_columns == "text" else pg_type(c)

    def _as_made(self, c: Column) -> tuple[str, int | None]:
        """(kind, length) PostgreSQL reports for a column the loader made for `c`."""
        return (
            ("text", None)
            if c.kind == "json" and self.json_columns == "text"
            else (c.kind, c.length)
        )

    def _retype(self, conn: psycopg.Connection[Any], table: str, column: str, to: str) -> None:
        log.info("changing %s.%s.%s to %s", self.schema, table, column, to)
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}").format(
                self._q(table),
                sql.Identifier(column),
                sql.SQL(to),
                sql.Identifier(column),
                sql.SQL(to),
            )
        )

    def _widen(
        self, conn: psycopg.Connection[Any], name: str, ref: SchemaRef, columns: list[Column]
    ) -> list[str]:
        """Add the version's new columns and widen the ones it relaxes (never narrowing);
        returns the incompatible changes the version makes, for its bad rows' messages.
        Migrates a table an older loader or other options made: with event_ids='text' a
        UUID root_id becomes TEXT, with json_columns='text' a JSONB column becomes its JSON
        as TEXT (jsonb's text form); never back."""
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE UPDATE EXCLUSIVE MODE").format(self._q(name)))
        existing = self._db_columns(conn, [name]).get(name, {})
        root = existing.get("root_id")
        if self.event_ids == "text" and root is not None and root.kind == "uuid":
            self._retype(conn, name, "root_id", "TEXT")
        notes: list[str] = []
        for c in columns:
            have = existing.get(c.name)
            if have is None:
                if existing:  # (an empty answer: no database, in the unit tests)
                    # Columns a later addition brings are nullable: older rows lack them.
                    conn.execute(
                        sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                            self._q(name), sql.Identifier(c.name), sql.SQL(self._pg_type(c))
                        )
                    )
                continue
            if self._as_made(c) == ("text", None) and c.kind == "json" and have.kind == "json":
                self._retype(conn, name, c.name, "TEXT")
                continue
            wider, note = widening(have, c)
            if wider is not None:
                log.info("widening %s.%s to %s for %s", name, c.name, wider, ref.uri)
                try:
                    with conn.transaction():
                        conn.execute(
                            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
                                self._q(name), sql.Identifier(c.name), sql.SQL(wider)
                            )
                        )
                except psycopg.Error as exc:
                    if is_outage(exc, conn):
                        raise
                    # E.g. a view someone made uses the column: load what still fits.
                    log.warning("cannot widen %s.%s to %s: %s", name, c.name, wider, exc)
                    note = f"{c.name}: its column {have.type.upper()} cannot widen ({exc})"
            if not have.nullable and c.nullable:
                conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                        self._q(name), sql.Identifier(c.name)
                    )
                )
            if note is not None:
                notes.append(note)
        return notes

    def _merge_columns(
        self, table: Table, columns: list[Column], found: Mapping[str, DbColumn]
    ) -> None:
        """The table's columns after a version's DDL: every version's properties (the first
        path seen for a name), with the types PostgreSQL has for them."""
        merged = {c.name: c for c in table.columns}
        for c in columns:
            known = merged.get(c.name)
            if known is None:
                # Columns a later addition brings are nullable: older rows lack them.
                later = bool(table.versions) and not c.nullable
                merged[c.name] = Column(c.name, c.path, c.kind, c.length) if later else c
            elif widening(DbColumn(known.kind, known.length, True, known.kind), c)[0]:
                # The widest kind any version declares: what a column of a type the loader
                # never makes (below) is encoded as, for PostgreSQL to judge.
                merged[c.name] = Column(c.name, known.path, c.kind, c.length, known.nullable)
        out: list[Column] = []
        for c in merged.values():
            have = found.get(c.name)
            if have is None:  # no database (unit tests): the schema's column
                out.append(c)
            elif have.kind is None:
                table.text_only = True
                out.append(Column(c.name, c.path, c.kind, c.length, have.nullable))
            elif c.kind == "json" and have.kind == "text" and self.json_columns == "text":
                # JSON as TEXT: still encoded as JSON (a string value keeps its quotes).
                out.append(Column(c.name, c.path, "json", None, have.nullable))
            else:
                out.append(Column(c.name, c.path, have.kind, have.length, have.nullable))
        table.columns = out

    # -- rows -------------------------------------------------------------------------------

    def _encode_entities(self, event: Event, *, staging: bool = False) -> str | None:
        """Fill event.rows; the reason when an entity cannot be stored.

        staging: called from `stage` (maybe in another thread): only reads the known plans
        and raises KeyError for a schema without one (the batch is then encoded in `apply`).
        """
        event.rows = rows = []
        parts = event.parts
        root = f"{_escape(parts[EVENT_ID])}\t{_escape(parts[COLLECTOR_TSTAMP])}"
        heads = self._heads
        jsonb = self.entity_mode == "jsonb"
        for ref, data, _origin in event.entities:
            plan = heads.get(ref)
            if plan is None:
                if staging:
                    raise KeyError(ref)
                plan = heads[ref] = self._head(ref)
            if isinstance(plan, str):
                return plan
            table, head, tail = plan
            if jsonb:
                body = _json(data).replace("\x00", "")
                rows.append((table.name, f"{head}{root}{tail}\t{body.translate(_ESC)}"))
                continue
            if type(data) is not dict:
                return f"{ref.uri}: data is not an object"
            try:
                values = table.row(data)
            except EncodeError as exc:
                note = table.notes.get(ref.version)
                return f"{ref.uri}: {exc}" + (f" ({note})" if note else "")
            if table.columns:
                rows.append((table.name, f"{head}{root}{tail}\t{values}"))
            else:
                rows.append((table.name, f"{head}{root}{tail}"))
        return None

    def _spec(self, uri: str) -> PlanSpec:
        """The native encoder's plan for a schema URI (its table must be ensured already)."""
        ref = SchemaRef.parse(uri)
        known = self._tables.get(table_key(ref)) if ref is not None else None
        if ref is None or known is None or known.text_only:
            return deferred_spec(uri)
        plan = self._heads.get(ref)
        if plan is None:
            plan = self._heads[ref] = self._head(ref)
        if isinstance(plan, str):
            return deferred_spec(uri)
        table, head, tail = plan
        columns = [] if self.entity_mode == "jsonb" else table.columns
        return (
            uri,
            table.name,
            head,
            tail,
            [(list(c.path), c.kind, c.length, c.nullable) for c in columns],
            (ref.vendor, ref.name, ref.format, ref.version, ref_tree(ref)),
        )

    def _head(self, ref: SchemaRef) -> tuple[Table, str, str] | str:
        """Table and the constant COPY text around root_id/root_tstamp for one schema."""
        table = self._tables[table_key(ref)]
        if ref.version in table.missing:
            return f"schema {ref.uri} not found"
        if table.refused is not None:
            return table.refused
        if max(len(ref.vendor), len(ref.name), len(ref.format)) > 128:
            return f"schema {ref.uri[:200]} has a part over 128 characters"
        if any("\x00" in p for p in (ref.vendor, ref.name, ref.format)):
            return "schema URI holds a NUL character"
        meta = "\t".join(v.translate(_ESC) for v in (ref.vendor, ref.name, ref.format, ref.version))
        return table, meta + "\t", f"\tevents\t{ref_tree(ref).translate(_ESC)}\tevents"

    def _copy(
        self,
        conn: psycopg.Connection[Any],
        events: list[Event],
        atomic: CopyText | None = None,
        tables: Mapping[str, CopyText] | None = None,
        binary: Mapping[str, list[bytes]] | None = None,
    ) -> None:
        """COPY the events' atomic rows and entity rows (pre-built texts when given, and
        binary tuples from the native encoder)."""
        names = sql.SQL(", ").join(sql.Identifier(f.name) for f in atomic_columns())
        if atomic is None:
            atomic = "".join(atomic_row(e.parts) + "\n" for e in events)
        with conn.cursor() as cur:
            stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT text, NULL '')")
            with cur.copy(stmt.format(self._q("events"), names)) as copy:
                _write(copy, atomic)
            if tables is None:
                tables = _by_table(events)
            for table, text in tables.items():
                with cur.copy(self._entity_copy(table, "text")) as copy:
                    _write(copy, text)
            for table, tuples in (binary or {}).items():
                with cur.copy(self._entity_copy(table, "binary")) as copy:
                    copy.write(BINARY_HEADER)
                    _write(copy, tuples)
                    copy.write(BINARY_TRAILER)

    def _entity_copy(self, table: str, fmt: Literal["text", "binary"]) -> sql.Composed:
        cols = list(META_COLUMNS)
        if self.entity_mode == "jsonb":
            cols.append("data")
        else:
            cols += [c.name for c in self._named[table].columns]
        return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT {})").format(
            self._q(table), sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.SQL(fmt)
        )

    def _copy_isolating(self, conn: psycopg.Connection[Any], events: list[Event]) -> list[bytes]:
        """COPY inside a savepoint; on refusal bisect until each refused event is a bad row."""
        if not events:
            return []
        try:
            with conn.transaction():
                self._copy(conn, events)
            return []
        except psycopg.Error as exc:
            if not is_data_error(exc, conn):
                raise
            if len(events) == 1:
                return [badrows.unhandled(events[0].raw, f"PostgreSQL refused: {exc}".strip())]
        mid = len(events) // 2
        return self._copy_isolating(conn, events[:mid]) + self._copy_isolating(conn, events[mid:])

    # -- batches ----------------------------------------------------------------------------

    def stage(self, lines: Sequence[bytes], batch: str | None = None) -> Staged:
        """The database-free half of a load (split, entities, COPY texts): may run in a
        worker thread while the previous batch is in `apply`."""
        if self.native:
            lines = lines if isinstance(lines, list) else list(lines)
            key = batch_key(batch) if batch else native_batch_id(lines)
            texts = self._native_texts(lines)
            if texts is not None:
                return Staged(key, lines, None, texts[1], texts[0])
            return Staged(key, lines, None, [])  # a new schema: `apply` runs DDL, encodes
        key = batch_key(batch) if batch else batch_id(lines)
        with gc_paused():
            prepared = prepare(lines)
            staged = self._stage_entities(prepared)
            if staged is not None:
                # Only texts are kept: the per-event objects die here, while the GC is paused.
                encoded, atomic = staged
                del prepared
                return Staged(key, lines, None, atomic, encoded)
            atomic = "".join([atomic_row(e.parts) + "\n" for e in prepared.events])
        return Staged(key, lines, prepared, atomic)

    def _native_texts(
        self, lines: Sequence[bytes], conn: psycopg.Connection[Any] | None = None
    ) -> tuple[Encoded, list[bytes]] | None:
        """The batch's COPY texts from the native encoder, its deferred lines by the Python
        path. Without `conn` (in `stage`: no DDL there) None when a schema is new or the
        tables changed meanwhile; with it, runs the DDL new schemas need and never None."""
        batch = lines if isinstance(lines, list) else list(lines)
        while True:
            layout = self._layout
            if layout % 2:
                return None
            plans = self._book.plans
            atomic: list[bytes] = []
            native_tables: dict[str, list[bytes]] = {}
            deferred: list[int] = []
            unknown: set[str] = set()
            for start in range(0, len(batch), NATIVE_CHUNK):
                part = native_encode(batch[start : start + NATIVE_CHUNK], plans)
                atomic.append(part[0])
                for table, chunk in part[1].items():
                    native_tables.setdefault(table, []).append(chunk)
                deferred += [start + i for i in part[2]]
                unknown.update(part[3])
            if unknown:
                if conn is None:
                    return None
                parsed = {u: SchemaRef.parse(u) for u in unknown}
                if None in parsed.values():
                    # Not an Iglu URI: its events are bad rows. Plan that first and encode
                    # again, so tables are made only for schemas of events that may load
                    # (the same tables the reference makes).
                    self._book.define(deferred_spec(u) for u, r in parsed.items() if r is None)
                    continue
                self._ensure(conn, [r for r in parsed.values() if r is not None])
                self._book.define(self._spec(u) for u in sorted(unknown))
                continue
            with gc_paused():
                prepared = prepare([batch[i] for i in deferred])
                refs = distinct({e.ref for ev in prepared.events for e in ev.entities})
                if conn is not None:
                    self._ensure(conn, refs)
                try:
                    events, bad = self._encode_events(prepared, staging=conn is None)
                except KeyError:
                    return None
                if self._layout != layout:
                    if conn is None:
                        return None
                    continue
                # Native entity rows are binary tuples or COPY text; the Python path's are text.
                binary = native_tables if self._book.binary else {}
                tables = {} if self._book.binary else native_tables
                if deferred:
                    skip = set(deferred)
                    good = [line for i, line in enumerate(batch) if i not in skip]
                    good += [ev.raw for ev in events]
                    atomic.append("".join([atomic_row(e.parts) + "\n" for e in events]).encode())
                    for table, text in _by_table(events).items():
                        tables.setdefault(table, []).append(text.encode())
                else:
                    good = batch
            return Encoded(layout, good, bad, refs, tables, binary), atomic

    def _stage_entities(self, prepared: Prepared) -> tuple[Encoded, str] | None:
        """Entity rows and atomic COPY text with the tables as known now; None when a schema
        is new (DDL first) or `apply` changed the tables meanwhile."""
        layout = self._layout
        if layout % 2:
            return None
        try:
            events, bad = self._encode_events(prepared, staging=True)
        except KeyError:
            return None
        if self._layout != layout:
            return None
        refs = distinct({e.ref for ev in prepared.events for e in ev.entities})
        atomic = "".join([atomic_row(e.parts) + "\n" for e in events])
        good = [e.raw for e in events]
        return Encoded(layout, good, bad, refs, _by_table(events)), atomic

    def _encode_events(
        self, prepared: Prepared, *, staging: bool = False
    ) -> tuple[list[Event], list[bytes]]:
        """The events whose entity rows could be built (rows filled), and every bad row.
        staging: KeyError for a schema without a plan (see `_encode_entities`)."""
        bad = list(prepared.bad)
        events: list[Event] = []
        for ev in prepared.events:
            reason = self._encode_entities(ev, staging=staging)
            if reason is None:
                events.append(ev)
            else:
                why = badrows.InvalidValue("contexts", "", reason)
                bad.append(badrows.invalid_values(ev.raw, [why]))
        return events, bad

    def _encode_all(self, prepared: Prepared) -> tuple[list[Event], list[bytes]]:
        """The events whose entity rows could be built (rows filled), and every bad row."""
        with gc_paused():
            return self._encode_events(prepared)

    def load(self, lines: Sequence[bytes], batch: str | None = None) -> LoadResult:
        """Load one batch of enriched TSV lines exactly once; returns the bad rows."""
        return self.apply(self.stage(lines, batch))

    def apply(self, staged: Staged) -> LoadResult:
        """The database half of a load: DDL, entity rows, COPY, manifest, in one transaction."""
        batch, prepared, encoded = staged.batch, staged.prepared, staged.encoded

        def run(conn: psycopg.Connection[Any]) -> LoadResult:
            events: list[Event] | None = None  # None: the staged texts hold them
            tables: Mapping[str, CopyText] | None = None
            atomic: CopyText | None = None
            texts = encoded
            if texts is not None:
                self._ensure(conn, texts.refs)
            binary: Mapping[str, list[bytes]] | None = None
            if texts is not None and texts.layout == self._layout:
                bad = list(texts.bad)
                tables, binary = texts.tables, texts.binary
                atomic = staged.atomic
            elif self.native:
                built = self._native_texts(staged.lines, conn)
                assert built is not None  # with a connection it always encodes
                texts, atomic = built
                bad = list(texts.bad)
                tables, binary = texts.tables, texts.binary
            else:
                again = prepared if prepared is not None else prepare(staged.lines)
                self._ensure(conn, [e.ref for ev in again.events for e in ev.entities])
                events, bad = self._encode_all(again)
                if prepared is not None and len(events) == len(prepared.events):
                    atomic = staged.atomic
            with conn.transaction():
                inserted = conn.execute(
                    sql.SQL(
                        "INSERT INTO {} (batch_id, events, bad) VALUES (%s, 0, 0) "
                        "ON CONFLICT DO NOTHING RETURNING batch_id"
                    ).format(self._q(MANIFEST)),
                    (batch,),
                ).fetchone()
                if inserted is None:
                    return LoadResult(0, [], skipped=True)
                if events is None:
                    names = {*(tables or {}), *(binary or {})}
                else:
                    names = {table for ev in events for table, _ in ev.rows}
                self._check_layout(conn, names)
                try:
                    with conn.transaction():
                        self._copy(conn, events or [], atomic, tables, binary)
                except psycopg.Error as exc:
                    if not is_data_error(exc, conn):
                        raise
                    if events is None:
                        events, _ = self._encode_all(prepare(texts.good if texts else []))
                    # Name what Python can see first, then let PostgreSQL judge the rest.
                    checked: list[Event] = []
                    for ev in events:
                        errors = validate(ev.parts, self.event_ids)
                        if errors:
                            bad.append(badrows.invalid_values(ev.raw, errors))
                        else:
                            checked.append(ev)
                    refused = self._copy_isolating(conn, checked)
                    bad += refused
                    loaded = len(checked) - len(refused)
                else:
                    loaded = len(events) if events is not None else len(staged.lines) - len(bad)
                conn.execute(
                    sql.SQL("UPDATE {} SET events = %s, bad = %s WHERE batch_id = %s").format(
                        self._q(MANIFEST)
                    ),
                    (loaded, len(bad), batch),
                )
            return LoadResult(loaded, bad)

        for _ in range(4):
            try:
                result: LoadResult = self._retrying(run)
                return result
            except _LayoutChangedError:
                self._forget_tables()  # encode again, with the tables as they are now
        raise RuntimeError("the entity tables kept changing while this batch was loaded")

    def _check_layout(self, conn: psycopg.Connection[Any], names: set[str]) -> None:
        """Make sure the batch's tables still have the column types its rows were encoded
        for (another loader may have widened one: a BIGINT's binary field in a DOUBLE
        PRECISION column would store a wrong number without an error). The tables are
        locked first, so no ALTER can come between this look and the COPY."""
        tables = sorted(n for n in names if not self._named[n].text_only)
        if self.entity_mode == "jsonb" or not tables:
            return
        conn.execute(
            sql.SQL("LOCK TABLE {} IN ROW EXCLUSIVE MODE").format(
                sql.SQL(", ").join(self._q(n) for n in tables)
            )
        )
        found = self._db_columns(conn, tables)
        for name in tables:
            have = found.get(name, {})
            for c in self._named[name].columns:
                col = have.get(c.name)
                if col is None or (col.kind, col.length) != self._as_made(c):
                    raise _LayoutChangedError(name)

    def _forget_tables(self) -> None:
        """Forget what this loader knows of the tables: the next batch reads them again."""
        self._layout += 1
        try:
            self._tables.clear()
            self._named.clear()
            self._heads.clear()
            self._book.clear()
        finally:
            self._layout += 1
