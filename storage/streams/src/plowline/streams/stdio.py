"""`stdout:` and `stdin:`: newline-delimited records on the process's standard streams.

`encoding="base64"` writes (and reads) one base64 line per record, so binary values with
newlines travel safely; `raw` (the default) writes the bytes as they are. A line that is not
base64 is handed out as it is (a malformed record for the consumer to judge, not an error).
"""

from __future__ import annotations

import logging
import os
import select
import sys
from collections.abc import Sequence
from typing import IO

from plowline.streams.base import Record, SinkError, SourceError, check_sizes
from plowline.streams.batched import ClosingSink
from plowline.streams.encoding import check_encoding, decode_lines, encode_lines

log = logging.getLogger("plowline.streams.stdio")


class StdoutSink(ClosingSink):
    def __init__(
        self,
        url: str,
        *,
        stream: IO[bytes] | None = None,
        max_record_bytes: int = 64 << 20,
        encoding: str = "raw",
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._encoding = check_encoding(url, encoding, SinkError)
        self._out = stream if stream is not None else sys.stdout.buffer

    def write(self, records: Sequence[Record]) -> None:
        self._check_open()
        check_sizes(self.url, records, self.max_record_bytes)
        data = encode_lines(self.url, [r.value for r in records], self._encoding)
        try:
            self._out.write(data)
        except (OSError, ValueError) as exc:
            self._last_error = str(exc)
            raise SinkError(self.url, f"write failed: {exc}") from exc
        self._last_error = None

    def flush(self, timeout: float = 10.0) -> None:
        try:
            self._out.flush()
        except (OSError, ValueError) as exc:
            self._last_error = str(exc)
            raise SinkError(self.url, f"flush failed: {exc}") from exc


class StdinSource:
    """Reads lines; with a real file descriptor it never blocks longer than `timeout`."""

    def __init__(self, url: str, *, stream: IO[bytes] | None = None, encoding: str = "raw") -> None:
        self.url = url
        self._encoding = check_encoding(url, encoding, SourceError)
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
                [value], malformed = decode_lines([line.rstrip(b"\r")], self._encoding)
                if malformed:
                    log.warning("%s: line %d is not %s, handed out as it is",
                                self.url, self._line_no, self._encoding)  # fmt: skip
                out.append(Record(value, None, self._line_no))
        except (OSError, ValueError) as exc:
            raise SourceError(self.url, f"read failed: {exc}") from exc
        return out

    def commit(self, records: Sequence[Record]) -> None:
        """Standard input cannot be rewound: committing is a no-op."""

    def close(self) -> None:
        self.eof = True
