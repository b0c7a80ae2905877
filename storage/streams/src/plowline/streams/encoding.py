"""Per-record encodings for text transports (files, standard streams): raw or base64 lines.

A line that is not base64 is a malformed record, not a broken stream: readers hand it out as
the bytes it holds (`decode_lines`), and the consumer makes it a bad row (enrich: a
collector_payload_format_violation), as it does with any other record it cannot read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Literal

from plowline.streams.base import SinkError, StreamError

Encoding = Literal["raw", "base64"]


def check_encoding(url: str, encoding: str, error: type[StreamError]) -> Encoding:
    if encoding not in ("raw", "base64"):
        raise error(url, f"encoding must be 'raw' or 'base64', not {encoding!r}")
    return encoding  # type: ignore[return-value]


def encode_lines(url: str, values: Sequence[bytes], encoding: Encoding) -> bytes:
    """Newline-terminated lines; base64 makes any bytes safe, raw refuses a newline."""
    if encoding == "base64":
        return b"".join(base64.b64encode(v) + b"\n" for v in values)
    if any(b"\n" in v for v in values):
        raise SinkError(url, "a record holds a newline; use encoding='base64' or framing='length'")
    return b"".join(v + b"\n" for v in values)


def decode_line(url: str, line: bytes, encoding: Encoding, error: type[StreamError]) -> bytes:
    if encoding == "raw":
        return line
    try:
        return base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(url, f"a line is not base64: {exc}") from exc


def decode_lines(lines: list[bytes], encoding: Encoding) -> tuple[list[bytes], int]:
    """The records of lines, and how many lines were not base64 (kept as they are)."""
    if encoding == "raw":
        return lines, 0
    out: list[bytes] = []
    malformed = 0
    for line in lines:
        try:
            out.append(base64.b64decode(line, validate=True))
        except (binascii.Error, ValueError):
            out.append(line)
            malformed += 1
    return out, malformed
