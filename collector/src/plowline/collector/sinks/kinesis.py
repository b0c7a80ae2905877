"""Kinesis sink: PutRecords in chunks of <= 500 records / 5 MiB, retrying failed records only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, Final

from botocore.exceptions import (  # type: ignore[import-untyped]  # no stubs shipped
    BotoCoreError,
    ClientError,
)
from plowline.collector.sinks import SinkError
from plowline.collector.sinks._aws import client

MAX_RECORDS: Final = 500
MAX_REQUEST_BYTES: Final = 5 * 1024 * 1024
KINESIS_MAX_RECORD: Final = 1024 * 1024  # data + partition key


def chunks(records: Sequence[bytes], key_bytes: int) -> list[list[bytes]]:
    """Split into PutRecords calls that respect the count and size limits."""
    out: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for record in records:
        cost = len(record) + key_bytes
        if current and (len(current) == MAX_RECORDS or size + cost > MAX_REQUEST_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(record)
        size += cost
    if current:
        out.append(current)
    return out


class KinesisSink:
    def __init__(
        self,
        stream_name: str,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        max_attempts: int = 5,
        max_record_bytes: int = 1_000_000,
        kinesis_client: Any | None = None,
    ) -> None:
        self._stream = stream_name
        self._max_attempts = max_attempts
        self._max = min(max_record_bytes, KINESIS_MAX_RECORD - 36)
        self._client = kinesis_client or client("kinesis", region, endpoint_url)
        self._error: str | None = None

    @property
    def name(self) -> str:
        return "kinesis"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def write(self, records: Sequence[bytes]) -> None:
        undelivered: list[bytes] = []
        for chunk in chunks(records, 36):
            undelivered.extend(self._put(chunk))
        if undelivered:
            raise SinkError(f"kinesis: {len(undelivered)} record(s) not accepted", undelivered)

    def _put(self, chunk: list[bytes]) -> list[bytes]:
        pending = chunk
        backoff = 0.05
        for attempt in range(self._max_attempts):
            entries = [{"Data": r, "PartitionKey": str(uuid.uuid4())} for r in pending]
            try:
                response = self._client.put_records(StreamName=self._stream, Records=entries)
            except (BotoCoreError, ClientError) as exc:
                self._error = str(exc)
                return pending  # the whole call failed; the buffer retries with back-off
            if not response.get("FailedRecordCount"):
                self._error = None
                return []
            # Per-record failures (throttling, internal errors): retry only those.
            pending = [
                record
                for record, result in zip(pending, response["Records"], strict=True)
                if result.get("ErrorCode")
            ]
            self._error = f"{len(pending)} record(s) failed in PutRecords"
            if attempt + 1 < self._max_attempts:
                time.sleep(backoff)
                backoff *= 2
        return pending

    def flush(self, timeout: float) -> None:
        return None  # write() is synchronous

    def close(self) -> None:
        return None

    def healthy(self) -> bool:
        return self._error is None
