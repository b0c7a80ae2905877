"""`file:///abs/path`: newline-delimited or length-prefixed records in local files.

A sink writes one file (appending) or, when the path is a directory, rotated part files; a
source reads one file (following appends) or every finished part file of a directory in name
order. `checkpoint=<path>` makes a source's commits durable across restarts. Which files are
finished is one rule (`is_finished`), shared by every writer and reader; a source hands out
only complete records (`FileSource`).

Hooks for writers with their own layout (the collector): `name` gives a part file's final name
from its sequence number, `in_progress_suffix` (one of `IN_PROGRESS_SUFFIXES`) marks the file
being written, `encoding="base64"` writes one base64 line per record, `fsync=False` trades
durability for speed.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final, Literal

from plowline.streams.base import Record, SinkError, SourceError, check_sizes
from plowline.streams.encoding import check_encoding, decode_lines, encode_lines
from plowline.streams.frames import LENGTH, cut_length, cut_lines

Framing = Literal["lines", "length"]
_LEN = LENGTH
log = logging.getLogger("plowline.streams.files")
IN_PROGRESS = ".inprogress"
# The names a file being written may end with; nothing else marks a file unfinished.
IN_PROGRESS_SUFFIXES: Final = (IN_PROGRESS, ".open")


def is_finished(name: str) -> bool:
    """The one rule every writer and reader of part files shares: a file is finished (whole,
    never written again) unless its name starts with "." or ends with an in-progress suffix.

    Writers write under such a name and rename when done (FileSink, the collector's `.open`
    files); a file copied into a followed folder must be written elsewhere (or under such a
    name) and renamed in.
    """
    return not name.startswith(".") and not name.endswith(IN_PROGRESS_SUFFIXES)


def _unknown_suffix(suffix: str) -> str:
    return (
        f"in_progress_suffix must be one of {', '.join(IN_PROGRESS_SUFFIXES)} (readers skip "
        f"only those), not {suffix!r}"
    )


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
        if in_progress_suffix not in IN_PROGRESS_SUFFIXES:
            raise SinkError(url, _unknown_suffix(in_progress_suffix))
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
    """Follows one file, or the finished part files of a folder in name order.

    Only complete records are handed out (see `frames`); what follows the last one waits for
    its writer. It is handed out as it is, for the consumer to judge (the unterminated last
    line of a text file is a record; a truncated length-framed record becomes a bad row),
    when the file is finished: a part file of a folder (`is_finished`), a single file opened
    with `follow=False`, or any file once the reader called `end_of_input` (it is about to
    stop). A file whose bytes cannot be framed (a corrupt length prefix) is read up to that
    point, the rest is handed out as one short broken record, logged, and the file is not
    read further. A file that holds nothing new is not read again until it grows: a poll
    never spins.
    """

    def __init__(
        self,
        url: str,
        path: Path,
        *,
        framing: str = "lines",
        encoding: str = "raw",
        checkpoint: str | Path | None = None,
        chunk_bytes: int = 1 << 20,
        in_progress_suffix: str | None = None,
        follow: bool = True,
        max_record_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.url = url
        try:
            self._framing = _check_framing(url, framing)
        except SinkError as exc:
            raise SourceError(url, str(exc).split(": ", 1)[1]) from None
        self._encoding = check_encoding(url, encoding, SourceError)
        if in_progress_suffix is not None and in_progress_suffix not in IN_PROGRESS_SUFFIXES:
            raise SourceError(url, _unknown_suffix(in_progress_suffix))
        self._path = path
        if not path.exists():
            raise SourceError(url, f"{path} does not exist")
        self._dir = path.is_dir()
        self._checkpoint = Path(checkpoint) if checkpoint else None
        self._committed: dict[str, int] = {}
        if self._checkpoint and self._checkpoint.exists():
            try:
                self._committed = json.loads(self._checkpoint.read_text())
            except (OSError, ValueError) as exc:
                raise SourceError(url, f"unreadable checkpoint {self._checkpoint}: {exc}") from exc
        self._own: set[str] = set()
        if self._checkpoint is not None:
            self._own = {self._checkpoint.name, self._checkpoint.name + ".tmp"}
        self._chunk = chunk_bytes
        self._max_record = max_record_bytes
        self._follow = follow
        self._ended = False  # end_of_input: every file is final now
        self._offsets: dict[str, int] = dict(self._committed)  # read position per file
        self._waiting: dict[str, int] = {}  # file -> size when it held only an incomplete tail
        self._stopped: set[str] = set()  # files whose bytes could not be framed
        self._current: str | None = None
        self._closed = False

    def _files(self) -> list[Path]:
        if self._dir:
            return sorted(
                p
                for p in self._path.iterdir()
                if is_finished(p.name) and p.name not in self._own and p.is_file()
            )
        return [self._path]

    def _next_file(self) -> str | None:
        for p in self._files():
            name = str(p)
            if name in self._stopped:
                continue
            try:
                size = p.stat().st_size
            except FileNotFoundError:  # removed since the listing
                continue
            if size > self._offsets.get(name, 0) and self._waiting.get(name) != size:
                return name
        return None

    def end_of_input(self) -> bool:
        """The reader is about to stop: hand out what is held after the last complete record.

        True when such bytes are waiting (poll again before stopping).
        """
        self._ended = True
        held = bool(self._waiting)
        self._waiting.clear()
        return held

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
                    if self._current is None:
                        break
                got = self._read(self._current, max_records - len(out))
                if not got:  # _read marked the file waiting (or done): the next one
                    self._current = None
                    continue
                out.extend(got)
        except OSError as exc:
            raise SourceError(self.url, f"read failed: {exc}") from exc
        return out

    def _final(self) -> bool:
        """Whether the bytes at the end of a file are all its writer will write."""
        return self._ended or not self._follow or self._dir

    def _read(self, name: str, limit: int) -> list[Record]:
        if name in self._stopped:  # still the current file of an earlier poll
            return []
        offset = self._offsets.get(name, 0)
        chunk = self._chunk
        with open(name, "rb") as f:
            while True:
                size = os.fstat(f.fileno()).st_size
                f.seek(offset)
                # Never more than the file holds: a big chunk (a long record) is not allocated
                # again on every look at a file that holds only the start of that record.
                data = f.read(max(0, min(chunk, size - offset)))
                eof = offset + len(data) >= size
                final = eof and self._final()
                if self._framing == "lines":
                    cut = cut_lines(data, limit, final=final)
                else:
                    cut = cut_length(
                        data, limit, final=final, max_record_bytes=self._max_record, base=offset
                    )
                if cut.values or eof or cut.need <= len(data):
                    break
                # The next record is longer than a chunk: read a bigger one (bounded for
                # length framing by the record limit, which cut_length enforces).
                chunk = max(cut.need, 2 * chunk if self._framing == "lines" else chunk)
                self._chunk = max(self._chunk, chunk)
        if not cut.values:
            if size > offset:
                self._waiting[name] = size  # an incomplete tail: not again until it grows
            return []
        self._waiting.pop(name, None)
        ends = [offset + end for end in cut.ends]
        if cut.stop:
            ends[-1] = max(ends[-1], size)
            self._stopped.add(name)
            log.error("%s: %s: %s; not reading this file further", self.url, name, cut.problem)
        elif cut.problem:
            log.warning("%s: %s: %s", self.url, name, cut.problem)
        self._offsets[name] = ends[-1]
        values = cut.values
        if self._framing == "lines" and self._encoding != "raw":
            values, malformed = decode_lines(values, self._encoding)
            if malformed:
                log.warning(
                    "%s: %s: %d line(s) not %s, handed out as they are",
                    self.url, name, malformed, self._encoding,
                )  # fmt: skip
        return [Record(v, None, (name, end)) for v, end in zip(values, ends, strict=True)]

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
