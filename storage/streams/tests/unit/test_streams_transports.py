"""Transport behaviour the contract cannot force without a service: partial failures, retries
bounded by `max_attempts`, records kept for the next flush, hooks, encodings. The AWS sinks get
a stand-in client (`client=`); Kafka runs against no broker, or librdkafka's mock cluster."""

from __future__ import annotations

import base64
import gzip
import socket
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError  # type: ignore[import-untyped]
from confluent_kafka import KafkaError
from hypothesis import given
from hypothesis import strategies as st
from plowline.streams import Record, SinkError, SourceError, open_sink, open_source
from plowline.streams.encoding import decode_line, encode_lines
from plowline.streams.kafka import KafkaSink
from plowline.streams.kinesis import KinesisSink
from plowline.streams.s3 import S3Sink
from plowline.streams.sqs import SqsSink


def _records(values: Sequence[bytes]) -> list[Record]:
    return [Record(v) for v in values]


class FakeKinesis:
    """PutRecords that throttles the records whose data is in `fail` for `times` calls."""

    def __init__(self, fail: Collection[bytes] = (), times: int = 1) -> None:
        self.fail = fail
        self.times = times
        self.calls: list[list[bytes]] = []
        self.stored: list[bytes] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        data = [r["Data"] for r in Records]
        self.calls.append(data)
        failing = len(self.calls) <= self.times
        results: list[dict[str, Any]] = []
        for d in data:
            if failing and d in self.fail:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException"})
            else:
                results.append({"SequenceNumber": "1", "ShardId": "s"})
                self.stored.append(d)
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def test_kinesis_retries_only_the_records_a_partial_failure_names() -> None:
    api = FakeKinesis(fail={b"r1", b"r3", b"r5"})
    sink = KinesisSink("kinesis://s", "s", client=api)
    values = [b"r%d" % i for i in range(6)]
    sink.write(_records(values))
    sink.flush(10)
    assert api.calls == [values, [b"r1", b"r3", b"r5"]]
    assert sorted(api.stored) == sorted(values)
    assert sink.healthy()


def test_kinesis_max_attempts_keeps_what_still_fails_for_the_next_flush() -> None:
    api = FakeKinesis(fail={b"a", b"b"}, times=3)
    sink = KinesisSink("kinesis://s", "s", client=api, max_attempts=3)
    sink.write(_records([b"a", b"b", b"c"]))
    with pytest.raises(SinkError, match="2 records not accepted"):
        sink.flush(30)
    assert len(api.calls) == 3
    assert not sink.healthy()
    sink.flush(30)  # the next flush sends the kept records, once
    assert sorted(api.stored) == [b"a", b"b", b"c"]
    assert sink.healthy()


def test_kinesis_batches_respect_count_and_size() -> None:
    api = FakeKinesis()
    sink = KinesisSink("kinesis://s", "s", client=api)
    sink.write(_records([b"x"] * 1200))
    sink.flush(10)
    assert [len(c) for c in api.calls] == [500, 500, 200]
    api.calls.clear()
    sink.write(_records([b"y" * 900_000] * 12))
    sink.flush(10)
    assert all(sum(len(d) + 32 for d in c) <= 5 * 1024 * 1024 for c in api.calls)
    assert sum(len(c) for c in api.calls) == 12


class FakeSqs:
    def __init__(self, fail_first: int = 0, down: bool = False) -> None:
        self.fail_first = fail_first  # fail the first N entries of the first call
        self.down = down
        self.calls: list[list[dict[str, Any]]] = []
        self.stored: list[bytes] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        if self.down:
            raise EndpointConnectionError(endpoint_url=QueueUrl)
        self.calls.append(Entries)
        bad = Entries[: self.fail_first] if len(self.calls) == 1 else []
        for e in Entries[len(bad) :]:
            self.stored.append(base64.b64decode(e["MessageBody"]))
        return {"Failed": [{"Id": e["Id"], "Code": "InternalError", "Message": "x"} for e in bad]}


def test_sqs_takes_a_queue_url_and_retries_the_failed_messages() -> None:
    api = FakeSqs(fail_first=2)
    sink = SqsSink("sqs://q", "q", queue_url="http://sqs.local/000/q", client=api)
    values = [b"m%d" % i for i in range(25)]
    sink.write(_records(values))
    sink.flush(10)
    assert [len(c) for c in api.calls] == [10, 10, 5, 2]
    assert sorted(api.stored) == sorted(values)


def test_sqs_keeps_unsent_messages_when_the_endpoint_is_down() -> None:
    api = FakeSqs(down=True)
    sink = SqsSink("sqs://q", "q", queue_url="http://sqs.local/000/q", client=api, max_attempts=1)
    sink.write(_records([b"a", b"b"]))
    with pytest.raises(SinkError, match="2 records not accepted"):
        sink.flush(10)
    assert not sink.healthy()
    api.down = False
    sink.flush(10)
    assert sorted(api.stored) == [b"a", b"b"]
    assert sink.healthy()


