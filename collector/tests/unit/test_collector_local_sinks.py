"""The collector's sinks that need no service, opened from config: memory, stdout, files.

The transports themselves are plowline.streams (tested there, contract and all); these
tests pin what the collector's users see: encodings, file names, rotation, health.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
from plowline.collector.app import build_sink
from plowline.collector.config import (
    FileSinkConfig,
    MemorySinkConfig,
    SinkConfig,
    StdoutSinkConfig,
)
from plowline.collector.sinks.memory import MemorySink
from plowline.streams import Record, Sink, SinkError


def _records(*values: bytes) -> list[Record]:
    return [Record(v) for v in values]


def test_local_sinks_implement_the_stream_protocol(tmp_path: Path) -> None:
    configs: list[SinkConfig] = [
        MemorySinkConfig(type="memory"),
        StdoutSinkConfig(),
        FileSinkConfig(type="file", directory=tmp_path),
    ]
    for config in configs:
        sink = build_sink(config, "good")
        assert isinstance(sink, Sink)
        assert sink.healthy()
        sink.close()


def test_memory_sink_refuses_a_write_with_an_oversized_record_whole() -> None:
    sink = MemorySink(max_record_bytes=10)
    with pytest.raises(SinkError) as info:
        sink.write(_records(b"small", b"x" * 11))
    assert info.value.accepted == 0
    assert sink.records == []
    sink.write(_records(b"small"))
    assert sink.records == [b"small"]


def test_memory_sink_can_only_count() -> None:
    sink = build_sink(MemorySinkConfig(type="memory", keep=False), "good")
    assert isinstance(sink, MemorySink)
    sink.write(_records(b"a", b"b"))
    assert (sink.count, sink.records) == (2, [])


def test_stdout_writes_base64_lines_for_the_good_stream_and_raw_lines_for_bad(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    good = build_sink(StdoutSinkConfig(), "good")
    good.write(_records(b"\x00\n\x01", b"\xff"))
    good.flush(1)
    out = capsysbinary.readouterr().out
    assert [base64.b64decode(line) for line in out.splitlines()] == [b"\x00\n\x01", b"\xff"]
    bad = build_sink(StdoutSinkConfig(), "bad")
    bad.write(_records(b'{"a":1}'))
    bad.flush(1)
    assert capsysbinary.readouterr().out == b'{"a":1}\n'
    raw = build_sink(StdoutSinkConfig(encoding="raw"), "good")
    raw.write(_records(b"text"))
    raw.flush(1)
    assert capsysbinary.readouterr().out == b"text\n"


def _finished(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.endswith(".open"))


def test_file_sink_names_rotates_by_size_and_hides_open_files(tmp_path: Path) -> None:
    sink = build_sink(
        FileSinkConfig(type="file", directory=tmp_path, prefix="good", rotate_bytes=1024), "good"
    )
    written = [bytes([i]) * 300 for i in range(10)]
    for record in written:
        sink.write(_records(record))
        sink.flush(1)
    [current] = [p for p in tmp_path.iterdir() if p.name.endswith(".open")]
    assert current.name.endswith(".b64.open")
    sink.close()
    files = _finished(tmp_path)
    assert len(files) > 1
    pattern = r"good-\d{8}T\d{6}-\d+-\d{6}\.b64"
    assert all(re.fullmatch(pattern, p.name) for p in files), files
    read = [base64.b64decode(line) for p in files for line in p.read_bytes().splitlines()]
    assert read == written


def test_file_sink_rotates_by_age_and_writes_raw_lines_for_bad_rows(tmp_path: Path) -> None:
    sink = build_sink(FileSinkConfig(type="file", directory=tmp_path, rotate_seconds=0.05), "bad")
    sink.write(_records(b"first"))
    time.sleep(0.1)
    sink.write(_records(b"second"))
    sink.close()
    files = _finished(tmp_path)
    assert [p.read_bytes() for p in files] == [b"first\n", b"second\n"]
    assert all(p.name.startswith("records-") and p.suffix == ".lines" for p in files)


def test_file_sink_reports_an_unwritable_directory(tmp_path: Path) -> None:
    sink = build_sink(FileSinkConfig(type="file", directory=tmp_path / "d"), "good")
    (tmp_path / "d").rmdir()
    (tmp_path / "d").write_text("now a file")
    with pytest.raises(SinkError) as info:
        sink.write(_records(b"a"))
    assert info.value.accepted == 0
    assert not sink.healthy()
