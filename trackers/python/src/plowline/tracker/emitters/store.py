"""Where events wait until a collector has accepted them: memory, or SQLite to survive restarts.

An event leaves a store only when its request got a 2xx or was refused for good (a 4xx other
than 408/429); every other failure leaves it in place for the next attempt.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from plowline.tracker.errors import ConfigurationError

Payload = dict[str, str]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event's wire parameters and the key that removes it from its store."""

    key: int
    payload: Payload


class EventStore(Protocol):
    """Ordered storage of events not yet delivered. Implementations must be thread-safe."""

    def add(self, payloads: Sequence[Payload]) -> int:
        """Append events in order; returns how many fit (the rest were not stored)."""
        ...

    def peek(self, limit: int) -> list[StoredEvent]:
        """The oldest ``limit`` events, without removing them."""
        ...

    def remove(self, keys: Iterable[int]) -> None:
        """Forget delivered (or refused) events."""
        ...

    def __len__(self) -> int: ...

    def after_fork(self) -> None:
        """Called in a forked child: drop anything shared with the parent process."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """Events in a dict (insertion-ordered); lost when the process ends."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ConfigurationError(f"capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._events: dict[int, Payload] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()

    def add(self, payloads: Sequence[Payload]) -> int:
        with self._lock:
            room = max(0, self._capacity - len(self._events))
            for payload in payloads[:room]:
                self._events[next(self._keys)] = payload
            return min(room, len(payloads))

    def peek(self, limit: int) -> list[StoredEvent]:
        with self._lock:
            items = itertools.islice(self._events.items(), limit)
            return [StoredEvent(key, payload) for key, payload in items]

    def remove(self, keys: Iterable[int]) -> None:
        with self._lock:
            for key in keys:
                self._events.pop(key, None)

    def __len__(self) -> int:
        return len(self._events)

    def after_fork(self) -> None:
        # The parent still holds (and will send) these events; the child starts empty.
        self._events = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Nothing to release."""


class SqliteStore:
    """Events in a SQLite file, so what was not sent survives a crash-free exit or a restart.

    Rows carry the pid of the process that stored them. Opening the file takes over every
    row (the previous process has gone: one process per file). A child created by ``fork``
    reopens the file and sees only its own rows, so parent and child never send one event twice.
    """

    def __init__(self, path: str | os.PathLike[str], *, capacity: int | None = None) -> None:
        if capacity is not None and capacity < 1:
            raise ConfigurationError(f"capacity must be >= 1, got {capacity}")
        self._path = Path(path)
        self._capacity = capacity
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._inherited: list[sqlite3.Connection] = []
        self._db = self._open()
        with self._lock:
            self._db.execute("UPDATE events SET owner = ?", (self._owner,))
            self._count = self._count_rows()

    def _open(self) -> sqlite3.Connection:
        try:
            # Autocommit mode: each statement commits unless wrapped in BEGIN/COMMIT below.
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            db.execute(
                "CREATE TABLE IF NOT EXISTS events ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " owner INTEGER NOT NULL,"
                " payload TEXT NOT NULL)"
            )
        except sqlite3.Error as error:
            raise ConfigurationError(f"cannot open event store {self._path}: {error}") from error
        return db

    def _count_rows(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM events WHERE owner = ?", (self._owner,))
        return int(row.fetchone()[0])

    def add(self, payloads: Sequence[Payload]) -> int:
        with self._lock:
            room = len(payloads) if self._capacity is None else self._capacity - self._count
            accepted = payloads[: max(0, room)]
            if not accepted:
                return 0
            rows = [(self._owner, json.dumps(p, ensure_ascii=False)) for p in accepted]
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO events (owner, payload) VALUES (?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._count += len(accepted)
            return len(accepted)

    def peek(self, limit: int) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, payload FROM events WHERE owner = ? ORDER BY id LIMIT ?",
                (self._owner, limit),
            ).fetchall()
        return [StoredEvent(int(key), json.loads(text)) for key, text in rows]

    def remove(self, keys: Iterable[int]) -> None:
        key_list = list(keys)
        with self._lock:
            self._db.execute("BEGIN")
            removed = 0
            try:
                for start in range(0, len(key_list), 500):  # stay under SQLite's variable limit
                    chunk = key_list[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    cursor = self._db.execute(
                        f"DELETE FROM events WHERE owner = ? AND id IN ({marks})",  # noqa: S608 (only '?' marks are interpolated)
                        (self._owner, *chunk),
                    )
                    removed += cursor.rowcount
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._count -= removed

    def __len__(self) -> int:
        return self._count

    def after_fork(self) -> None:
        # A SQLite connection must never be used (nor closed) across fork: keep the inherited
        # one referenced so it is never garbage-collected here, open a new one, own nothing yet.
        self._inherited.append(self._db)
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._db = self._open()
        self._count = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()
