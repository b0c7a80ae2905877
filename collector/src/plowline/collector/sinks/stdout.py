"""Stdout sink: one line per record, base64 for binary records (as Snowplow's stdout sink)."""

from __future__ import annotations

import base64
import sys
import threading
from collections.abc import Sequence
from typing import BinaryIO, Literal

from plowline.collector.sinks import SinkError


class StdoutSink:
    def __init__(
        self,
        encoding: Literal["base64", "raw"] = "base64",
        max_record_bytes: int = 1_000_000,
        stream: BinaryIO | None = None,
    ) -> None:
        self._encoding = encoding
        self._max = max_record_bytes
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._lock = threading.Lock()
        self._broken = False

    @property
    def name(self) -> str:
        return "stdout"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def write(self, records: Sequence[bytes]) -> None:
        if self._encoding == "base64":
            lines = b"".join(base64.b64encode(r) + b"\n" for r in records)
        else:
            lines = b"".join(r + b"\n" for r in records)
        with self._lock:
            try:
                self._stream.write(lines)
            except (OSError, ValueError) as exc:
                self._broken = True
                raise SinkError(f"stdout write failed: {exc}", undelivered=records) from exc

    def flush(self, timeout: float) -> None:
        with self._lock:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._broken = True
                raise SinkError(f"stdout flush failed: {exc}") from exc

    def close(self) -> None:
        return None

    def healthy(self) -> bool:
        return not self._broken
