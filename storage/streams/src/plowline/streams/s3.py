"""`s3://<bucket>/<prefix>?endpoint_url=...` (boto3).

The sink buffers records and writes each flush as objects under the prefix (names sort by
time), one per flush or one per `max_object_bytes` of records; an object whose upload fails
keeps its records buffered for the next flush. Hooks for writers with their own layout (the
collector): `key=` names each object (the full key), `body=` turns an object's values into its
bytes (instead of `framing`/`compress`), `client=` takes a ready boto3-like client.
The source reads objects in key order and, on commit, remembers the last object whose records
were all committed (in memory, or in a JSON file with `checkpoint=<path>`).
"""

from __future__ import annotations

import gzip
import json
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from plowline.streams import aws
from plowline.streams.base import Record, SinkError, SinkFullError, SourceError, check_sizes
from plowline.streams.batched import ClosingSink

_LEN = struct.Struct(">I")


def frame(values: Sequence[bytes], framing: str) -> bytes:
    if framing == "lines":
        return b"".join(v + b"\n" for v in values)
    return b"".join(_LEN.pack(len(v)) + v for v in values)


def unframe(data: bytes, framing: str) -> list[bytes]:
    if framing == "lines":
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines
    out: list[bytes] = []
    pos = 0
    while pos + _LEN.size <= len(data):
        (n,) = _LEN.unpack_from(data, pos)
        out.append(data[pos + _LEN.size : pos + _LEN.size + n])
        pos += _LEN.size + n
    return out


class S3Sink(ClosingSink):
    def __init__(
        self,
        url: str,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        framing: str = "lines",
        compress: bool = True,
        max_buffer_bytes: int = 256 * 1024 * 1024,
        max_record_bytes: int = 64 * 1024 * 1024,
        max_object_bytes: int | None = None,
        key: Callable[[], str] | None = None,
        body: Callable[[Sequence[bytes]], bytes] | None = None,
        client: Any | None = None,
    ) -> None:
        if framing not in ("lines", "length"):
            raise SinkError(url, f"framing must be 'lines' or 'length', not {framing!r}")
        self.url = url
        self.max_record_bytes = max_record_bytes
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._framing = framing
        self._compress = compress
        self._max_object = max_object_bytes
        self._key = key or self._default_key
        self._body = body or self._default_body
        self._check_newlines = body is None and framing == "lines"
        self._client = client or aws.client(
            "s3", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._max_buffer = max_buffer_bytes

    def _default_key(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        suffix = ".gz" if self._compress else ""
        return f"{self._prefix}/{stamp}-{uuid.uuid4().hex[:8]}{suffix}".lstrip("/")

    def _default_body(self, values: Sequence[bytes]) -> bytes:
        body = frame(values, self._framing)
        return gzip.compress(body, compresslevel=6) if self._compress else body

    def write(self, records: Sequence[Record]) -> None:
        self._check_open()
        check_sizes(self.url, records, self.max_record_bytes)
        if self._check_newlines and any(b"\n" in r.value for r in records):
            raise SinkError(self.url, "a record holds a newline; use framing='length'")
        size = sum(len(r.value) for r in records)
        if self._buffered + size > self._max_buffer:
            raise SinkFullError(self.url, f"buffer holds {self._buffered} bytes; flush first")
        self._buffer.extend(r.value for r in records)
        self._buffered += size

    def _objects(self) -> list[list[bytes]]:
        """The buffer cut into objects of at most `max_object_bytes` (one when unset)."""
        if self._max_object is None:
            return [self._buffer]
        objects: list[list[bytes]] = [[]]
        size = 0
        for value in self._buffer:
            if objects[-1] and size + len(value) > self._max_object:
                objects.append([])
                size = 0
            objects[-1].append(value)
            size += len(value)
        return objects

    def flush(self, timeout: float = 10.0) -> None:
        if not self._buffer:
            return
        kept: list[bytes] = []
        error: str | None = None
        for values in self._objects():
            if error is not None:  # keep the order: nothing after a failed object goes up
                kept.extend(values)
                continue
            key = self._key()
            try:
                self._client.put_object(Bucket=self._bucket, Key=key, Body=self._body(values))
            except (ClientError, BotoCoreError) as exc:
                error = f"upload of {key} failed: {exc}"
                kept.extend(values)
        self._buffer = kept
        self._buffered = sum(len(v) for v in kept)
        self._last_error = error
        if error is not None:
            raise SinkError(self.url, f"{error}; {len(kept)} records kept for the next flush")


class S3Source:
    def __init__(
        self,
        url: str,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        framing: str = "lines",
        checkpoint: str | Path | None = None,
    ) -> None:
        self.url = url
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._framing = framing
        self._client = aws.client(
            "s3", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self._checkpoint = Path(checkpoint) if checkpoint else None
        self._done_up_to = ""  # last key whose records were all committed
        if self._checkpoint and self._checkpoint.exists():
            self._done_up_to = json.loads(self._checkpoint.read_text()).get("after", "")
        self._read_up_to = self._done_up_to
        self._pending: list[Record] = []
        self._uncommitted: dict[str, set[int]] = {}  # key -> record indexes not yet committed
        self._order: list[str] = []
        self._closed = False

    def _list(self) -> list[str]:
        keys: list[str] = []
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": self._prefix}
        if self._read_up_to:
            args["StartAfter"] = self._read_up_to
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(**args):
                keys.extend(o["Key"] for o in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.url, f"cannot list objects: {exc}") from exc
        return sorted(keys)

    def _load(self, key: str) -> None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.url, f"cannot read {key}: {exc}") from exc
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as exc:
                raise SourceError(self.url, f"{key} is not valid gzip: {exc}") from exc
        values = unframe(body, self._framing)
        self._pending.extend(Record(v, None, (key, i)) for i, v in enumerate(values))
        self._uncommitted[key] = set(range(len(values)))
        self._order.append(key)
        self._read_up_to = key
        if not values:
            self._advance()

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        if not self._pending:
            for key in self._list():
                self._load(key)
                if len(self._pending) >= max_records:
                    break
        out, self._pending = self._pending[:max_records], self._pending[max_records:]
        return out

    def _advance(self) -> None:
        while self._order and not self._uncommitted.get(self._order[0]):
            self._done_up_to = self._order.pop(0)
            self._uncommitted.pop(self._done_up_to, None)

    def commit(self, records: Sequence[Record]) -> None:
        for r in records:
            if not (isinstance(r.position, tuple) and len(r.position) == 2):
                raise SourceError(self.url, "commit got records this source did not produce")
            key, index = r.position
            self._uncommitted.get(key, set()).discard(index)
        before = self._done_up_to
        self._advance()
        if self._checkpoint is not None and self._done_up_to != before:
            self._checkpoint.write_text(json.dumps({"after": self._done_up_to}))

    def close(self) -> None:
        self._closed = True
