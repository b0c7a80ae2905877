"""SQS sink: SendMessageBatch (<= 10 messages, <= 256 KiB), base64 bodies (SQS is text-only)."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from typing import Any, Final

from botocore.exceptions import (  # type: ignore[import-untyped]  # no stubs shipped
    BotoCoreError,
    ClientError,
)
from plowline.collector.sinks import SinkError
from plowline.collector.sinks._aws import client

MAX_MESSAGES: Final = 10
MAX_BATCH_BYTES: Final = 262_144
# Raw bytes whose base64 form fits one message (what Snowplow's SQS sink also allows).
DEFAULT_MAX_RECORD: Final = 192_000


def batches(bodies: Sequence[str]) -> list[list[int]]:
    """Indexes of ``bodies`` grouped into SendMessageBatch calls within both limits."""
    out: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, body in enumerate(bodies):
        cost = len(body)
        if current and (len(current) == MAX_MESSAGES or size + cost > MAX_BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(index)
        size += cost
    if current:
        out.append(current)
    return out


class SqsSink:
    def __init__(
        self,
        queue_url: str,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        max_attempts: int = 5,
        max_record_bytes: int = DEFAULT_MAX_RECORD,
        sqs_client: Any | None = None,
    ) -> None:
        self._queue = queue_url
        self._max_attempts = max_attempts
        self._max = min(max_record_bytes, DEFAULT_MAX_RECORD)
        self._client = sqs_client or client("sqs", region, endpoint_url)
        self._error: str | None = None

    @property
    def name(self) -> str:
        return "sqs"

    @property
    def max_record_bytes(self) -> int:
        return self._max

    def write(self, records: Sequence[bytes]) -> None:
        bodies = [base64.b64encode(r).decode("ascii") for r in records]
        undelivered: list[bytes] = []
        for group in batches(bodies):
            failed = self._send([(i, bodies[i]) for i in group])
            undelivered.extend(records[i] for i in failed)
        if undelivered:
            raise SinkError(
                f"sqs: {len(undelivered)} message(s) not accepted ({self._error})", undelivered
            )

    def _send(self, entries: list[tuple[int, str]]) -> list[int]:
        pending = entries
        backoff = 0.05
        for attempt in range(self._max_attempts):
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._queue,
                    Entries=[{"Id": str(i), "MessageBody": body} for i, body in pending],
                )
            except (BotoCoreError, ClientError) as exc:
                self._error = str(exc)
                return [i for i, _ in pending]
            failures = response.get("Failed", [])
            failed_ids = {entry["Id"] for entry in failures}
            if not failed_ids:
                self._error = None
                return []
            pending = [(i, body) for i, body in pending if str(i) in failed_ids]
            self._error = (
                f"{len(pending)} message(s) failed in SendMessageBatch, e.g. "
                f"{failures[0].get('Code')}: {failures[0].get('Message')}"
            )
            if attempt + 1 < self._max_attempts:
                time.sleep(backoff)
                backoff *= 2
        return [i for i, _ in pending]

    def flush(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        return None

    def healthy(self) -> bool:
        return self._error is None
