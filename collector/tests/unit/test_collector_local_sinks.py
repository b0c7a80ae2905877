"""The sinks that need no service: memory, stdout, rotating files; AWS batching rules."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import pytest
from plowline.collector.sinks import Sink, SinkError
from plowline.collector.sinks.files import FileSink
from plowline.collector.sinks.kinesis import MAX_RECORDS, MAX_REQUEST_BYTES, KinesisSink, chunks
from plowline.collector.sinks.memory import MemorySink
from plowline.collector.sinks.sqs import MAX_BATCH_BYTES, MAX_MESSAGES, batches
from plowline.collector.sinks.stdout import StdoutSink


def test_local_sinks_implement_the_protocol(tmp_path: Path) -> None:
    for sink in (MemorySink(), StdoutSink(stream=io.BytesIO()), FileSink(tmp_path)):
        assert isinstance(sink, Sink)
        assert sink.healthy()


def test_memory_sink_refuses_oversized_records_by_name() -> None:
    sink = MemorySink(max_record_bytes=10)
    with pytest.raises(SinkError) as info:
        sink.write([b"small", b"x" * 11])
    assert info.value.undelivered == [b"x" * 11]
    assert sink.records == [b"small"]


def test_stdout_sink_writes_base64_lines_for_binary_and_raw_lines_for_text() -> None:
    out = io.BytesIO()
    sink = StdoutSink("base64", stream=out)
    sink.write([b"\x00\x01", b"\xff"])
    sink.flush(1)
    assert [base64.b64decode(line) for line in out.getvalue().splitlines()] == [
        b"\x00\x01",
        b"\xff",
    ]
    raw = io.BytesIO()
    StdoutSink("raw", stream=raw).write([b'{"a":1}'])
    assert raw.getvalue() == b'{"a":1}\n'


def test_stdout_sink_reports_a_closed_stream() -> None:
    out = io.BytesIO()
    sink = StdoutSink(stream=out)
    out.close()
    with pytest.raises(SinkError):
        sink.write([b"a"])
    assert not sink.healthy()


def _finished(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.endswith(".open"))


def test_file_sink_rotates_by_size_and_hides_open_files(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, prefix="good", rotate_bytes=1024)
    written = [bytes([i]) * 300 for i in range(10)]
    for record in written:
        sink.write([record])
        sink.flush(1)
    assert any(p.name.endswith(".open") for p in tmp_path.iterdir())
    sink.close()
    files = _finished(tmp_path)
    assert len(files) > 1
    assert all(p.name.startswith("good-") and p.suffix == ".b64" for p in files)
    read = [base64.b64decode(line) for p in files for line in p.read_bytes().splitlines()]
    assert read == written


def test_file_sink_rotates_by_age(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, encoding="raw", rotate_seconds=0.05)
    sink.write([b"first"])
    time.sleep(0.1)
    sink.write([b"second"])
    sink.close()
    files = _finished(tmp_path)
    assert [p.read_bytes() for p in files] == [b"first\n", b"second\n"]
    assert all(p.suffix == ".lines" for p in files)


def test_file_sink_reports_unwritable_directory(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "d")
    (tmp_path / "d").rmdir()
    (tmp_path / "d").write_text("now a file")
    with pytest.raises(SinkError):
        sink.write([b"a"])
    assert not sink.healthy()


def test_kinesis_chunks_respect_count_and_size() -> None:
    small = [b"x"] * 1200
    assert [len(c) for c in chunks(small, 36)] == [MAX_RECORDS, MAX_RECORDS, 200]
    big = [b"y" * 900_000] * 12
    groups = chunks(big, 36)
    assert all(sum(len(r) + 36 for r in g) <= MAX_REQUEST_BYTES for g in groups)
    assert sum(len(g) for g in groups) == 12


def test_sqs_batches_respect_count_and_size() -> None:
    assert [len(b) for b in batches(["a"] * 25)] == [MAX_MESSAGES, MAX_MESSAGES, 5]
    bodies = ["z" * 100_000] * 7
    groups = batches(bodies)
    assert all(sum(len(bodies[i]) for i in g) <= MAX_BATCH_BYTES for g in groups)
    assert [i for g in groups for i in g] == list(range(7))


class PartialKinesis:
    """Stands in for the Kinesis API where an emulator cannot fail on demand: the first call
    throttles every other record, later calls accept all."""

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's argument names
        data = [r["Data"] for r in Records]
        self.calls.append(data)
        if len(self.calls) == 1:
            results = [
                {"ErrorCode": "ProvisionedThroughputExceededException"} if i % 2 else {}
                for i in range(len(data))
            ]
            return {"FailedRecordCount": len(data) // 2, "Records": results}
        return {"FailedRecordCount": 0, "Records": [{} for _ in data]}


def test_kinesis_retries_only_the_records_that_failed() -> None:
    api = PartialKinesis()
    sink = KinesisSink("s", kinesis_client=api)
    records = [b"r%d" % i for i in range(6)]
    sink.write(records)
    assert api.calls == [records, [b"r1", b"r3", b"r5"]]
    assert sink.healthy()


def test_kinesis_gives_back_what_still_fails_after_max_attempts() -> None:
    class AlwaysThrottled(PartialKinesis):
        def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            self.calls.append([r["Data"] for r in Records])
            return {
                "FailedRecordCount": len(Records),
                "Records": [{"ErrorCode": "InternalFailure"} for _ in Records],
            }

    api = AlwaysThrottled()
    sink = KinesisSink("s", kinesis_client=api, max_attempts=3)
    with pytest.raises(SinkError) as info:
        sink.write([b"a", b"b"])
    assert info.value.undelivered == [b"a", b"b"]
    assert len(api.calls) == 3
    assert not sink.healthy()
