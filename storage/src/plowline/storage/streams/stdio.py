"""`stdout:` and `stdin:`: newline-delimited records on the process's standard streams."""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Sequence
from typing import IO

from plowline.storage.streams.base import Record, SinkError, SourceError, check_sizes


class StdoutSink:
    def __init__(
        self, url: str, *, stream: IO[bytes] | None = None, max_record_bytes: int = 64 << 20
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._out = stream if stream is not None else sys.stdout.buffer
        self._closed = False

    def write(self, records: Sequence[Record]) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")
        check_sizes(self.url, records, self.max_record_bytes)
        if any(b"\n" in r.value for r in records):
            raise SinkError(self.url, "a record holds a newline")
        try:
            self._out.write(b"".join(r.value + b"\n" for r in records))
        except (OSError, ValueError) as exc:
            raise SinkError(self.url, f"write failed: {exc}") from exc

    def flush(self, timeout: float = 10.0) -> None:
        try:
            self._out.flush()
        except (OSError, ValueError) as exc:
            raise SinkError(self.url, f"flush failed: {exc}") from exc

    def healthy(self) -> bool:
        return not self._closed

    def close(self, timeout: float = 10.0) -> None:
        if not self._closed:
            self.flush(timeout)
            self._closed = True


class StdinSource:
    """Reads lines; with a real file descriptor it never blocks longer than `timeout`."""

    def __init__(self, url: str, *, stream: IO[bytes] | None = None) -> None:
        self.url = url
        self._in = stream if stream is not None else sys.stdin.buffer
        try:
            self._fd: int | None = self._in.fileno()
        except (OSError, ValueError, AttributeError):
            self._fd = None  # in-memory stream: plain readline never blocks
        self._buffer = b""
        self._line_no = 0
        self.eof = False

    def _fill(self, timeout: float) -> None:
        if self._fd is None:
            chunk = self._in.read(1 << 16)
        else:
            readable, _, _ = select.select([self._fd], [], [], timeout)
            if not readable:
                return
            chunk = os.read(self._fd, 1 << 16)
        if chunk:
            self._buffer += chunk
        else:
            self.eof = True

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        out: list[Record] = []
        try:
            if b"\n" not in self._buffer and not self.eof:
                self._fill(timeout)
            while len(out) < max_records:
                end = self._buffer.find(b"\n")
                if end < 0:
                    if self.eof and self._buffer:
                        end = len(self._buffer)
                    else:
                        break
                line, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
                self._line_no += 1
                out.append(Record(line.rstrip(b"\r"), None, self._line_no))
        except (OSError, ValueError) as exc:
            raise SourceError(self.url, f"read failed: {exc}") from exc
        return out

    def commit(self, records: Sequence[Record]) -> None:
        """Standard input cannot be rewound: committing is a no-op."""

    def close(self) -> None:
        self.eof = True
