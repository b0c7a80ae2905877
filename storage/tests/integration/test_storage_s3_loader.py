"""The S3 loader against LocalStack/moto: partitions, gzip TSV, bad rows, commit after upload."""

from __future__ import annotations

import gzip
import io
import uuid
from typing import Any

import pytest
from plowline.storage.runner import run_s3
from plowline.storage.s3loader import S3Loader
from plowline.storage.streams import Record, open_sink, open_source
from plowline.storage.streams.memory import reset, topic
from plowline.storage.testing import check_bad_row
from plowline.storage.testing.events import enriched_lines

pytestmark = pytest.mark.aws


def objects(aws: Any, bucket: str) -> dict[str, list[bytes]]:
    s3 = aws.endpoint.client("s3")
    out: dict[str, list[bytes]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            out[o["Key"]] = gzip.decompress(body).splitlines()
    return out


def loader(aws: Any, bucket: str, **options: Any) -> S3Loader:
    return S3Loader(bucket, "pipeline", client=aws.endpoint.client("s3"), **options)


def test_good_and_bad_partitions(aws: Any, s3_bucket: str) -> None:
    lines = list(enriched_lines(500))
    s3 = loader(aws, s3_bucket)
    s3.add([Record(v) for v in lines] + [Record(b"not an event"), Record(b"\xff\xfe")])
    done = s3.flush()
    assert len(done) == 502
    found = objects(aws, s3_bucket)
    good = {k: v for k, v in found.items() if "/good/" in k}
    bad = {k: v for k, v in found.items() if "/bad/" in k}
    assert sum(len(v) for v in good.values()) == 500
    # 500 events 37 ms apart from 10:00:00 all fall in one hour
    assert all(k.startswith("pipeline/good/yyyy=2026/mm=11/dd=27/hh=10/") for k in good)
    assert all(k.endswith(".tsv.gz") for k in good)
    [(bad_key, bad_rows)] = bad.items()
    assert "/bad/com.snowplowanalytics.snowplow.badrows.loader_parsing_error/" in bad_key
    assert len(bad_rows) == 2
    for row in bad_rows:
        check_bad_row(row)


def test_partition_by_schema(aws: Any, s3_bucket: str) -> None:
    s3 = loader(aws, s3_bucket, partition_by_schema=True)
    s3.add([Record(v) for v in enriched_lines(30)])
    s3.flush()
    keys = set(objects(aws, s3_bucket))
    prefixes = {k.split("/yyyy=")[0] for k in keys}
    assert prefixes == {
        "pipeline/good/com.snowplowanalytics.snowplow.page_view/jsonschema/1-0-0",
        "pipeline/good/com.snowplowanalytics.snowplow.link_click/jsonschema/1-0-1",
    }


def test_offsets_are_committed_only_after_upload(aws: Any, s3_bucket: str) -> None:
    name = f"s3load-{uuid.uuid4().hex}"
    sink = open_sink(f"memory://{name}")
    sink.write([Record(v) for v in enriched_lines(2000)])
    source = open_source(f"memory://{name}?group=s3")
    s3 = loader(aws, s3_bucket, max_bytes=200_000, max_age=3600)
    s3.add(source.poll(max_records=100, timeout=0))
    assert not s3.due()
    assert topic(name).committed.get("s3", 0) == 0  # nothing uploaded, nothing committed
    progress = run_s3(source, s3, idle_exit=0.5, out=io.StringIO(), poll_size=500)
    assert progress.records == 1900
    assert topic(name).committed["s3"] == 2000
    found = objects(aws, s3_bucket)
    assert len(found) >= 3  # rotated by size
    assert sum(len(v) for v in found.values()) == 2000
    reset(name)


def test_failed_upload_commits_nothing(aws: Any) -> None:
    s3 = S3Loader(f"missing-{uuid.uuid4().hex[:12]}", client=aws.endpoint.client("s3"))
    s3.add([Record(v) for v in enriched_lines(3)])
    from plowline.storage.streams import SinkError

    with pytest.raises(SinkError, match="upload"):
        s3.flush()
