"""S3 loader logic with a recording client: partitions, rotation, commit-after-upload."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from plowline.storage.s3loader import S3Loader
from plowline.storage.streams import Record, SinkError
from plowline.storage.testing.events import enriched_lines


class FakeS3:
    def __init__(self, fail: bool = False) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail = fail

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:  # noqa: N803
        if self.fail:
            raise ClientError({"Error": {"Code": "500", "Message": "boom"}}, "PutObject")
        self.objects[f"{Bucket}/{Key}"] = Body
        return {}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rotation_by_size() -> None:
    s3 = S3Loader("b", "p", client=FakeS3(), max_bytes=5_000, max_age=1e9)
    lines = list(enriched_lines(5))
    s3.add([Record(v) for v in lines[:1]])
    assert not s3.due()
    s3.add([Record(v) for v in lines[1:]])
    assert s3.due()


def test_rotation_by_time() -> None:
    clock = Clock()
    s3 = S3Loader("b", client=FakeS3(), max_bytes=1 << 30, max_age=60, clock=clock)
    assert not s3.due()
    s3.add([Record(next(iter(enriched_lines(1))))])
    clock.now = 59
    assert not s3.due()
    clock.now = 60
    assert s3.due()


def test_flush_returns_records_and_writes_gzip_tsv() -> None:
    fake = FakeS3()
    s3 = S3Loader("b", "out/", client=fake)
    records = [Record(v, position=i) for i, v in enumerate(enriched_lines(10))]
    s3.add(records)
    assert s3.flush() == records
    [(key, body)] = fake.objects.items()
    assert key.startswith("b/out/good/yyyy=2026/mm=11/dd=27/hh=10/part-")
    assert gzip.decompress(body).splitlines() == [r.value for r in records]
    assert s3.flush() == []


def test_failed_upload_keeps_records_uncommitted() -> None:
    fake = FakeS3(fail=True)
    s3 = S3Loader("b", client=fake)
    s3.add([Record(b"x\ty")])
    with pytest.raises(SinkError, match="upload"):
        s3.flush()
    fake.fail = False
    assert len(s3.flush()) == 1  # retried later: nothing lost
    [key] = fake.objects
    assert "/bad/com.snowplowanalytics.snowplow.badrows.loader_parsing_error/" in "/" + key


def test_badrows_input_partitions_by_type() -> None:
    fake = FakeS3()
    s3 = S3Loader("b", client=fake, input_kind="badrows")
    s3.add(
        [
            Record(
                b'{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-0","data":{}}'
            ),
            Record(b"not json"),
            Record(b'{"schema":"iglu:../../etc/jsonschema/1-0-0"}'),
        ]
    )
    s3.flush()
    kinds = sorted(k.split("/")[2] for k in fake.objects)
    assert kinds == ["_._", "com.snowplowanalytics.snowplow.badrows.schema_violations", "unknown"]
