"""Rotating-file sink: one line per record, files rotated by size and age.

The file being written is named ``<prefix>-<UTC start>-<seq>.<ext>.open``; on rotation or close
it is fsync'd and renamed without ``.open``, so a reader that ignores ``*.open`` only ever sees
complete files. ``flush`` fsyncs, which is what makes a write durable.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from plowline.collector.sinks import SinkError

OPEN_SUFFIX = ".open"


class FileSink:
    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "records",
        encoding: Literal["base64", "raw"] = "base64",
        rotate_bytes: int = 128 * 1024 * 1024,
        rotate_seconds: float = 3600,
        fsync: bool = True,
        max_record_bytes: int = 1_000_000,
    ) -> None:
        self._dir = directory
        self._prefix = prefix
        self._encoding = encoding
        self._ext = "b64" if encoding == "base64" else "lines"
        self._rotate_bytes = rotate_bytes
        self._rotate_seconds = rotate_seconds
        self._fsync = fsync
        self._max = max_record_bytes
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._opened_at = 0.0
        self._size = 0
        self._seq = 0
        self._error: str | None = None
        self._dir.mkdir(parents=True, exist_ok=True)

    @property
    def name(self) -> str:
        return "file"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def _open(self) -> BinaryIO:
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{self._prefix}-{stamp}-{os.getpid()}-{self._seq:06d}.{self._ext}{OPEN_SUFFIX}"
        self._path = self._dir / name
        self._file = self._path.open("ab")
        self._opened_at = time.monotonic()
        self._size = 0
        return self._file

    def _finish(self) -> None:
        if self._file is None or self._path is None:
            return
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        self._path.rename(self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX)))
        self._file = None
        self._path = None

    def write(self, records: Sequence[bytes]) -> None:
        if self._encoding == "base64":
            data = b"".join(base64.b64encode(r) + b"\n" for r in records)
        else:
            data = b"".join(r + b"\n" for r in records)
        with self._lock:
            try:
                if self._file is not None and (
                    self._size >= self._rotate_bytes
                    or time.monotonic() - self._opened_at >= self._rotate_seconds
                ):
                    self._finish()
                handle = self._file if self._file is not None else self._open()
                handle.write(data)
                self._size += len(data)
                self._error = None
            except OSError as exc:
                self._error = str(exc)
                raise SinkError(f"file write failed: {exc}", undelivered=records) from exc

    def flush(self, timeout: float) -> None:
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.flush()
                if self._fsync:
                    os.fsync(self._file.fileno())
            except OSError as exc:
                self._error = str(exc)
                raise SinkError(f"file flush failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._finish()

    def healthy(self) -> bool:
        return self._error is None
