"""`sqs://<queue-name>?endpoint_url=...&region=...` (boto3).

SQS bodies are text, so values travel base64-encoded (keys in a binary message attribute).
The sink sends batches of at most 10 messages and 256 KiB, retrying the messages a batch
names as failed within the flush timeout and at most `max_attempts` calls per flush (what still
fails stays buffered for the next flush). `queue_url=` skips the name lookup, `client=` takes a
ready boto3-like client. The source's commit deletes the
messages, and anything not committed reappears after the visibility timeout.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from plowline.streams import aws
from plowline.streams.base import Record, SinkError, SourceError
from plowline.streams.batched import BatchApiSink, cut

SQS_LIMIT = 256 * 1024
# base64 grows 4/3; leave room for the key attribute.
MAX_RECORD_BYTES = (SQS_LIMIT - 1024) * 3 // 4


def _queue_url(client: Any, url: str, name: str, error: type[SinkError | SourceError]) -> str:
    try:
        return str(client.get_queue_url(QueueName=name)["QueueUrl"])
    except (ClientError, BotoCoreError) as exc:
        raise error(url, f"queue {name!r} not found: {exc}") from exc


def _entry_size(entry: dict[str, Any]) -> int:
    key = entry.get("MessageAttributes", {}).get("key", {}).get("BinaryValue", b"")
    return len(entry["MessageBody"]) + len(key) + 16


class SqsSink(BatchApiSink[dict[str, Any]]):
    def __init__(
        self,
        url: str,
        queue: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        max_buffer_records: int = 10_000,
        max_record_bytes: int = MAX_RECORD_BYTES,
        max_attempts: int | None = None,
        queue_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        limit = min(max_record_bytes, MAX_RECORD_BYTES)
        super().__init__(url, limit, max_buffer_records, max_attempts)
        self._client = client or aws.client(
            "sqs", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self._queue_url = queue_url or _queue_url(self._client, url, queue, SinkError)
        self._counter = 0

    def _entries(self, records: Sequence[Record]) -> Iterable[dict[str, Any]]:
        for r in records:
            self._counter += 1
            entry: dict[str, Any] = {
                "Id": str(self._counter),
                "MessageBody": base64.b64encode(r.value).decode("ascii"),
            }
            if r.key is not None:
                entry["MessageAttributes"] = {"key": {"DataType": "Binary", "BinaryValue": r.key}}
            yield entry

    def _batches(self, entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        return cut(entries, _entry_size, 10, SQS_LIMIT)

    def _send(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            reply = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=batch)
        except (ClientError, BotoCoreError) as exc:
            self._last_error = str(exc)
            return batch
        bad = {f["Id"]: f for f in reply.get("Failed", [])}
        for f in bad.values():
            self._last_error = f"{f.get('Code')}: {f.get('Message')}"
        return [e for e in batch if e["Id"] in bad]


class SqsSource:
    def __init__(
        self,
        url: str,
        queue: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        visibility_timeout: int = 30,
    ) -> None:
        self.url = url
        self._client = aws.client(
            "sqs", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self._queue_url = _queue_url(self._client, url, queue, SourceError)
        self._visibility = visibility_timeout
        self._closed = False

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        deadline = time.monotonic() + timeout
        out: list[Record] = []
        while len(out) < max_records:
            wait = max(0, min(20, int(deadline - time.monotonic())))
            try:
                reply = self._client.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=min(10, max_records - len(out)),
                    WaitTimeSeconds=0 if out else wait,
                    VisibilityTimeout=self._visibility,
                    MessageAttributeNames=["key"],
                )
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(self.url, f"receive failed: {exc}") from exc
            messages = reply.get("Messages", [])
            for m in messages:
                try:
                    value = base64.b64decode(m["Body"], validate=True)
                except ValueError:
                    value = m["Body"].encode("utf-8")  # written by a non-Plowline producer
                key = m.get("MessageAttributes", {}).get("key", {}).get("BinaryValue")
                out.append(Record(value, key, m["ReceiptHandle"]))
            if not messages and (out or time.monotonic() >= deadline):
                break
        return out

    def commit(self, records: Sequence[Record]) -> None:
        handles = [r.position for r in records]
        if not all(isinstance(h, str) for h in handles):
            raise SourceError(self.url, "commit got records this source did not produce")
        for start in range(0, len(handles), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h}
                for i, h in enumerate(handles[start : start + 10])
            ]
            try:
                reply = self._client.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(self.url, f"delete failed: {exc}") from exc
            if reply.get("Failed"):
                raise SourceError(self.url, f"delete failed: {reply['Failed'][0]}")

    def close(self) -> None:
        self._closed = True