class FakeS3:
    def __init__(self, fail_calls: Collection[int] = ()) -> None:
        self.fail_calls = fail_calls
        self.calls = 0
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls in self.fail_calls:
            raise EndpointConnectionError(endpoint_url="http://s3.local")
        self.objects[Key] = Body
        return {}


def test_s3_hooks_name_and_encode_each_object_and_cut_at_max_object_bytes() -> None:
    api = FakeS3()
    names = iter(f"raw/{i}.framed" for i in range(10))
    sink = S3Sink(
        "s3://b/raw",
        "b",
        "raw",
        client=api,
        key=lambda: next(names),
        body=lambda values: b"|".join(values),
        max_object_bytes=10,
    )
    sink.write(_records([b"aaaa", b"bb\nbb", b"cccc", b"dddd"]))  # newlines: the hook's business
    sink.flush(10)
    assert api.objects == {"raw/0.framed": b"aaaa|bb\nbb", "raw/1.framed": b"cccc|dddd"}


def test_s3_failed_upload_keeps_that_object_and_the_rest_for_the_next_flush() -> None:
    api = FakeS3(fail_calls={2})
    sink = S3Sink("s3://b/p", "b", "p", client=api, max_object_bytes=4)
    sink.write(_records([b"1111", b"2222", b"3333"]))
    with pytest.raises(SinkError, match="2 records kept"):
        sink.flush(10)
    assert not sink.healthy()
    sink.flush(10)
    bodies = [gzip.decompress(b) for b in api.objects.values()]
    assert sorted(bodies) == [b"1111\n", b"2222\n", b"3333\n"]  # each once
    assert sink.healthy()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_kafka_with_no_broker_keeps_failed_deliveries_and_turns_unhealthy() -> None:
    sink = KafkaSink(
        "kafka://nowhere/t",
        f"127.0.0.1:{_closed_port()}",
        "t",
        config={"message.timeout.ms": 300, "reconnect.backoff.max.ms": 100},
    )
    sink.write(_records([b"a", b"b", b"c"]))
    with pytest.raises(SinkError, match="3 failed and kept for the next flush"):
        sink.flush(5)
    assert not sink.healthy()
    with pytest.raises(SinkError, match="3 failed and kept"):  # re-sent, failed again, kept
        sink.flush(5)
    with pytest.raises(SinkError):  # close flushes: it says what could not be delivered
        sink.close(1)


def test_kafka_fatal_error_replaces_the_producer_and_resends_what_it_held() -> None:
    # librdkafka's in-process mock cluster: a real protocol peer without a broker.
    sink = KafkaSink("kafka://mock/t", "unused:9092", "t", config={"test.mock.num.brokers": 1})
    sink.write(_records([b"before"]))
    sink.flush(10)
    first = sink._producer
    sink.write(_records([b"held-1", b"held-2"]))
    # librdkafka cannot be made to fail fatally on demand: call the error callback it would.
    sink._on_error(KafkaError(KafkaError._FATAL, "injected", fatal=True))
    assert not sink.healthy()
    sink.flush(10)  # purges the poisoned producer, re-sends what it held on a new one
    assert sink._producer is not first
    assert sink.healthy()
    sink.close()


def test_file_hooks_name_parts_and_sources_skip_the_writers_in_progress_suffix(
    tmp_path: Path,
) -> None:
    sink = open_sink(
        f"file://{tmp_path}/",
        name=lambda seq: f"good-{seq}.b64",
        in_progress_suffix=".open",
        encoding="base64",
        max_bytes=1,
    )
    sink.write(_records([b"one\n"]))
    sink.write(_records([b"two"]))
    sink.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good-1.b64", "good-2.b64"]
    (tmp_path / "good-3.b64.open").write_bytes(base64.b64encode(b"unfinished") + b"\n")
    source = open_source(f"file://{tmp_path}", encoding="base64", in_progress_suffix=".open")
    assert [r.value for r in source.poll(timeout=0)] == [b"one\n", b"two"]


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(SinkError, match="encoding"):
        open_sink("stdout:", encoding="hex")


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_base64_lines_round_trip_any_bytes(values: list[bytes]) -> None:
    data = encode_lines("t:", values, "base64")
    lines = data.split(b"\n")[:-1]
    assert [decode_line("t:", line, "base64", SourceError) for line in lines] == values


def test_kafka_source_session_timeout_comes_from_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from plowline.streams import kafka

    seen: list[dict[str, Any]] = []

    class Recording:
        def __init__(self, settings: dict[str, Any]) -> None:
            seen.append(settings)

        def subscribe(self, topics: list[str], **callbacks: Any) -> None:
            return None

    monkeypatch.setattr(kafka, "Consumer", Recording)
    open_source("kafka://127.0.0.1:9/enriched?group=pg&session_timeout_ms=6000")
    open_source("kafka://127.0.0.1:9/enriched?group=pg")
    assert seen[0]["session.timeout.ms"] == 6000
    assert seen[0]["group.id"] == "pg"
    assert "session.timeout.ms" not in seen[1]
    with pytest.raises(SourceError, match="not a number"):
        open_source("kafka://127.0.0.1:9/enriched?session_timeout_ms=soon")
