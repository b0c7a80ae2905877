"""The S3 loader: enriched events as gzip TSV objects partitioned by date and hour.

Good events go to `<prefix>/good/[<event_vendor>.<event_name>/<format>/<version>/]yyyy=/mm=/dd=/hh=`
(by collector_tstamp; the schema level only with partition_by_schema). Lines that are not
enriched events become loader_parsing_error bad rows; bad rows (input or our own) go to
`<prefix>/bad/<vendor>.<name>/yyyy=/mm=/dd=/hh=` by processing time. Buffers rotate by size
and age; `flush()` returns the records that are now durably uploaded, so the caller commits
only those (at-least-once, never loss).
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from plowline.storage import tsv
from plowline.storage.atomic import COLLECTOR_TSTAMP, index_of
from plowline.streams import Record, SinkError, aws


@dataclass
class _Buffer:
    lines: list[bytes] = field(default_factory=list)
    size: int = 0


def _hour_path(t: datetime) -> str:
    return t.strftime("yyyy=%Y/mm=%m/dd=%d/hh=%H")


def _safe(part: str) -> str:
    """A path segment from untrusted text: no separators, no dot-dot, bounded."""
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in part)[:200]
    return cleaned.strip(".") or "_"


class S3Loader:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        client: Any = None,
        input_kind: str = "enriched",  # or "badrows": self-describing JSON lines
        partition_by_schema: bool = False,
        max_bytes: int = 64 * 1024 * 1024,
        max_age: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}"
        self._client = client or aws.client(
            "s3", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self.input_kind = input_kind
        self.partition_by_schema = partition_by_schema
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._buffers: dict[str, _Buffer] = {}
        self._records: list[Record] = []
        self._opened: float | None = None
        self._size = 0
        self.uploaded: list[str] = []

    def _good_partition(self, parts: list[str]) -> str:
        try:
            t = datetime.fromisoformat(parts[COLLECTOR_TSTAMP]).replace(tzinfo=UTC)
        except ValueError:
            t = datetime.now(UTC)
        base = "good"
        if self.partition_by_schema:
            v, n, f, ver = (
                parts[index_of(x)]
                for x in ("event_vendor", "event_name", "event_format", "event_version")
            )
            base += f"/{_safe(v)}.{_safe(n)}/{_safe(f)}/{_safe(ver)}"
        return f"{base}/{_hour_path(t)}"

    def _bad_partition(self, line: bytes) -> str:
        kind = "unknown"
        try:
            uri = json.loads(line)["schema"]
            vendor, name = uri.removeprefix("iglu:").split("/")[:2]
            kind = f"{_safe(vendor)}.{_safe(name)}"
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        return f"bad/{kind}/{_hour_path(datetime.now(UTC))}"

    def _put(self, partition: str, line: bytes) -> None:
        buf = self._buffers.setdefault(partition, _Buffer())
        buf.lines.append(line)
        buf.size += len(line) + 1
        self._size += len(line) + 1

    def add(self, records: Sequence[Record]) -> None:
        if self._opened is None and records:
            self._opened = self._clock()
        for r in records:
            if self.input_kind == "badrows":
                self._put(self._bad_partition(r.value), r.value)
                continue
            parts = tsv.split(r.value)
            if isinstance(parts, bytes):
                self._put(self._bad_partition(parts), parts)
            else:
                self._put(self._good_partition(parts), r.value)
        self._records.extend(records)

    def due(self) -> bool:
        if self._opened is None:
            return False
        return self._size >= self.max_bytes or self._clock() - self._opened >= self.max_age

    def flush(self) -> list[Record]:
        """Upload every buffer; return the records now safe to commit."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        for partition in sorted(self._buffers):
            buf = self._buffers[partition]
            body = gzip.compress(b"".join(line + b"\n" for line in buf.lines), compresslevel=6)
            suffix = "tsv.gz" if partition.startswith("good") else "json.gz"
            key = "/".join(
                p
                for p in (self.prefix, partition, f"part-{stamp}-{uuid.uuid4().hex[:12]}.{suffix}")
                if p
            )
            try:
                self._client.put_object(Bucket=self.bucket, Key=key, Body=body)
            except (ClientError, BotoCoreError) as exc:
                raise SinkError(self.url, f"upload of {key} failed: {exc}") from exc
            self.uploaded.append(key)
            del self._buffers[partition]  # uploaded: a retry must not upload it twice
        done, self._records = self._records, []
        self._opened = None
        self._size = 0
        return done
