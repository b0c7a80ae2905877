"""Batch input for CloudFront access logs: rotated (gzip) log files in a folder or under an S3
prefix -> collector payloads for ``/com.amazon.aws.cloudfront/wd_access_log``, as Snowplow's
batch pipeline read them with its ``TsvLoader`` (the ``#Version:`` and ``#Fields:`` header lines
are skipped).
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final, cast

from plowline.enrich.adapters.cloudfront import PATH
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich
from plowline.spec.collector_payload import CollectorPayload

COLLECTOR: Final = "plowline-cloudfront-batch"
_HEADERS: Final = ("#Version:", "#Fields:")


def log_files(folder: Path) -> list[Path]:
    """The log files of a folder (and its subfolders), oldest name first; hidden files skipped."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _text_lines(buffered: io.BufferedReader | io.BytesIO) -> Iterator[str]:
    """The lines of a (possibly gzip'd) binary stream, decoded as UTF-8."""
    start = buffered.tell()
    gzipped = buffered.read(2) == b"\x1f\x8b"
    buffered.seek(start)
    stream = cast(IO[bytes], gzip.GzipFile(fileobj=buffered) if gzipped else buffered)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    try:
        for line in text:
            yield line.rstrip("\r\n")
    finally:
        text.detach()  # the caller owns (and closes) the underlying stream
        if gzipped:
            stream.close()


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        yield from _text_lines(handle)


def _payloads(lines: Iterable[str], clock_ms: int) -> Iterator[CollectorPayload]:
    for line in lines:
        if not line or line.startswith(_HEADERS):
            continue
        yield CollectorPayload(
            ip_address="", timestamp=clock_ms, collector=COLLECTOR, path=PATH, body=line,
        )  # fmt: skip


def payloads(folder: Path, clock_ms: int = 0) -> Iterator[CollectorPayload]:
    """One payload per access-log line (the adapter replaces the timestamp and IP)."""
    for path in log_files(folder):
        yield from _payloads(_lines(path), clock_ms)


def s3_keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """The object keys under ``prefix``, in key order (CloudFront names them by hour)."""
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))
    return sorted(keys)


def s3_payloads(
    client: Any, bucket: str, prefix: str = "", clock_ms: int = 0
) -> Iterator[CollectorPayload]:
    """One payload per access-log line of every object under ``s3://bucket/prefix`` (a boto3 S3
    client; point it at LocalStack with ``AWS_ENDPOINT_URL_S3``)."""
    for key in s3_keys(client, bucket, prefix):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield from _payloads(_text_lines(io.BytesIO(body.read())), clock_ms)
        finally:
            body.close()


def enrich_folder(folder: Path, ctx: EnrichContext) -> Iterator[EnrichedEvent | BadRow]:
    """Every enriched event and bad row of the folder's CloudFront logs."""
    for payload in payloads(folder, ctx.clock_ms()):
        yield from enrich(payload, ctx)


def enrich_s3(
    client: Any, bucket: str, prefix: str, ctx: EnrichContext
) -> Iterator[EnrichedEvent | BadRow]:
    """Every enriched event and bad row of the CloudFront logs under ``s3://bucket/prefix``."""
    for payload in s3_payloads(client, bucket, prefix, ctx.clock_ms()):
        yield from enrich(payload, ctx)
