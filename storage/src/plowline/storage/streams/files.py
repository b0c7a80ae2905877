"""`file:///abs/path`: newline-delimited or length-prefixed records in local files.

A sink writes one file (appending) or, when the path is a directory, rotated part files; a
source reads one file (following appends) or every finished part file of a directory in name
order. `checkpoint=<path>` makes a source's commits durable across restarts.

Hooks for writers with their own layout (the collector): `name` gives a part file's final name
from its sequence number, `in_progress_suffix` marks the file being written (sources skip it),
`encoding="base64"` writes one base64 line per record, `fsync=False` trades durability for speed.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import IO, Literal

from plowline.storage.streams.base import Record, SinkError, SourceError, check_sizes
from plowline.storage.streams.encoding import check_encoding, decode_line, encode_lines

Framing = Literal["lines", "length"]
_LEN = struct.Struct(">I")
IN_PROGRESS = ".inprogress"


def _check_framing(url: str, framing: str) -> Framing:
    if framing not in ("lines", "length"):
        raise SinkError(url, f"framing must be 'lines' or 'length', not {framing!r}")
    return framing  # type: ignore[return-value]


def _part_name(seq: int) -> str:
    return f"part-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{seq:06d}"


class FileSink:
    def __init__(
        self,
        url: str,
        path: Path,
        *,
        framing: str = "lines",
        encoding: str = "raw",
        max_bytes: int | None = None,
        max_age: float | None = None,
        max_record_bytes: int = 64 * 1024 * 1024,
        directory: bool | None = None,
        name: Callable[[int], str] | None = None,
        in_progress_suffix: str = IN_PROGRESS,
        fsync: bool = True,
    ) -> None:
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._framing = _check_framing(url, framing)
        self._encoding = check_encoding(url, encoding, SinkError)
        self._path = path
        self._dir_mode = path.is_dir() if directory is None else directory
        self._max_bytes = max_bytes
        self._max_age = max_age
        self._name = name or _part_name
        if self._dir_mode and not in_progress_suffix:
            raise SinkError(url, "in_progress_suffix must not be empty")
        self._suffix = in_progress_suffix
        self._fsync = fsync
        self._seq = 0
        self._file: IO[bytes] | None = None
        self._current: Path | None = None
        self._opened_at = 0.0
        self._written = 0
        self._closed = False
        self._last_error: str | None = None
        try:
            if self._dir_mode:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(url, f"cannot create {path}: {exc}") from exc

    def _open(self) -> IO[bytes]:
        if self._file is None:
            if self._dir_mode:
                self._seq += 1
                self._current = self._path / f"{self._name(self._seq)}{self._suffix}"
            else:
                self._current = self._path
            self._file = self._current.open("ab")
            self._opened_at = time.monotonic()
            self._written = 0
        return self._file

    def _frame(self, records: Sequence[Record]) -> bytes:
        if self._framing == "lines":
            return encode_lines(self.url, [r.value for r in records], self._encoding)
        return b"".join(_LEN.pack(len(r.value)) + r.value for r in records)

    def _failed(self, what: str, exc: OSError) -> SinkError:
        self._last_error = f"{what} failed: {exc}"
        return SinkError(self.url, self._last_error)

    def write(self, records: Sequence[Record]) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")
        check_sizes(self.url, records, self.max_record_bytes)
        data = self._frame(records)
        if self._due():  # a file past its age takes no new records
            self._rotate()
        try:
            self._open().write(data)
        except OSError as exc:
            raise self._failed("write", exc) from exc
        self._last_error = None
        self._written += len(data)
        if self._due():
            self._rotate()

    def _due(self) -> bool:
        if self._file is None:
            return False
        if self._max_bytes is not None and self._written >= self._max_bytes:
            return True
        age = time.monotonic() - self._opened_at
        return self._max_age is not None and age >= self._max_age

    def _sync(self, handle: IO[bytes]) -> None:
        handle.flush()
        if self._fsync:
            os.fsync(handle.fileno())

    def _rotate(self) -> None:
        """Close the current file durably and give it its final name."""
        if self._file is None or self._current is None:
            return
        try:
            self._sync(self._file)
            self._file.close()
            if self._dir_mode:
                self._current.rename(
                    self._current.with_name(self._current.name[: -len(self._suffix)])
                )
            else:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
                self._seq += 1
                self._current.rename(
                    self._current.with_name(f"{self._current.name}.{stamp}-{self._seq:06d}")
                )
        except OSError as exc:
            raise self._failed("rotation", exc) from exc
        self._file = None
        self._current = None

    def flush(self, timeout: float = 10.0) -> None:
        if self._closed:
            raise SinkError(self.url, "sink is closed")
        if self._file is None:
            return
        try:
            self._sync(self._file)
        except OSError as exc:
            raise self._failed("flush", exc) from exc
        if self._due():
            self._rotate()

    def healthy(self) -> bool:
        return not self._closed and self._last_error is None

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        if self._file is not None:
            if self._dir_mode:
                self._rotate()
            else:
                self.flush(timeout)
                self._file.close()
                self._file = None
        self._closed = True


class FileSource:
    def __init__(
        self,
        url: str,
        path: Path,
        *,
        framing: str = "lines",
        encoding: str = "raw",
        checkpoint: str | Path | None = None,
        chunk_bytes: int = 1 << 20,
        in_progress_suffix: str = IN_PROGRESS,
    ) -> None:
        self.url = url
        try:
            self._framing = _check_framing(url, framing)
        except SinkError as exc:
            raise SourceError(url, str(exc).split(": ", 1)[1]) from None
        self._encoding = check_encoding(url, encoding, SourceError)
        self._suffix = in_progress_suffix
        self._path = path
        if not path.exists():
            raise SourceError(url, f"{path} does not exist")
        self._checkpoint = Path(checkpoint) if checkpoint else None
        self._committed: dict[str, int] = {}
        if self._checkpoint and self._checkpoint.exists():
            try:
                self._committed = json.loads(self._checkpoint.read_text())
            except (OSError, ValueError) as exc:
                raise SourceError(url, f"unreadable checkpoint {self._checkpoint}: {exc}") from exc
        self._chunk = chunk_bytes
        self._offsets: dict[str, int] = dict(self._committed)  # read position per file
        self._pending = b""
        self._current: str | None = None
        self._closed = False

    def _files(self) -> list[Path]:
        if self._path.is_dir():
            return sorted(
                p for p in self._path.iterdir() if p.is_file() and not p.name.endswith(self._suffix)
            )
        return [self._path]

    def _next_file(self) -> str | None:
        for p in self._files():
            name = str(p)
            if p.stat().st_size > self._offsets.get(name, 0):
                return name
        return None

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        """Records available now; with none, wait up to `timeout` for the file(s) to grow."""
        deadline = time.monotonic() + timeout
        while True:
            out = self._poll_once(max_records)
            left = deadline - time.monotonic()
            if out or left <= 0:
                return out
            time.sleep(min(0.05, left))

    def _poll_once(self, max_records: int) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        out: list[Record] = []
        try:
            while len(out) < max_records:
                if self._current is None:
                    self._current = self._next_file()
                    self._pending = b""
                    if self._current is None:
                        break
                got = self._read(self._current, max_records - len(out))
                if not got:
                    self._current = None
                    continue
                out.extend(got)
        except OSError as exc:
            raise SourceError(self.url, f"read failed: {exc}") from exc
        return out

    def _read(self, name: str, limit: int) -> list[Record]:
        offset = self._offsets.get(name, 0)
        with open(name, "rb") as f:
            f.seek(offset)
            data = f.read(self._chunk)
        if not data:
            return []
        if self._framing == "lines":
            return self._read_lines(name, offset, data, limit)
        records: list[Record] = []
        pos = 0
        while len(records) < limit:  # length framing: a 4-byte big-endian size, then the bytes
            if len(data) - pos < _LEN.size:
                break
            (size,) = _LEN.unpack_from(data, pos)
            if len(data) - pos - _LEN.size < size:
                if size + _LEN.size > self._chunk:
                    self._chunk = size + _LEN.size  # read a bigger chunk next time
                break
            start = pos + _LEN.size
            pos = start + size
            records.append(Record(data[start:pos], None, (name, offset + pos)))
        self._offsets[name] = offset + pos
        return records

    def _read_lines(self, name: str, offset: int, data: bytes, limit: int) -> list[Record]:
        """Newline-framed records of a chunk, split in one pass (the loaders' hot path)."""
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) >= self._chunk:
                self._chunk *= 2  # a line longer than a chunk: read more next time
                return []
            cut = len(data)  # the unterminated last line of a file: still a record
            lines = [data]
        else:
            lines = data[:cut].split(b"\n")
        if len(lines) > limit:
            lines = lines[:limit]
        ends = list(accumulate(len(line) + 1 for line in lines))
        if ends[-1] > len(data):  # the unterminated last line has no newline to skip
            ends[-1] = len(data)
        self._offsets[name] = offset + ends[-1]
        if any(line.endswith(b"\r") for line in lines):
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        if self._encoding != "raw":
            lines = [self._decode(line) for line in lines]
        return [
            Record(line, None, (name, offset + end)) for line, end in zip(lines, ends, strict=True)
        ]

    def _decode(self, line: bytes) -> bytes:
        return decode_line(self.url, line, self._encoding, SourceError)

    def commit(self, records: Sequence[Record]) -> None:
        for r in records:
            if not (isinstance(r.position, tuple) and len(r.position) == 2):
                raise SourceError(self.url, "commit got records this source did not produce")
            name, end = r.position
            if end > self._committed.get(name, 0):
                self._committed[name] = end
        if self._checkpoint is not None and records:
            tmp = self._checkpoint.with_name(self._checkpoint.name + ".tmp")
            try:
                tmp.write_text(json.dumps(self._committed))
                tmp.replace(self._checkpoint)
            except OSError as exc:
                raise SourceError(self.url, f"cannot write checkpoint: {exc}") from exc

    def close(self) -> None:
        self._closed = True
