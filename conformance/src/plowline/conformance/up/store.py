"""The inspection store: Micro's good and bad events, plus the embedded atomic tables.

One SQLite file (``--persist PATH``, or a temporary one) holds our two inspection tables
(``plowline_up_good`` / ``plowline_up_bad``: the Micro documents and the columns the filters
need) and, written by plowline-storage's ``EmbeddedLoader`` into the same file,
``atomic.events`` with one table per entity, so `plowline-models` can run on it.

The pipeline thread writes; API handlers read through their own connection (WAL mode lets
reads run beside a write). A file that SQLite cannot read is moved aside, never dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson
from plowline.conformance.up.events import BadItem, GoodItem, Item
from plowline.enrich.fields import FIELD_NAMES
from plowline.storage.embedded import EmbeddedLoader

log = logging.getLogger("plowline.up")

_DDL = (
    "CREATE TABLE IF NOT EXISTS plowline_up_good (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " stored_at TEXT NOT NULL, collector_ms INTEGER, event_type TEXT, event_code TEXT,"
    " schema TEXT, contexts TEXT NOT NULL, doc TEXT NOT NULL, flat TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS plowline_up_bad (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " stored_at TEXT NOT NULL, collector_ms INTEGER, kind TEXT NOT NULL, vendor TEXT,"
    " version TEXT, doc TEXT NOT NULL, flat TEXT)",
    # Write-ahead journal (--persist): collector records not yet stored as events.
    "CREATE TABLE IF NOT EXISTS plowline_up_journal (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " stream TEXT NOT NULL, record BLOB NOT NULL)",
    # (--persist) Good events stored here and not yet in the atomic tables: one row per batch,
    # deleted by the loader process once it has loaded it (loads are idempotent per batch).
    "CREATE TABLE IF NOT EXISTS plowline_up_unloaded (batch TEXT PRIMARY KEY, lines BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS plowline_up_good_type ON plowline_up_good (event_type)",
    "CREATE INDEX IF NOT EXISTS plowline_up_good_schema ON plowline_up_good (schema)",
)
_COLUMN = re.compile(r"^[A-Za-z0-9_]{1,200}$")
_KNOWN_COLUMNS = frozenset(FIELD_NAMES) | {"geo_location"}


SQLITE_HEADER: Final = b"SQLite format 3\x00"
STORE_MARK: Final = "plowline_up_good"  # the table that makes a SQLite file our store


class StoreError(Exception):
    """A ``--persist`` path that cannot be used; the message says why (nothing was changed)."""


class QueryError(ValueError):
    """A filter or paging request the API refuses (answered 400 with this message)."""


@dataclass(frozen=True, slots=True)
class OpenReport:
    path: Path
    temporary: bool
    moved_aside: Path | None = None
    reason: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_readable(path: Path) -> str | None:
    """None when ``path`` is a usable SQLite database, else why not."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        row = conn.execute("PRAGMA quick_check").fetchone()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    if row is None or row[0] != "ok":
        return f"integrity check failed: {row[0] if row else 'no answer'}"
    return None


def move_aside(path: Path) -> Path:
    """Rename a damaged store (and its WAL files) with a UTC timestamp suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def prepare_file(path: Path) -> OpenReport:
    """Check a ``--persist`` path before SQLite opens it. A new path or an empty file is a new
    store; our own store is kept; a SQLite file that cannot be read (a damaged store) is moved
    aside. Anything else (a folder, a file that is not SQLite, another program's database)
    raises ``StoreError`` and is left exactly as it was."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return OpenReport(path, False)
    except OSError as exc:
        raise StoreError(f"cannot use {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(
            f"{path} is a folder; --persist takes a file (a new path, or a store an earlier "
            "plowline up wrote)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path} is not a regular file; --persist takes a store file")
    if info.st_size == 0:
        return OpenReport(path, False)
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a SQLite file; refusing to use or move it (give a new path)"
        )
    reason = _is_readable(path)
    if reason is not None:
        try:
            moved = move_aside(path)
        except OSError as exc:
            raise StoreError(
                f"{path} is a damaged store ({reason}) and cannot be moved aside: "
                f"{exc.strerror or exc}"
            ) from None
        return OpenReport(path, False, moved, reason)
    foreign = _foreign_tables(path)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise StoreError(
            f"{path} is a SQLite database but not a plowline up store (tables: {shown}); "
            "refusing to use it (give a new path)"
        )
    return OpenReport(path, False)


def _foreign_tables(path: Path) -> list[str]:
    """The tables of a readable database that is not ours (none: ours, or empty)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " ORDER BY name"
            )
        ]
    finally:
        conn.close()
    return [] if not names or STORE_MARK in names else names


def open_persist(path: Path) -> OpenReport:
    """``prepare_file`` after making the parent folder, every failure a ``StoreError``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder {path.parent} for the store {path}: {exc.strerror or exc}"
        ) from None
    return prepare_file(path)


