"""`kinesis://<stream>?endpoint_url=...&region=...` (boto3).

The sink batches PutRecords (500 records / 5 MiB) and retries the records a partial failure
names, within the flush timeout and at most `max_attempts` calls per record and flush (what
still fails stays buffered for the next flush); `client=` takes a ready boto3-like client. The
source reads every shard, follows resharding, and keeps per-shard checkpoints in
memory (or in a JSON file with `checkpoint=<path>`).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from plowline.streams import aws
from plowline.streams.base import Record, SourceError
from plowline.streams.batched import BatchApiSink, cut

MAX_RECORD_BYTES = 1024 * 1024
_MAX_BATCH_RECORDS = 500
_MAX_BATCH_BYTES = 5 * 1024 * 1024


def _partition_key(record: Record) -> str:
    if record.key:
        try:
            text = record.key.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if 0 < len(text) <= 256:
            return text  # readable keys travel as they are, so a source gets them back
        return hashlib.sha1(record.key, usedforsecurity=False).hexdigest()
    return uuid.uuid4().hex


class KinesisSink(BatchApiSink[dict[str, Any]]):
    def __init__(
        self,
        url: str,
        stream: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        max_buffer_records: int = 50_000,
        max_record_bytes: int = MAX_RECORD_BYTES - 64,
        max_attempts: int | None = None,
        client: Any | None = None,
    ) -> None:
        limit = min(max_record_bytes, MAX_RECORD_BYTES - 64)
        super().__init__(url, limit, max_buffer_records, max_attempts)
        self._stream = stream
        self._client = client or aws.client(
            "kinesis", endpoint_url=endpoint_url, region=region, credentials=credentials
        )

    def _entries(self, records: Sequence[Record]) -> Iterable[dict[str, Any]]:
        return ({"Data": r.value, "PartitionKey": _partition_key(r)} for r in records)

    def _batches(self, entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        def size(e: dict[str, Any]) -> int:
            return len(e["Data"]) + len(e["PartitionKey"])

        return cut(entries, size, _MAX_BATCH_RECORDS, _MAX_BATCH_BYTES)

    def _send(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            reply = self._client.put_records(StreamName=self._stream, Records=batch)
        except (ClientError, BotoCoreError) as exc:
            self._last_error = str(exc)
            return batch
        failed = []
        if reply.get("FailedRecordCount", 0):
            for entry, result in zip(batch, reply["Records"], strict=True):
                if "ErrorCode" in result:
                    self._last_error = f"{result['ErrorCode']}: {result.get('ErrorMessage')}"
                    failed.append(entry)
        return failed


class KinesisSource:
    def __init__(
        self,
        url: str,
        stream: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        start: str = "TRIM_HORIZON",
        checkpoint: str | Path | None = None,
    ) -> None:
        self.url = url
        self._stream = stream
        self._start = start
        self._client = aws.client(
            "kinesis", endpoint_url=endpoint_url, region=region, credentials=credentials
        )
        self._checkpoint = Path(checkpoint) if checkpoint else None
        self._committed: dict[str, str] = {}
        if self._checkpoint and self._checkpoint.exists():
            self._committed = json.loads(self._checkpoint.read_text())
        self._iterators: dict[str, str | None] = {}
        self._closed = False

    def _refresh_shards(self) -> None:
        try:
            shards = self._client.list_shards(StreamName=self._stream)["Shards"]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.url, f"cannot list shards: {exc}") from exc
        for shard in shards:
            sid = shard["ShardId"]
            if sid in self._iterators:
                continue
            args: dict[str, Any] = {"StreamName": self._stream, "ShardId": sid}
            if sid in self._committed:
                args |= {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "StartingSequenceNumber": self._committed[sid],
                }
            else:
                args["ShardIteratorType"] = self._start
            try:
                self._iterators[sid] = self._client.get_shard_iterator(**args)["ShardIterator"]
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(self.url, f"cannot read shard {sid}: {exc}") from exc

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        if self._closed:
            raise SourceError(self.url, "source is closed")
        deadline = time.monotonic() + timeout
        out: list[Record] = []
        while True:
            if not any(self._iterators.values()) or not self._iterators:
                self._refresh_shards()
            for sid, iterator in list(self._iterators.items()):
                if iterator is None or len(out) >= max_records:
                    continue
                try:
                    reply = self._client.get_records(
                        ShardIterator=iterator, Limit=min(10_000, max_records - len(out))
                    )
                except (ClientError, BotoCoreError) as exc:
                    raise SourceError(self.url, f"get_records failed on {sid}: {exc}") from exc
                self._iterators[sid] = reply.get("NextShardIterator")
                for r in reply["Records"]:
                    key = r.get("PartitionKey")
                    out.append(
                        Record(r["Data"], key.encode() if key else None, (sid, r["SequenceNumber"]))
                    )
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def commit(self, records: Sequence[Record]) -> None:
        for r in records:
            if not (isinstance(r.position, tuple) and len(r.position) == 2):
                raise SourceError(self.url, "commit got records this source did not produce")
            sid, seq = r.position
            if sid not in self._committed or int(seq) > int(self._committed[sid]):
                self._committed[sid] = seq
        if self._checkpoint is not None and records:
            self._checkpoint.write_text(json.dumps(self._committed))

    def close(self) -> None:
        self._closed = True
