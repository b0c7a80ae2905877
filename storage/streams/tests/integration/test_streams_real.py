"""The stream contract against real Kafka, Kinesis, SQS and S3 (LocalStack or moto).

Outages: Kafka's broker is stopped and started again; the AWS sinks get the real client behind
a switch that refuses calls while it is off (LocalStack serves every test of the session).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError  # type: ignore[import-untyped]
from plowline.streams import Record, SinkError, open_sink, open_source
from plowline.streams.aws import client as aws_client
from plowline.streams.testing import StreamContract, StreamUnderTest, drain


class Switchable:
    """A boto3 client that raises EndpointConnectionError while `down`."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise EndpointConnectionError(endpoint_url="http://switched-off")
            return attr(*args, **kwargs)

        return call

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        self.down = True
        try:
            yield
        finally:
            self.down = False


def switchable(service: str, aws: Any) -> Switchable:
    return Switchable(aws_client(service, **aws_options(aws)))


def kafka_outage(kafka: Any) -> Callable[[], contextlib.AbstractContextManager[object]]:
    def outage() -> contextlib.AbstractContextManager[object]:
        from plowline.conformance.services.pytest_plugin import require_control

        require_control(kafka)
        stopped: contextlib.AbstractContextManager[object] = kafka.stopped()
        return stopped

    return outage


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
    outage_flush_timeout = 5.0

    @pytest.fixture
    def stream(self, kafka: Any, kafka_topic: str) -> StreamUnderTest:
        url = f"kafka://{kafka.endpoint.bootstrap_servers}/{kafka_topic}"
        group = f"g-{uuid.uuid4().hex}"
        return StreamUnderTest(
            sink=lambda: open_sink(url),
            source=lambda: open_source(f"{url}?group={group}"),
            outage=kafka_outage(kafka),
        )


@pytest.mark.kafka
def test_kafka_deliveries_that_timed_out_are_resent_once(kafka: Any, kafka_topic: str) -> None:
    """An outage longer than message.timeout.ms: librdkafka reports the records failed; the
    sink keeps them and the next flush after the broker's return delivers each exactly once."""
    url = f"kafka://{kafka.endpoint.bootstrap_servers}/{kafka_topic}"
    sink = open_sink(url, config={"message.timeout.ms": 2000})
    sent = [f"late-{i}".encode() for i in range(30)]
    with kafka_outage(kafka)():
        sink.write([Record(v) for v in sent])
        with pytest.raises(SinkError, match="30 failed and kept for the next flush"):
            sink.flush(timeout=6)
        assert not sink.healthy()
    for _ in range(60):
        try:
            sink.flush(timeout=5)
            break
        except SinkError:
            continue
    sink.close()
    source = open_source(f"{url}?group=g-{uuid.uuid4().hex}")
    got = drain(source, 30)
    got += source.poll(max_records=50, timeout=3.0)
    source.close()
    assert sorted(r.value for r in got) == sorted(sent)


@pytest.mark.aws
class TestKinesisStream(StreamContract):
    @pytest.fixture
    def stream(self, aws: Any, kinesis_stream: str, tmp_path: Path) -> StreamUnderTest:
        opts = aws_options(aws)
        checkpoint = tmp_path / "kinesis-checkpoint.json"
        api = switchable("kinesis", aws)
        return StreamUnderTest(
            sink=lambda: open_sink(f"kinesis://{kinesis_stream}", client=api, **opts),
            source=lambda: open_source(
                f"kinesis://{kinesis_stream}", checkpoint=checkpoint, **opts
            ),
            outage=api.outage,
        )


@pytest.mark.aws
class TestSqsStream(StreamContract):
    ordered = False  # standard queues do not keep order

    @pytest.fixture
    def stream(self, aws: Any, sqs_queue: str) -> StreamUnderTest:
        opts = aws_options(aws)
        name = sqs_queue.rstrip("/").rsplit("/", 1)[-1]
        api = switchable("sqs", aws)
        return StreamUnderTest(
            sink=lambda: open_sink(f"sqs://{name}", client=api, **opts),
            source=lambda: open_source(f"sqs://{name}", visibility_timeout=5, **opts),
            outage=api.outage,
        )


@pytest.mark.aws
class TestS3Stream(StreamContract):
    keys_preserved = False  # objects hold values only
    binary_safe = False  # the default framing is lines (framing="length" is binary-safe)

    @pytest.fixture
    def stream(self, aws: Any, s3_bucket: str, tmp_path: Path) -> StreamUnderTest:
        opts = aws_options(aws)
        checkpoint = tmp_path / "s3-checkpoint.json"
        api = switchable("s3", aws)
        return StreamUnderTest(
            sink=lambda: open_sink(f"s3://{s3_bucket}/raw/events", client=api, **opts),
            source=lambda: open_source(
                f"s3://{s3_bucket}/raw/events", checkpoint=checkpoint, **opts
            ),
            outage=api.outage,
        )


@pytest.mark.aws
def test_kinesis_partial_failure_free_batches_over_500(aws: Any, kinesis_stream: str) -> None:
    """More records than one PutRecords call takes: the sink splits and delivers them all."""
    from plowline.streams import Record

    opts = aws_options(aws)
    sink = open_sink(f"kinesis://{kinesis_stream}", **opts)
    sink.write([Record(f"r{i}".encode(), f"k{i % 7}".encode()) for i in range(1200)])
    sink.flush(timeout=60)
    source = open_source(f"kinesis://{kinesis_stream}", **opts)
    from plowline.streams.testing import drain

    got = drain(source, 1200)
    assert sorted(r.value for r in got) == sorted(f"r{i}".encode() for i in range(1200))


@pytest.mark.aws
def test_sqs_batches_respect_the_256_kib_limit(aws: Any, sqs_queue: str) -> None:
    from plowline.streams import Record
    from plowline.streams.testing import drain

    opts = aws_options(aws)
    name = sqs_queue.rstrip("/").rsplit("/", 1)[-1]
    sink = open_sink(f"sqs://{name}", **opts)
    big = [Record(bytes([65 + i]) * 100_000) for i in range(8)]  # 8 x 133 KB after base64
    sink.write(big)
    sink.flush(timeout=60)
    got = drain(open_source(f"sqs://{name}", **opts), 8)
    assert sorted(r.value for r in got) == sorted(r.value for r in big)