class InspectionStore:
    def __init__(self, path: Path, *, temporary: bool = False) -> None:
        self.path = path
        self.temporary = temporary
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._writer = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.execute("PRAGMA busy_timeout=10000")
        for statement in _DDL:
            self._writer.execute(statement)
        # atomic.events exists from the start (the loader process adds entity tables).
        with contextlib.closing(EmbeddedLoader(path)) as first:
            first.setup()
        self._reader = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._reader.execute("PRAGMA busy_timeout=10000")

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._reader.close()
            self._writer.close()

    # ---- writes (pipeline thread, reset) ------------------------------------------------------

    def journal(self, stream: str, records: Sequence[bytes]) -> list[int]:
        """Write collector records to the journal (committed: they survive kill -9); returns
        their sequence numbers, in order."""
        if not records:
            return []
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                seqs = []
                for record in records:
                    cursor = conn.execute(
                        "INSERT INTO plowline_up_journal (stream, record) VALUES (?, ?)",
                        (stream, record),
                    )
                    seqs.append(int(cursor.lastrowid or 0))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return seqs

    def journaled(self) -> list[tuple[str, bytes, int | None]]:
        """Journal records not yet stored as events, oldest first."""
        with self._write_lock:
            rows = self._writer.execute(
                "SELECT stream, record, seq FROM plowline_up_journal ORDER BY seq"
            ).fetchall()
        return [(str(stream), bytes(record), int(seq)) for stream, record, seq in rows]

    def journal_size(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM plowline_up_journal").fetchone()[0])

    def unloaded(self) -> list[tuple[str, list[bytes]]]:
        """Batches stored but not yet loaded into the atomic tables, oldest first."""
        with self._write_lock:
            rows = self._writer.execute(
                "SELECT batch, lines FROM plowline_up_unloaded ORDER BY rowid"
            ).fetchall()
        return [(str(batch), bytes(lines).split(b"\n")) for batch, lines in rows]

    def unloaded_size(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM plowline_up_unloaded").fetchone()[0])

    def add(
        self,
        items: Sequence[Item],
        *,
        journal_range: tuple[int, int] | None = None,
        unloaded: tuple[str, Sequence[bytes]] | None = None,
        keep: Callable[[], bool] | None = None,
    ) -> bool:
        """Store one batch of inspection rows in one transaction, removing the batch's journal
        records (``journal_range``: first and last sequence number) in the same one. Nothing
        is stored when ``keep`` (asked under the write lock) says no: a reset came first. True
        when stored. ``unloaded`` (batch id, TSV lines) is kept until the loader has it."""
        goods = [i for i in items if isinstance(i, GoodItem)]
        bads = [i for i in items if isinstance(i, BadItem)]
        stamp = _now()
        with self._write_lock:
            if keep is not None and not keep():
                return False
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO plowline_up_good (stored_at, collector_ms, event_type, event_code,"
                    " schema, contexts, doc, flat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            stamp,
                            g.collector_ms,
                            g.event_type,
                            g.event_code,
                            g.schema,
                            orjson.dumps(g.contexts).decode(),
                            orjson.dumps(g.doc).decode(),
                            orjson.dumps(g.flat).decode(),
                        )
                        for g in goods
                    ],
                )
                conn.executemany(
                    "INSERT INTO plowline_up_bad (stored_at, collector_ms, kind, vendor, version,"
                    " doc, flat) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            stamp,
                            b.collector_ms,
                            b.kind,
                            b.vendor,
                            b.version,
                            orjson.dumps(b.doc).decode(),
                            orjson.dumps(b.flat).decode() if b.flat is not None else None,
                        )
                        for b in bads
                    ],
                )
                if unloaded is not None:
                    conn.execute(
                        "INSERT INTO plowline_up_unloaded (batch, lines) VALUES (?, ?)",
                        (unloaded[0], b"\n".join(unloaded[1])),
                    )
                if journal_range is not None:
                    conn.execute(
                        "DELETE FROM plowline_up_journal WHERE seq BETWEEN ? AND ?", journal_range
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return True

    def reset(self) -> None:
        """Forget every event: inspection rows and the embedded atomic/entity tables."""
        with self._write_lock:
            conn = self._writer
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
            ]
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in tables:
                    quoted = '"' + table.replace('"', '""') + '"'
                    conn.execute(f"DELETE FROM {quoted}")  # noqa: S608 - names from sqlite_master
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # ---- reads (API) -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            yield self._reader

    def loader_refusals(self) -> int:
        with self._read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM plowline_up_bad WHERE kind LIKE 'loader%'"
            ).fetchone()
        return int(row[0])

    def counts(self) -> dict[str, int]:
        with self._read() as conn:
            good = conn.execute("SELECT count(*) FROM plowline_up_good").fetchone()[0]
            bad = conn.execute("SELECT count(*) FROM plowline_up_bad").fetchone()[0]
        return {"total": good + bad, "good": good, "bad": bad}

    def good(
        self,
        *,
        event_type: str | None = None,
        schema: str | None = None,
        contexts: Sequence[str] = (),
        limit: int | None = None,
    ) -> bytes:
        """GoodEvents as a JSON array (most recent first), filtered like Micro's."""
        where: list[str] = []
        args: list[Any] = []
        if event_type is not None:
            where.append("(event_type = ? OR event_code = ?)")
            args += [event_type, event_type]
        if schema is not None:
            where.append("schema = ?")
            args.append(_iglu(schema))
        for context in contexts:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(plowline_up_good.contexts) WHERE value = ?)"
            )
            args.append(_iglu(context))
        sql = "SELECT doc FROM plowline_up_good"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return _array(r[0] for r in rows)

    def bad(
        self, *, vendor: str | None = None, version: str | None = None, limit: int | None = None
    ) -> bytes:
        where: list[str] = []
        args: list[Any] = []
        if vendor is not None:
            where.append("vendor = ?")
            args.append(vendor)
        if version is not None:
            where.append("version = ?")
            args.append(version)
        sql = "SELECT doc FROM plowline_up_bad"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return _array(r[0] for r in rows)

    def events(
        self,
        *,
        page: int = 1,
        page_size: int = 50,
        filters: Sequence[tuple[str, Sequence[str]]] = (),
        valid: bool | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        sort_column: str | None = None,
        sort_desc: bool = True,
    ) -> dict[str, Any]:
        """Micro's paged ``/micro/events``: analytics-SDK JSON of good and failed events."""
        where: list[str] = []
        args: list[Any] = []
        if valid is not None:
            where.append("valid = ?")
            args.append(1 if valid else 0)
        for column, values in filters:
            path = _json_path(column)
            if not values:
                continue
            marks = ", ".join("?" * len(values))
            where.append(f"CAST(json_extract(flat, ?) AS TEXT) IN ({marks})")
            args += [path, *values]
        if start_ms is not None:
            where.append("collector_ms >= ?")
            args.append(start_ms)
        if end_ms is not None:
            where.append("collector_ms < ?")
            args.append(end_ms)
        base = (
            "WITH ev AS (SELECT id, 1 AS valid, collector_ms, flat FROM plowline_up_good"
            " UNION ALL SELECT id, 0, collector_ms, flat FROM plowline_up_bad"
            " WHERE flat IS NOT NULL) SELECT {what} FROM ev"
        )
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        order_args: list[Any] = []
        direction = "DESC" if sort_desc else "ASC"
        if sort_column is not None:
            order = f" ORDER BY json_extract(flat, ?) {direction}, collector_ms {direction}"
            order_args.append(_json_path(sort_column))
        else:
            order = f" ORDER BY collector_ms {direction}, valid, id {direction}"
        with self._read() as conn:
            total = conn.execute(base.format(what="count(*)") + clause, args).fetchone()[0]
            rows = conn.execute(
                base.format(what="flat") + clause + order + " LIMIT ? OFFSET ?",
                [*args, *order_args, page_size, (page - 1) * page_size],
            ).fetchall()
        return {
            "events": [json.loads(r[0]) for r in rows],
            "totalPages": -(-total // page_size) if total else 0,
            "totalItems": total,
        }

    def timeline(self, buckets: Sequence[tuple[int, int, str, str]]) -> list[dict[str, Any]]:
        points = []
        with self._read() as conn:
            for start, end, start_text, end_text in buckets:
                good = conn.execute(
                    "SELECT count(*) FROM plowline_up_good WHERE collector_ms >= ?"
                    " AND collector_ms < ?",
                    (start, end),
                ).fetchone()[0]
                bad = conn.execute(
                    "SELECT count(*) FROM plowline_up_bad WHERE collector_ms >= ?"
                    " AND collector_ms < ?",
                    (start, end),
                ).fetchone()[0]
                points.append(
                    {
                        "validEvents": good,
                        "failedEvents": bad,
                        "bucket": {"start": start_text, "end": end_text},
                    }
                )
        return points


def _iglu(uri: str) -> str:
    return uri if uri.startswith("iglu:") else "iglu:" + uri


def _json_path(column: str) -> str:
    if not _COLUMN.match(column) or not (
        column in _KNOWN_COLUMNS or column.startswith(("contexts_", "unstruct_event_"))
    ):
        raise QueryError(f"unknown column {column!r}")
    return "$." + column


def _array(docs: Iterator[str] | Any) -> bytes:
    return b"[" + b",".join(d.encode("utf-8") for d in docs) + b"]"
