"""Spill files: acknowledged records a sink could not take before shutdown, kept on disk.

Format: the magic ``PLSPILL1`` then repeated ``[uint32 big-endian length][record]``. A file is
written under a temporary name, fsync'd and renamed, so a spill file is always complete.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

MAGIC: Final = b"PLSPILL1"
_LEN = struct.Struct(">I")


class SpillError(ValueError):
    """A spill file that is not in the format above."""


def write(directory: Path, stream: str, records: Sequence[bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{stream}-{int(time.time() * 1000)}-{os.getpid()}.spill"
    final = directory / name
    temporary = directory / (name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(MAGIC)
        for record in records:
            handle.write(_LEN.pack(len(record)))
            handle.write(record)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.rename(final)
    return final


def files(directory: Path, stream: str) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"{stream}-*.spill"))


def read(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise SpillError(f"{path} is not a spill file")
    records: list[bytes] = []
    pos = len(MAGIC)
    while pos < len(data):
        if pos + _LEN.size > len(data):
            raise SpillError(f"{path}: truncated length at offset {pos}")
        (size,) = _LEN.unpack_from(data, pos)
        pos += _LEN.size
        if pos + size > len(data):
            raise SpillError(f"{path}: record at offset {pos} runs past the end")
        records.append(data[pos : pos + size])
        pos += size
    return records
