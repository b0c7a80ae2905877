"""The two places a model runs: PostgreSQL (psycopg) and the embedded SQLite store.

Both expose the same small surface to the runner: statements, a query, one transaction,
and the run parameters table `plw_run` (the only values the SQL reads that Python computed).
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from plowline.models.dialects import Dialect
from psycopg import IsolationLevel

TSTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class ModelError(RuntimeError):
    """The model cannot run against this database; the message says why and what to do."""


def format_tstamp(t: datetime) -> str:
    """The enriched-event timestamp form (milliseconds), as the embedded store keeps it."""
    return t.strftime(TSTAMP_FORMAT)[:-3]


class Engine(ABC):
    dialect: Dialect

    @abstractmethod
    def execute(self, statement: str) -> None: ...

    @abstractmethod
    def query(self, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    @abstractmethod
    def transaction(self) -> Any: ...

    @abstractmethod
    def table_exists(self, schema: str, table: str) -> bool: ...

    @abstractmethod
    def columns(self, schema: str, table: str) -> set[str]: ...

    @abstractmethod
    def set_run(
        self,
        lower: datetime | None,
        high_water: datetime | None,
        mode: str,
        lookback_s: int,
        run_at: datetime,
    ) -> None: ...

    @abstractmethod
    def to_datetime(self, value: Any) -> datetime | None: ...

    @abstractmethod
    def close(self) -> None: ...

    def scalar(self, statement: str) -> Any:
        _, rows = self.query(statement)
        return rows[0][0] if rows else None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


RUN_LOCK = 0x706C6F776D6F64  # "plowmod": the advisory lock key of model runs
_RUN_COLUMNS = "lower_bound {t}, high_water {t}, mode TEXT, lookback_s BIGINT, run_at TEXT"


class PostgresEngine(Engine):
    dialect: Dialect = "postgres"

    def __init__(self, dsn: str) -> None:
        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise ModelError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
        # The model runs a few large statements: JIT compilation costs more than it saves on
        # the small ones an incremental run is made of.
        self.conn.execute("SET jit = off")
        # One snapshot for the whole run: events loaded meanwhile wait for the next run.
        self.conn.isolation_level = IsolationLevel.REPEATABLE_READ

    def execute(self, statement: str) -> None:
        try:
            self.conn.execute(statement.encode("utf-8"))
        except psycopg.Error as exc:
            raise ModelError(f"PostgreSQL refused: {exc}\n-- in:\n{statement[:400]}") from exc

    def query(self, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            cur = self.conn.execute(statement.encode("utf-8"))
        except psycopg.Error as exc:
            raise ModelError(f"PostgreSQL refused: {exc}\n-- in:\n{statement[:400]}") from exc
        names = [d.name for d in cur.description or []]
        return names, list(cur.fetchall())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Runs queue up instead of failing on each other's rows: the session lock is taken
        # before the transaction (and its snapshot) begins.
        self.execute(f"SELECT pg_advisory_lock({RUN_LOCK})")
        try:
            with self.conn.transaction():
                yield
        finally:
            if not self.conn.broken:
                self.conn.execute(f"SELECT pg_advisory_unlock({RUN_LOCK})")

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchone()
        return row is not None

    def columns(self, schema: str, table: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def set_run(
        self,
        lower: datetime | None,
        high_water: datetime | None,
        mode: str,
        lookback_s: int,
        run_at: datetime,
    ) -> None:
        self.execute("DROP TABLE IF EXISTS plw_run")
        self.execute(f"CREATE TEMP TABLE plw_run ({_RUN_COLUMNS.format(t='TIMESTAMP')})")
        self.conn.execute(
            "INSERT INTO plw_run VALUES (%s, %s, %s, %s, %s)",
            (lower, high_water, mode, lookback_s, run_at.isoformat()),
        )

    def to_datetime(self, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        raise ModelError(f"expected a timestamp from PostgreSQL, got {value!r}")

    def close(self) -> None:
        self.conn.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def default_derived_path(events_path: Path) -> Path:
    """Where the embedded store's model tables live: beside the events file."""
    return events_path.with_name(f"{events_path.stem}.derived{events_path.suffix or '.sqlite'}")


class SqliteEngine(Engine):
    """The embedded store: the events file attached as `atomic`, the model file as `derived`."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str | Path, derived_path: str | Path | None = None) -> None:
        events = Path(path)
        if not events.is_file():
            raise ModelError(f"no embedded store at {events} (load events with plowline-load)")
        derived = Path(derived_path) if derived_path else default_derived_path(events)
        if derived.resolve() == events.resolve():
            raise ModelError("the derived database must be a different file from the events")
        self.derived_path = derived
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            self.conn.execute("ATTACH DATABASE ? AS atomic", (str(events),))
            self.conn.execute("ATTACH DATABASE ? AS derived", (str(derived),))
            self.conn.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as exc:
            self.conn.close()
            raise ModelError(f"cannot open the embedded store: {exc}") from exc

    def execute(self, statement: str) -> None:
        try:
            self.conn.execute(statement)
        except sqlite3.Error as exc:
            raise ModelError(f"SQLite refused: {exc}\n-- in:\n{statement[:400]}") from exc

    def query(self, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            cur = self.conn.execute(statement)
        except sqlite3.Error as exc:
            raise ModelError(f"SQLite refused: {exc}\n-- in:\n{statement[:400]}") from exc
        names = [d[0] for d in cur.description or []]
        return names, list(cur.fetchall())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def table_exists(self, schema: str, table: str) -> bool:
        if schema not in ("atomic", "derived", "temp"):
            raise ModelError(f"unknown schema {schema!r}")
        row = self.conn.execute(
            f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?",  # noqa: S608
            (table,),
        ).fetchone()
        return row is not None

    def columns(self, schema: str, table: str) -> set[str]:
        if schema not in ("atomic", "derived"):
            raise ModelError(f"unknown schema {schema!r}")
        rows = self.conn.execute(f"PRAGMA {schema}.table_info({_quote(table)})").fetchall()
        return {str(r[1]) for r in rows}

    def set_run(
        self,
        lower: datetime | None,
        high_water: datetime | None,
        mode: str,
        lookback_s: int,
        run_at: datetime,
    ) -> None:
        self.execute("DROP TABLE IF EXISTS plw_run")
        self.execute(f"CREATE TEMP TABLE plw_run ({_RUN_COLUMNS.format(t='TEXT')})")
        self.conn.execute(
            "INSERT INTO plw_run VALUES (?, ?, ?, ?, ?)",
            (
                format_tstamp(lower) if lower else None,
                format_tstamp(high_water) if high_water else None,
                mode,
                lookback_s,
                run_at.isoformat(),
            ),
        )

    def to_datetime(self, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            return datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ModelError(f"not a timestamp in the embedded store: {value!r}") from exc

    def close(self) -> None:
        self.conn.close()
