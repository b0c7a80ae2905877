"""The embedded store: the same atomic.events and per-schema tables in one SQLite file.

The database file is attached as `atomic`, so queries read `atomic.events` as on PostgreSQL.
SQLite does not enforce column types or lengths, so every value is validated in Python first
(the same limits as PostgreSQL; refused events become the same loader bad rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plowline.storage import badrows
from plowline.storage.atomic import COLLECTOR_TSTAMP, EVENT_ID, Field, atomic_columns
from plowline.storage.postgres import (
    LOAD_TSTAMP,
    DbColumn,
    EncodeError,
    EventIds,
    LoadResult,
    encode,
    validate,
    widening,
)
from plowline.storage.prepare import batch_id, batch_key, prepare
from plowline.storage.schemas import (
    META_COLUMNS,
    Column,
    DirectorySchemas,
    SchemaRef,
    SchemaStore,
    derive_columns,
    extract,
    ref_tree,
    second_table_name,
)

SQLITE_KINDS = {
    "text": "TEXT",
    "varchar": "TEXT",
    "integer": "INTEGER",
    "bigint": "INTEGER",
    "double": "REAL",
    "boolean": "INTEGER",
    "timestamp": "TEXT",
    "date": "TEXT",
    "uuid": "TEXT",
    "json": "TEXT",
}


def quote(name: str) -> str:
    """An SQLite identifier, whatever its content (NULs cannot be stored and are dropped)."""
    return '"' + name.replace("\x00", "").replace('"', '""') + '"'


def _atomic_type(f: Field) -> str:
    pg = (f.postgres or "").upper()
    base = "TEXT"
    if pg.startswith("INTEGER") or pg.startswith("BOOLEAN"):
        base = "INTEGER"
    elif pg.startswith("DOUBLE"):
        base = "REAL"
    return base + (" NOT NULL" if "NOT NULL" in pg else "")


def _atomic_value(f: Field, v: str) -> Any:
    if v == "":
        return None
    if f.type in ("int", "bool"):
        return int(v)
    if f.type in ("double", "decimal"):
        return float(v)
    return v


def _native(c: Column, v: Any) -> Any:
    encode(c, v)  # the PostgreSQL rules: raises EncodeError when the value does not fit
    if v is None:
        return None
    if c.kind == "json" or (c.kind in ("text", "varchar") and not isinstance(v, str)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    if c.kind == "boolean":
        return int(v)
    return v


class EmbeddedLoader:
    def __init__(
        self,
        path: str | Path,
        *,
        entity_mode: str = "columns",
        schemas: SchemaStore | None = None,
        event_ids: EventIds = "uuid",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = str(path)
        self.event_ids = event_ids  # "text": any non-empty event_id loads (see postgres)
        self.clock = clock  # load_tstamp of each batch
        self.entity_mode = entity_mode
        self.schemas = schemas if schemas is not None else DirectorySchemas()
        # isolation_level=None: transactions are explicit BEGIN/COMMIT below.
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.execute("ATTACH DATABASE ? AS atomic", (self.path,))
        self._columns: dict[str, list[Column]] = {}
        # Per schema (vendor, name, model): two schemas may make the same table name
        # (`foo_bar`, `fooBar`); the second gets a table of its own, as on PostgreSQL.
        self._versions: dict[tuple[str, str, int], set[str]] = {}
        self._names: dict[tuple[str, str, int], str | None] = {}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EmbeddedLoader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def setup(self) -> None:
        cols = ", ".join(f"{quote(f.name)} {_atomic_type(f)}" for f in atomic_columns())
        cols += f", {quote(LOAD_TSTAMP)} TEXT"
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS atomic.events ({cols})")
        # A store made by an older version gains the column (NULL in its rows: their load
        # time is not known).
        if LOAD_TSTAMP not in (self._existing("events") or set()):
            self.conn.execute(f"ALTER TABLE atomic.events ADD COLUMN {quote(LOAD_TSTAMP)} TEXT")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS atomic.plowline_load_manifest (batch_id TEXT PRIMARY KEY,"
            " loaded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, events INTEGER NOT NULL,"
            " bad INTEGER NOT NULL)"
        )

    def _existing(self, table: str) -> set[str] | None:
        rows = self.conn.execute(f"PRAGMA atomic.table_info({quote(table)})").fetchall()
        return {r[1] for r in rows} if rows else None

    def _owner(self, table: str) -> tuple[str, str, int] | None:
        """The schema whose rows a table holds (None: no rows yet). SQLite has no table
        comments; every row names its schema."""
        row = self.conn.execute(
            f"SELECT schema_vendor, schema_name, schema_version FROM atomic.{quote(table)} LIMIT 1"  # noqa: S608
        ).fetchone()
        if row is None:
            return None
        return (str(row[0]), str(row[1]), int(str(row[2]).split("-")[0]))

    def _claim(self, ref: SchemaRef, columns: list[Column]) -> str | None:
        """The table of a schema seen for the first time, created if need be: its usual
        name, or the name with a hash of vendor/name when another schema holds that one."""
        key = (ref.vendor, ref.name, ref.model)
        taken = {n for k, n in self._names.items() if k != key}
        for table in (ref.table, second_table_name(*key)):
            if table in taken:
                continue
            if self._existing(table) is None:
                defs = [f"{quote(n)} TEXT NOT NULL" for n in META_COLUMNS]
                if self.entity_mode == "jsonb":
                    defs.append('"data" TEXT')
                defs += [
                    f"{quote(c.name)} {SQLITE_KINDS[c.kind]}{'' if c.nullable else ' NOT NULL'}"
                    for c in columns
                ]
                self.conn.execute(f"CREATE TABLE atomic.{quote(table)} ({', '.join(defs)})")
                return table
            owner = self._owner(table)
            if owner is None or owner == key:
                return table
        return None

    def _ensure(self, ref: SchemaRef) -> str | None:
        """Create or widen the table of a schema; the reason when it cannot be stored."""
        key = (ref.vendor, ref.name, ref.model)
        seen = self._versions.setdefault(key, set())
        if ref.version in seen:
            return None if self._names.get(key) else self._refusal(ref)
        columns: list[Column] = []
        if self.entity_mode == "columns":
            schema = self.schemas.lookup(ref)
            if schema is None:
                return f"schema {ref.uri} not found"
            columns = derive_columns(schema)
        table = self._names.get(key) or self._claim(ref, columns)
        self._names[key] = table
        seen.add(ref.version)
        if table is None:
            return self._refusal(ref)
        existing = self._existing(table) or set()
        for c in columns:
            if c.name not in existing:
                self.conn.execute(
                    f"ALTER TABLE atomic.{quote(table)} ADD COLUMN {quote(c.name)} "
                    f"{SQLITE_KINDS[c.kind]}"
                )
        # SQLite stores any value; the columns are what PostgreSQL's would be: widened as
        # SchemaVer allows, never narrowed (see postgres.widening).
        known = self._columns.setdefault(table, [])
        by_name = {c.name: i for i, c in enumerate(known)}
        for c in columns:
            i = by_name.get(c.name)
            if i is None:
                known.append(Column(c.name, c.path, c.kind, c.length))
                continue
            have = known[i]
            wider, _ = widening(DbColumn(have.kind, have.length, True, have.kind), c)
            if wider is not None:
                known[i] = Column(have.name, have.path, c.kind, c.length)
        return None

    @staticmethod
    def _refusal(ref: SchemaRef) -> str:
        key = (ref.vendor, ref.name, ref.model)
        return (
            f"the tables {ref.table} and {second_table_name(*key)} belong to other schemas: "
            f"{ref.uri} cannot be stored"
        )

    def load(self, lines: Sequence[bytes], batch: str | None = None) -> LoadResult:
        batch = batch_key(batch) if batch else batch_id(lines)
        prepared = prepare(lines)
        bad = list(prepared.bad)
        valid = []
        for ev in prepared.events:
            errors = validate(ev.parts, self.event_ids)
            if errors:
                bad.append(badrows.invalid_values(ev.raw, errors))
            else:
                valid.append(ev)
        # As on PostgreSQL: the batch's load time, UTC, in the enriched timestamp format.
        loaded_at = self.clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        atomic = atomic_columns()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if self.conn.execute(
                "SELECT 1 FROM atomic.plowline_load_manifest WHERE batch_id = ?", (batch,)
            ).fetchone():
                self.conn.execute("ROLLBACK")
                return LoadResult(0, [], skipped=True)
            loaded = 0
            for ev in valid:
                rows: list[tuple[str, list[str], list[Any]]] = []
                reason = None
                for ent in ev.entities:
                    reason = self._ensure(ent.ref)
                    if reason:
                        break
                    ref = ent.ref
                    table = self._names[(ref.vendor, ref.name, ref.model)]
                    assert table is not None  # _ensure gave no reason
                    meta: list[Any] = [
                        ref.vendor,
                        ref.name,
                        ref.format,
                        ref.version,
                        ev.parts[EVENT_ID],
                        ev.parts[COLLECTOR_TSTAMP],
                        "events",
                        ref_tree(ref),
                        "events",
                    ]
                    if self.entity_mode == "jsonb":
                        rows.append(
                            (
                                table,
                                [*META_COLUMNS, "data"],
                                [*meta, json.dumps(ent.data, ensure_ascii=False)],
                            )
                        )
                        continue
                    if not isinstance(ent.data, dict):
                        reason = f"{ref.uri}: data is not an object"
                        break
                    cols = self._columns[table]
                    try:
                        values = [_native(c, extract(ent.data, c.path)) for c in cols]
                    except EncodeError as exc:
                        reason = f"{ref.uri}: {exc}"
                        break
                    rows.append((table, [*META_COLUMNS, *(c.name for c in cols)], [*meta, *values]))
                if reason:
                    bad.append(
                        badrows.invalid_values(
                            ev.raw, [badrows.InvalidValue("contexts", "", reason)]
                        )
                    )
                    continue
                values = [_atomic_value(f, ev.parts[f.index]) for f in atomic]
                values.append(loaded_at)
                marks = ", ".join("?" * (len(atomic) + 1))
                names = ", ".join([*(quote(f.name) for f in atomic), quote(LOAD_TSTAMP)])
                # Every identifier below went through quote(); values are bound parameters.
                insert = f"INSERT INTO atomic.events ({names}) VALUES ({marks})"  # noqa: S608
                self.conn.execute(insert, values)
                for table, names_, vals in rows:
                    listed = ", ".join(quote(n) for n in names_)
                    insert = (
                        f"INSERT INTO atomic.{quote(table)} ({listed})"  # noqa: S608
                        f" VALUES ({', '.join('?' * len(vals))})"
                    )
                    self.conn.execute(insert, vals)
                loaded += 1
            self.conn.execute(
                "INSERT INTO atomic.plowline_load_manifest (batch_id, events, bad)"
                " VALUES (?, ?, ?)",
                (batch, loaded, len(bad)),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._versions.clear()  # DDL rolled back too: re-read the tables next time
            self._columns.clear()
            self._names.clear()
            raise
        return LoadResult(loaded, bad)
