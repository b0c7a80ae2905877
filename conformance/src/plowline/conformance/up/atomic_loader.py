"""The embedded-store loader in its own process: plowline-storage's ``EmbeddedLoader`` writes
``atomic.events`` and the entity tables of the same SQLite file.

Why a process: loading costs about as much CPU per event as enriching does, and the Micro
API only needs the inspection rows; with the loader beside it on the second core, events
become visible sooner and the pipeline keeps up with more events per second. Rows the loader
refuses are written to the bad table by the loader process itself (with their reason).

Signals: the process ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole process group;
the parent stops the loader with a message once the pipeline has drained), and it starts with
them blocked so none lands before it can ignore them. It ends by itself when the parent dies
(kill -9): it never outlives `plowline up` (a thread waits on the parent's sentinel).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_STOP = "stop"
log = logging.getLogger("plowline.up")


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_with_parent() -> None:
    """Exit as soon as the parent is gone (kill -9). Not by reading the inbox: a parent killed
    while writing leaves half a message there, and reading it would block forever. What was
    not loaded yet is loaded at the next start (``plowline_up_unloaded``); an unfinished load
    is rolled back by SQLite."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(0)


def _child(path: str, roots: list[str], inbox: Any, acks: Any, epoch: Any) -> None:
    for sig in _SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    import sqlite3

    import orjson
    from plowline.conformance.up.events import bad_item_from_json
    from plowline.storage.embedded import EmbeddedLoader
    from plowline.storage.schemas import DirectorySchemas

    def loader_for(folders: list[str]) -> EmbeddedLoader:
        made = EmbeddedLoader(path, schemas=DirectorySchemas([Path(f) for f in folders]))
        made.conn.execute("PRAGMA busy_timeout=10000")
        return made

    loader = loader_for(roots)
    bad = sqlite3.connect(path, isolation_level=None)
    bad.execute("PRAGMA busy_timeout=10000")
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()
    while True:
        message = inbox.get()
        kind = message[0]
        if kind == _STOP:
            break
        if kind == "roots":
            loader.close()
            loader = loader_for(message[1])
        elif kind == "sync":
            acks.put(message[1])
        elif kind == "load":
            if message[1] < epoch.value:
                continue  # sent before a reset: forgotten, never loaded
            batch: str | None = message[3]
            loaded = False
            try:
                refused = loader.load(message[2], batch=batch or str(uuid.uuid4())).bad
                items = [bad_item_from_json(row, "loader") for row in refused]
                loaded = True
            except Exception as exc:  # report as a bad event rather than die
                items = [bad_item_from_json(b"", f"loader: {type(exc).__name__}: {exc}")]
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
            bad.execute("BEGIN IMMEDIATE")
            bad.executemany(
                "INSERT INTO plowline_up_bad (stored_at, collector_ms, kind, vendor, version,"
                " doc, flat) VALUES (?, NULL, ?, NULL, NULL, ?, NULL)",
                [(stamp, i.kind, orjson.dumps(i.doc).decode()) for i in items],
            )
            if loaded and batch is not None:  # loaded (or loaded before: skipped): done
                bad.execute("DELETE FROM plowline_up_unloaded WHERE batch = ?", (batch,))
            bad.execute("COMMIT")
    loader.close()
    bad.close()
    acks.put(_STOP)


class AtomicLoader:
    def __init__(self, path: Path, roots: Sequence[Path]) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork: the parent runs threads
        self._inbox: Any = ctx.Queue(maxsize=256)
        self._acks: Any = ctx.Queue()
        # The epoch of the last reset: the child skips loads sent before it.
        self._epoch: Any = ctx.Value("q", 0)
        self._sync_lock = threading.Lock()
        self._process = ctx.Process(
            target=_child,
            args=(str(path), [str(r) for r in roots], self._inbox, self._acks, self._epoch),
            name="plowline-up-loader",
            daemon=True,
        )
        # Started with SIGINT/SIGTERM blocked (the mask is inherited): the child ignores them
        # before unblocking, so a Ctrl-C during its start never shows it a KeyboardInterrupt.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        self._closed = False
        self.failed = False

    def _put(self, message: tuple[Any, ...]) -> bool:
        """Queue a message; blocks while the loader is busy (back-pressure), never forever."""
        while self._process.is_alive():
            try:
                self._inbox.put(message, timeout=1)
            except queue.Full:
                continue
            return True
        if not self.failed:
            self.failed = True
            log.error("plowline up: the loader process died; atomic tables are not updated")
        return False

    def load(self, lines: list[bytes], epoch: int = 0, batch: str | None = None) -> None:
        """Load ``lines``; with a ``batch`` id, loading it twice loads it once and its row in
        ``plowline_up_unloaded`` is deleted once loaded."""
        if lines:
            self._put(("load", epoch, lines, batch))

    def reset(self, epoch: int, timeout: float = 30) -> bool:
        """From now on skip loads of an epoch before ``epoch``; returns once the load in
        progress (if any) is done, so nothing older is written after this returns."""
        with self._epoch.get_lock():
            self._epoch.value = epoch
        return self.sync(timeout)

    def set_roots(self, roots: Sequence[Path]) -> None:
        self._put(("roots", [str(r) for r in roots]))

    def sync(self, timeout: float = 30) -> bool:
        """Wait until everything sent so far is loaded."""
        token = str(uuid.uuid4())
        with self._sync_lock:  # one waiter at a time: acknowledgements come back in order
            if not self._put(("sync", token)):
                return False
            try:
                while self._acks.get(timeout=timeout) != token:
                    pass
            except queue.Empty:
                return False
        return True

    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self, timeout: float = 60) -> None:
        """Load what is queued, then stop the process."""
        if self._closed:
            return
        self._closed = True
        if self._put((_STOP,)):
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        # The child has ended: nothing left to deliver, so never let interpreter exit wait on
        # the queues' feeder threads (a classic multiprocessing hang).
        self._inbox.cancel_join_thread()
        self._inbox.close()
        self._acks.close()
