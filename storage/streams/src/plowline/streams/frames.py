"""Cutting a byte stream into records: newline-terminated lines or 4-byte length prefixes.

Pure functions over the bytes read so far, shared by every reader of framed bytes (file
sources follow appends with them). The rule they implement: only a *complete* record is
handed out. Bytes after the last complete record stay unread (their writer may not have
finished them) unless the caller says the input is `final` (a finished file, or a reader that
is about to stop), in which case they are handed out as they are: the unterminated last line
of a text file is a record, a truncated length-framed record is a broken record whose consumer
makes it a bad row. A length prefix over `max_record_bytes` cannot be a record this stream's
writers made (they refuse larger records): it is reported as corrupt, handed out as a short
sample, and the caller stops reading that input, since length framing has no marker to
resynchronise on.
"""

from __future__ import annotations

import struct
from itertools import accumulate
from typing import Final, NamedTuple

LENGTH: Final = struct.Struct(">I")
# Bytes of a corrupt region handed out as its broken record (enough to look at, bounded).
CORRUPT_SAMPLE: Final = 64 * 1024


class Cut(NamedTuple):
    """What one look at the bytes gave."""

    values: list[bytes]
    # Offset just past each value's record, relative to the bytes given.
    ends: list[int]
    # More bytes are needed for the next record: at least this many from the start of the
    # bytes given (0: nothing is pending, or records came out).
    need: int = 0
    # The last value is not a whole record (truncated tail, corrupt prefix): why.
    problem: str | None = None
    # The bytes after the last value cannot be framed: stop reading this input.
    stop: bool = False


def cut_lines(data: bytes, limit: int, *, final: bool) -> Cut:
    """Up to `limit` newline-terminated lines (CR of a CRLF dropped); the loaders' hot path."""
    cut = data.rfind(b"\n")
    if cut < 0:
        if final and data:  # the unterminated last line of a finished file: still a record
            return Cut([data[:-1] if data.endswith(b"\r") else data], [len(data)])
        return Cut([], [], len(data) + 1)
    lines = data[:cut].split(b"\n")
    tail = final and cut + 1 < len(data)
    if len(lines) >= limit:
        lines = lines[:limit]
        tail = False
    elif tail:
        lines.append(data[cut + 1 :])
    ends = list(accumulate(len(line) + 1 for line in lines))
    if tail:
        ends[-1] = len(data)  # the unterminated last line has no newline to skip
    if any(line.endswith(b"\r") for line in lines):
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    return Cut(lines, ends)


def cut_length(
    data: bytes, limit: int, *, final: bool, max_record_bytes: int, base: int = 0
) -> Cut:
    """Up to `limit` length-prefixed records; `base` is where `data` starts (for messages)."""
    values: list[bytes] = []
    ends: list[int] = []
    pos, size_all = 0, len(data)
    while len(values) < limit and pos < size_all:
        left = size_all - pos
        if left < LENGTH.size:
            if final:
                values.append(data[pos:])
                ends.append(size_all)
                problem = f"truncated record at byte {base + pos}: {left} of a 4-byte length"
                return Cut(values, ends, problem=problem)
            return Cut(values, ends, 0 if values else pos + LENGTH.size)
        (size,) = LENGTH.unpack_from(data, pos)
        if size > max_record_bytes:
            values.append(data[pos : pos + LENGTH.size + CORRUPT_SAMPLE])
            ends.append(size_all)
            problem = (
                f"corrupt length prefix at byte {base + pos}: {size} bytes is over the "
                f"{max_record_bytes}-byte record limit; the rest cannot be framed"
            )
            return Cut(values, ends, problem=problem, stop=True)
        start = pos + LENGTH.size
        if left - LENGTH.size < size:
            if final:
                values.append(data[pos:])
                ends.append(size_all)
                problem = (
                    f"truncated record at byte {base + pos}: {left - LENGTH.size} of its "
                    f"{size} bytes"
                )
                return Cut(values, ends, problem=problem)
            return Cut(values, ends, 0 if values else start + size)
        pos = start + size
        values.append(data[start:pos])
        ends.append(pos)
    return Cut(values, ends)
