"""The embedded store: the same atomic.events and per-schema tables in one SQLite file.

The database file is attached as `atomic`, so queries read `atomic.events` as on PostgreSQL.
SQLite does not enforce column types or lengths, so every value is validated in Python first
(the same limits as PostgreSQL; refused events become the same loader bad rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plowline.storage import badrows
from plowline.storage.atomic import COLLECTOR_TSTAMP, EVENT_ID, Field, atomic_columns
from plowline.storage.postgres import EncodeError, LoadResult, encode
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
    ) -> None:
        self.path = str(path)
        self.entity_mode = entity_mode
        self.schemas = schemas if schemas is not None else DirectorySchemas()
        # isolation_level=None: transactions are explicit BEGIN/COMMIT below.
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.execute("ATTACH DATABASE ? AS atomic", (self.path,))
        self._columns: dict[str, list[Column]] = {}
        self._versions: dict[str, set[str]] = {}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EmbeddedLoader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def setup(self) -> None:
        cols = ", ".join(f"{quote(f.name)} {_atomic_type(f)}" for f in atomic_columns())
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS atomic.events ({cols})")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS atomic.plowline_load_manifest (batch_id TEXT PRIMARY KEY,"
            " loaded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, events INTEGER NOT NULL,"
            " bad INTEGER NOT NULL)"
        )

    def _existing(self, table: str) -> set[str] | None:
        rows = self.conn.execute(f"PRAGMA atomic.table_info({quote(table)})").fetchall()
        return {r[1] for r in rows} if rows else None

    def _ensure(self, ref: SchemaRef) -> str | None:
        """Create or widen the table of a schema; the reason when it cannot be stored."""
        table = ref.table
        seen = self._versions.setdefault(table, set())
        if ref.version in seen:
            return None
        columns: list[Column] = []
        if self.entity_mode == "columns":
            schema = self.schemas.lookup(ref)
            if schema is None:
                return f"schema {ref.uri} not found"
            columns = derive_columns(schema)
        existing = self._existing(table)
        if existing is None:
            defs = [f"{quote(n)} TEXT NOT NULL" for n in META_COLUMNS]
            if self.entity_mode == "jsonb":
                defs.append('"data" TEXT')
            defs += [
                f"{quote(c.name)} {SQLITE_KINDS[c.kind]}{'' if c.nullable else ' NOT NULL'}"
                for c in columns
            ]
            self.conn.execute(f"CREATE TABLE atomic.{quote(table)} ({', '.join(defs)})")
            existing = set(META_COLUMNS) | {c.name for c in columns}
        for c in columns:
            if c.name not in existing:
                self.conn.execute(
                    f"ALTER TABLE atomic.{quote(table)} ADD COLUMN {quote(c.name)} "
                    f"{SQLITE_KINDS[c.kind]}"
                )
        known = self._columns.setdefault(table, [])
        names = {c.name for c in known}
        known += [Column(c.name, c.path, c.kind, c.length) for c in columns if c.name not in names]
        seen.add(ref.version)
        return None

    def load(self, lines: Sequence[bytes], batch: str | None = None) -> LoadResult:
        batch = batch_key(batch) if batch else batch_id(lines)
        prepared = prepare(lines, validate=True)
        bad = list(prepared.bad)
        atomic = atomic_columns()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if self.conn.execute(
                "SELECT 1 FROM atomic.plowline_load_manifest WHERE batch_id = ?", (batch,)
            ).fetchone():
                self.conn.execute("ROLLBACK")
                return LoadResult(0, [], skipped=True)
            loaded = 0
            for ev in prepared.events:
                rows: list[tuple[str, list[str], list[Any]]] = []
                reason = None
                for ent in ev.entities:
                    reason = self._ensure(ent.ref)
                    if reason:
                        break
                    ref = ent.ref
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
                                ref.table,
                                [*META_COLUMNS, "data"],
                                [*meta, json.dumps(ent.data, ensure_ascii=False)],
                            )
                        )
                        continue
                    if not isinstance(ent.data, dict):
                        reason = f"{ref.uri}: data is not an object"
                        break
                    cols = self._columns[ref.table]
                    try:
                        values = [_native(c, extract(ent.data, c.path)) for c in cols]
                    except EncodeError as exc:
                        reason = f"{ref.uri}: {exc}"
                        break
                    rows.append(
                        (ref.table, [*META_COLUMNS, *(c.name for c in cols)], [*meta, *values])
                    )
                if reason:
                    bad.append(
                        badrows.invalid_values(
                            ev.raw, [badrows.InvalidValue("contexts", "", reason)]
                        )
                    )
                    continue
                values = [_atomic_value(f, ev.parts[f.index]) for f in atomic]
                marks = ", ".join("?" * len(atomic))
                names = ", ".join(quote(f.name) for f in atomic)
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
            raise
        return LoadResult(loaded, bad)
