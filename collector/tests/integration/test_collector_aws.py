"""Kinesis, SQS and S3 sinks as the collector opens them (plowline.streams), against a
real AWS-compatible endpoint (LocalStack or moto): record formats, object names, end to end."""

from __future__ import annotations

import base64
import gzip
import re
import time
from typing import Any, TypedDict

import orjson
import pytest
from plowline.collector.app import build_sink
from plowline.collector.config import KinesisSinkConfig, S3SinkConfig, SqsSinkConfig
from plowline.collector.testing import make_client
from plowline.spec.collector_payload import CollectorPayload, decode
from plowline.spec.framing import unpack
from plowline.streams import Record, Sink, SinkError

pytestmark = pytest.mark.aws


@pytest.fixture(autouse=True)
def aws_credentials(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sinks use boto3's normal credential chain: give it the emulator's dummy keys."""
    for key, value in aws.endpoint.env().items():
        monkeypatch.setenv(key, value)


def _kinesis_records(aws: Any, stream: str, expected: int) -> list[bytes]:
    kinesis = aws.endpoint.client("kinesis")
    out: list[bytes] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        deadline = time.monotonic() + 30
        while iterator and time.monotonic() < deadline and len(out) < expected:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            out.extend(r["Data"] for r in page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"]:
                time.sleep(0.2)
    return out


def _sqs_records(aws: Any, queue_url: str, expected: int) -> list[bytes]:
    sqs = aws.endpoint.client("sqs")
    out: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(out) < expected and time.monotonic() < deadline:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in page.get("Messages", []):
            out.append(base64.b64decode(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return out


def _s3_objects(aws: Any, bucket: str) -> list[tuple[str, bytes]]:
    s3 = aws.endpoint.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [(k, s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in sorted(keys)]


def _payloads(records: list[bytes]) -> list[CollectorPayload]:
    return [decode(p) for r in records for p in unpack(r)]


def _wrap(values: list[bytes]) -> list[Record]:
    return [Record(v) for v in values]


class Where(TypedDict):
    endpoint_url: str
    region: str


def _where(aws: Any) -> Where:
    """The emulator's endpoint and region, as a sink config takes them."""
    return {"endpoint_url": aws.endpoint.endpoint_url, "region": aws.endpoint.region}


def test_kinesis_sink_put_records_read_back(aws: Any, kinesis_stream: str) -> None:
    config = KinesisSinkConfig(type="kinesis", stream_name=kinesis_stream, **_where(aws))
    sink = build_sink(config, "good")
    assert isinstance(sink, Sink)
    records = [b"kinesis-%d" % i for i in range(650)]  # two PutRecords calls
    sink.write(_wrap(records))
    sink.flush(10)
    assert sink.healthy()
    assert sorted(_kinesis_records(aws, kinesis_stream, 650)) == sorted(records)


def test_kinesis_unreachable_endpoint_keeps_the_records_and_turns_unhealthy() -> None:
    config = KinesisSinkConfig(
        type="kinesis", stream_name="nowhere", endpoint_url="http://127.0.0.1:9", max_attempts=1
    )
    sink = build_sink(config, "good")
    sink.write(_wrap([b"a", b"b"]))
    with pytest.raises(SinkError, match="2 records not accepted"):
        sink.flush(30)
    assert not sink.healthy()


def test_collector_to_kinesis_end_to_end(aws: Any, kinesis_stream: str) -> None:
    client = make_client(
        {
            "sinks": {
                "good": {
                    "type": "kinesis",
                    "stream_name": kinesis_stream,
                    "endpoint_url": aws.endpoint.endpoint_url,
                    "region": aws.endpoint.region,
                },
                "bad": {"type": "memory"},
            }
        }
    )
    body = b'{"schema":"s","data":[{"e":"pv"}]}'
    for _ in range(20):
        assert (
            client.request(
                "POST",
                "/com.snowplowanalytics.snowplow/tp2",
                body=body,
                headers=[("Content-Type", "application/json")],
            ).status
            == 200
        )
    assert client.close() == 0
    payloads = _payloads(_kinesis_records(aws, kinesis_stream, 20))
    assert len(payloads) == 20
    assert {p.body for p in payloads} == {body.decode()}
    assert all(p.collector.endswith("-kinesis") for p in payloads)


def test_sqs_sink_batches_and_base64_bodies(aws: Any, sqs_queue: str) -> None:
    config = SqsSinkConfig(type="sqs", queue_url=sqs_queue, **_where(aws))
    sink = build_sink(config, "good")
    assert sink.max_record_bytes == 192_000
    records = [bytes([i % 256]) * (i * 7) for i in range(1, 26)] + [b"\x00" * 150_000] * 3
    sink.write(_wrap(records))
    sink.flush(10)
    assert sorted(_sqs_records(aws, sqs_queue, len(records))) == sorted(records)


def test_collector_to_sqs_splits_batches_to_the_sqs_limit(aws: Any, sqs_queue: str) -> None:
    client = make_client(
        {
            "sinks": {
                "good": {
                    "type": "sqs",
                    "queue_url": sqs_queue,
                    "endpoint_url": aws.endpoint.endpoint_url,
                    "region": aws.endpoint.region,
                },
                "bad": {"type": "memory"},
            }
        }
    )
    events = [{"e": "pv", "page": "p" * 1000, "n": str(i)} for i in range(400)]  # ~ 420 KB
    body = orjson.dumps({"schema": "s", "data": events})
    assert client.request("POST", "/com.snowplowanalytics.snowplow/tp2", body=body).status == 200
    assert client.close() == 0
    records = _sqs_records(aws, sqs_queue, 3)
    assert len(records) >= 3
    assert all(len(r) <= 192_000 for r in records)
    got = [e for p in _payloads(records) for e in orjson.loads(p.body or "")["data"]]
    assert sorted(got, key=lambda e: int(e["n"])) == events


def test_s3_sink_uploads_framed_and_line_objects(aws: Any, s3_bucket: str) -> None:
    where = _where(aws)
    framed = build_sink(S3SinkConfig(type="s3", bucket=s3_bucket, prefix="good/", **where), "good")
    lines = build_sink(S3SinkConfig(type="s3", bucket=s3_bucket, prefix="bad/", **where), "bad")
    framed.write(_wrap([b"\x0bpayload-1", b"\x0bpayload-2"]))
    framed.flush(10)
    lines.write(_wrap([b'{"bad":1}', b'{"bad":2}']))
    lines.flush(10)
    objects = dict(_s3_objects(aws, s3_bucket))
    [good_key] = [k for k in objects if k.startswith("good/")]
    [bad_key] = [k for k in objects if k.startswith("bad/")]
    key = r"(good|bad)/\d{4}/\d{2}/\d{2}/\d{2}/\d{13}-[0-9a-f]{32}\.(framed|jsonl)\.gz"
    assert re.fullmatch(key, good_key)
    assert good_key.endswith(".framed.gz")
    assert re.fullmatch(key, bad_key)
    assert bad_key.endswith(".jsonl.gz")
    assert unpack(objects[good_key]) == [b"\x0bpayload-1", b"\x0bpayload-2"]
    assert gzip.decompress(objects[bad_key]).splitlines() == [b'{"bad":1}', b'{"bad":2}']


def test_s3_objects_are_cut_at_object_max_bytes(aws: Any, s3_bucket: str) -> None:
    config = S3SinkConfig(
        type="s3", bucket=s3_bucket, prefix="cut/", object_max_bytes=4096, **_where(aws)
    )
    sink = build_sink(config, "good")
    values = [bytes([65 + i]) * 1500 for i in range(6)]
    sink.write(_wrap(values))
    sink.flush(10)
    objects = _s3_objects(aws, s3_bucket)
    assert len(objects) == 3
    assert sorted(p for _, body in objects for p in unpack(body)) == values


def test_collector_to_s3_end_to_end(aws: Any, s3_bucket: str) -> None:
    client = make_client(
        {
            "sinks": {
                "good": {
                    "type": "s3",
                    "bucket": s3_bucket,
                    "prefix": "raw/",
                    "endpoint_url": aws.endpoint.endpoint_url,
                    "region": aws.endpoint.region,
                },
                "bad": {
                    "type": "s3",
                    "bucket": s3_bucket,
                    "prefix": "bad/",
                    "endpoint_url": aws.endpoint.endpoint_url,
                    "region": aws.endpoint.region,
                },
            },
            "limits": {"max_payload_bytes": 2048},
        }
    )
    for i in range(30):
        assert client.request("GET", "/i", query=f"n={i}").status == 200
    assert client.request("GET", "/i", query="big=" + "x" * 3000).status == 200
    assert client.close() == 0
    objects = _s3_objects(aws, s3_bucket)
    good = [p for k, body in objects if k.startswith("raw/") for p in unpack(body)]
    assert sorted(decode(p).querystring or "" for p in good) == sorted(f"n={i}" for i in range(30))
    bad = [
        line
        for k, body in objects
        if k.startswith("bad/")
        for line in gzip.decompress(body).splitlines()
    ]
    [row] = [orjson.loads(line) for line in bad]
    assert row["schema"].endswith("/size_violation/jsonschema/1-0-0")
