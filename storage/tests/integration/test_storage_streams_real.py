"""The stream contract against real Kafka, Kinesis, SQS and S3 (LocalStack or moto)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from plowline.storage.streams import open_sink, open_source
from plowline.storage.testing.stream_contract import StreamContract, StreamUnderTest


def aws_options(aws: Any) -> dict[str, Any]:
    e = aws.endpoint
    return {
        "endpoint_url": e.endpoint_url,
        "region": e.region,
        "credentials": {
            "aws_access_key_id": e.access_key_id,
            "aws_secret_access_key": e.secret_access_key,
        },
    }


@pytest.mark.kafka
class TestKafkaStream(StreamContract):
    @pytest.fixture
    def stream(self, kafka: Any, kafka_topic: str) -> StreamUnderTest:
        url = f"kafka://{kafka.endpoint.bootstrap_servers}/{kafka_topic}"
        group = f"g-{uuid.uuid4().hex}"
        return StreamUnderTest(
            sink=lambda: open_sink(url),
            source=lambda: open_source(f"{url}?group={group}"),
        )


@pytest.mark.aws
class TestKinesisStream(StreamContract):
    @pytest.fixture
    def stream(self, aws: Any, kinesis_stream: str, tmp_path: Path) -> StreamUnderTest:
        opts = aws_options(aws)
        checkpoint = tmp_path / "kinesis-checkpoint.json"
        return StreamUnderTest(
            sink=lambda: open_sink(f"kinesis://{kinesis_stream}", **opts),
            source=lambda: open_source(
                f"kinesis://{kinesis_stream}", checkpoint=checkpoint, **opts
            ),
        )


@pytest.mark.aws
class TestSqsStream(StreamContract):
    ordered = False  # standard queues do not keep order

    @pytest.fixture
    def stream(self, aws: Any, sqs_queue: str) -> StreamUnderTest:
        opts = aws_options(aws)
        name = sqs_queue.rstrip("/").rsplit("/", 1)[-1]
        return StreamUnderTest(
            sink=lambda: open_sink(f"sqs://{name}", **opts),
            source=lambda: open_source(f"sqs://{name}", visibility_timeout=5, **opts),
        )


@pytest.mark.aws
class TestS3Stream(StreamContract):
    keys_preserved = False  # objects hold values only

    @pytest.fixture
    def stream(self, aws: Any, s3_bucket: str, tmp_path: Path) -> StreamUnderTest:
        opts = aws_options(aws)
        checkpoint = tmp_path / "s3-checkpoint.json"
        return StreamUnderTest(
            sink=lambda: open_sink(f"s3://{s3_bucket}/raw/events", **opts),
            source=lambda: open_source(
                f"s3://{s3_bucket}/raw/events", checkpoint=checkpoint, **opts
            ),
        )


@pytest.mark.aws
def test_kinesis_partial_failure_free_batches_over_500(aws: Any, kinesis_stream: str) -> None:
    """More records than one PutRecords call takes: the sink splits and delivers them all."""
    from plowline.storage.streams import Record

    opts = aws_options(aws)
    sink = open_sink(f"kinesis://{kinesis_stream}", **opts)
    sink.write([Record(f"r{i}".encode(), f"k{i % 7}".encode()) for i in range(1200)])
    sink.flush(timeout=60)
    source = open_source(f"kinesis://{kinesis_stream}", **opts)
    from plowline.storage.testing.stream_contract import drain

    got = drain(source, 1200)
    assert sorted(r.value for r in got) == sorted(f"r{i}".encode() for i in range(1200))


@pytest.mark.aws
def test_sqs_batches_respect_the_256_kib_limit(aws: Any, sqs_queue: str) -> None:
    from plowline.storage.streams import Record
    from plowline.storage.testing.stream_contract import drain

    opts = aws_options(aws)
    name = sqs_queue.rstrip("/").rsplit("/", 1)[-1]
    sink = open_sink(f"sqs://{name}", **opts)
    big = [Record(bytes([65 + i]) * 100_000) for i in range(8)]  # 8 x 133 KB after base64
    sink.write(big)
    sink.flush(timeout=60)
    got = drain(open_source(f"sqs://{name}", **opts), 8)
    assert sorted(r.value for r in got) == sorted(r.value for r in big)
