"""S3 sink: records gathered into objects, uploaded on flush (or when an object is full).

Object formats:
- ``framed`` (good stream): one gzip'd batch in the §2.6 layout (``01 01`` then
  ``[uint32 length][record]``...), readable with ``plowline.collector.framing.unpack``.
- ``lines`` (bad rows): gzip'd newline-delimited records.
Keys: ``<prefix>YYYY/MM/DD/HH/<epoch ms>-<uuid>.<ext>`` (UTC).
"""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import (  # type: ignore[import-untyped]  # no stubs shipped
    BotoCoreError,
    ClientError,
)
from plowline.collector.framing import Framing, encode_batch
from plowline.collector.sinks import SinkError
from plowline.collector.sinks._aws import client


class S3Sink:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        object_max_bytes: int = 64 * 1024 * 1024,
        format: Literal["framed", "lines"] = "framed",
        max_record_bytes: int = 1_000_000,
        s3_client: Any | None = None,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix
        self._object_max = object_max_bytes
        self._format = format
        self._max = max_record_bytes
        self._client = s3_client or client("s3", region, endpoint_url)
        self._lock = threading.Lock()
        self._objects: list[list[bytes]] = []  # sealed, not yet uploaded
        self._current: list[bytes] = []
        self._size = 0
        self._error: str | None = None

    @property
    def name(self) -> str:
        return "s3"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def write(self, records: Sequence[bytes]) -> None:
        with self._lock:
            for record in records:
                if self._current and self._size + len(record) + 4 > self._object_max:
                    self._objects.append(self._current)
                    self._current, self._size = [], 0
                self._current.append(record)
                self._size += len(record) + 4

    def _body(self, records: list[bytes]) -> tuple[bytes, str]:
        if self._format == "framed":
            return encode_batch(records, Framing.GZIP), "framed.gz"
        return gzip.compress(b"".join(r + b"\n" for r in records), mtime=0), "jsonl.gz"

    def _key(self, ext: str) -> str:
        now = datetime.now(UTC)
        return f"{self._prefix}{now:%Y/%m/%d/%H}/{int(time.time() * 1000)}-{uuid.uuid4().hex}.{ext}"

    def flush(self, timeout: float) -> None:
        with self._lock:
            if self._current:
                self._objects.append(self._current)
                self._current, self._size = [], 0
            objects, self._objects = self._objects, []
        undelivered: list[bytes] = []
        for records in objects:
            body, ext = self._body(records)
            try:
                self._client.put_object(Bucket=self._bucket, Key=self._key(ext), Body=body)
                self._error = None
            except (BotoCoreError, ClientError) as exc:
                self._error = str(exc)
                undelivered.extend(records)
        if undelivered:
            raise SinkError(f"s3: {len(undelivered)} record(s) not uploaded", undelivered)

    def close(self) -> None:
        return None

    def healthy(self) -> bool:
        return self._error is None
