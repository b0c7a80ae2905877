"""The stream contract against the in-process implementations: memory, files, stdio."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plowline.streams import Record, Sink, Source, open_sink, open_source
from plowline.streams.memory import reset
from plowline.streams.stdio import StdinSource, StdoutSink
from plowline.streams.testing import StreamContract, StreamUnderTest


class TestMemoryStream(StreamContract):
    @pytest.fixture
    def stream(self) -> Iterator[StreamUnderTest]:
        name = f"t-{uuid.uuid4().hex}"
        yield StreamUnderTest(
            sink=lambda: open_sink(f"memory://{name}"),
            source=lambda: open_source(f"memory://{name}?group=g"),
        )
        reset(name)


class TestLineFileStream(StreamContract):
    keys_preserved = False  # files hold values only
    binary_safe = False  # raw lines: a newline would split a record (refused by the sink)

    @pytest.fixture
    def stream(self, tmp_path: Path) -> StreamUnderTest:
        path = tmp_path / "events.tsv"
        checkpoint = tmp_path / "checkpoint.json"
        path.touch()
        return StreamUnderTest(
            sink=lambda: open_sink(f"file://{path}"),
            source=lambda: open_source(f"file://{path}", checkpoint=checkpoint),
        )


def _parts(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh folder for part files and where a source keeps its checkpoint."""
    folder = tmp_path / "parts"
    folder.mkdir()
    return folder, tmp_path / "cp.json"


class TestLengthFramedDirectoryStream(StreamContract):
    """Rotating part files in a directory, binary-safe length framing."""

    keys_preserved = False

    @pytest.fixture
    def stream(self, tmp_path: Path) -> StreamUnderTest:
        folder, checkpoint = _parts(tmp_path)
        return StreamUnderTest(
            sink=lambda: open_sink(f"file://{folder}/?framing=length&max_bytes=200"),
            source=lambda: open_source(f"file://{folder}", framing="length", checkpoint=checkpoint),
        )


class TestBase64NamedPartsStream(StreamContract):
    """Part files with a writer's own names and in-progress suffix, one base64 line a record
    (the collector's layout)."""

    keys_preserved = False

    @pytest.fixture
    def stream(self, tmp_path: Path) -> StreamUnderTest:
        folder, checkpoint = _parts(tmp_path)
        common = {"encoding": "base64", "in_progress_suffix": ".open"}
        return StreamUnderTest(
            sink=lambda: open_sink(
                f"file://{folder}/?max_bytes=100",
                name=lambda seq: f"good-{seq:06d}.b64",
                fsync=False,
                **common,
            ),
            source=lambda: open_source(f"file://{folder}", checkpoint=checkpoint, **common),
        )


class TestStdioStream(StreamContract):
    durable_commit = False  # standard input cannot be rewound
    redelivers_uncommitted = False
    keys_preserved = False  # lines carry values only
    binary_safe = False  # raw lines
    encoding = "raw"

    @pytest.fixture
    def stream(self) -> Iterator[StreamUnderTest]:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        writer = os.fdopen(write_fd, "wb")
        reader = os.fdopen(read_fd, "rb")
        yield StreamUnderTest(
            sink=lambda: StdoutSink("stdout:", stream=writer, encoding=self.encoding),
            source=lambda: StdinSource("stdin:", stream=reader, encoding=self.encoding),
        )
        writer.close()
        reader.close()


class TestBase64StdioStream(TestStdioStream):
    binary_safe = True
    encoding = "base64"


def test_rotation_by_size_produces_several_finished_files(tmp_path: Path) -> None:
    sink = open_sink(f"file://{tmp_path}/?max_bytes=100")
    for i in range(10):
        sink.write([Record(b"x" * 30 + str(i).encode())])
    sink.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) >= 3
    assert not any(f.endswith(".inprogress") for f in files)
    source = open_source(f"file://{tmp_path}")
    got = source.poll(max_records=100, timeout=0)
    assert [r.value[-1:] for r in got] == [str(i).encode() for i in range(10)]


def test_rotation_by_time(tmp_path: Path) -> None:
    sink = open_sink(f"file://{tmp_path}/", max_age=0.0)
    sink.write([Record(b"a")])
    sink.write([Record(b"b")])
    sink.close()
    assert len(list(tmp_path.iterdir())) == 2


def test_in_memory_stdin_reads_lines_and_last_unterminated_line() -> None:
    source = StdinSource("stdin:", stream=io.BytesIO(b"a\r\nb\nc"))
    got = source.poll(timeout=0)
    got += source.poll(timeout=0)  # the second read meets the end of input
    assert [r.value for r in got] == [b"a", b"b", b"c"]
    assert source.eof


def test_stdout_rejects_newlines() -> None:
    from plowline.streams import SinkError

    sink = StdoutSink("stdout:", stream=io.BytesIO())
    with pytest.raises(SinkError, match="newline"):
        sink.write([Record(b"a\nb")])


@pytest.mark.parametrize(
    "url",
    ["nonsense", "memory://", "ftp://x/y", "file://", "kafka://host:9092/", "s3:///prefix"],
)
def test_bad_urls_raise_stream_errors_naming_the_url(url: str) -> None:
    from plowline.streams import SinkError, SourceError

    with pytest.raises(SinkError, match="^" + url.replace("/", ".")):
        open_sink(url)
    with pytest.raises(SourceError):
        open_source(url)


def test_memory_capacity_raises_sink_full() -> None:
    from plowline.streams import SinkFullError

    sink = open_sink(f"memory://{uuid.uuid4().hex}", capacity=2)
    sink.write([Record(b"1"), Record(b"2")])
    with pytest.raises(SinkFullError):
        sink.write([Record(b"3")])


def test_protocols_are_satisfied() -> None:
    name = uuid.uuid4().hex
    assert isinstance(open_sink(f"memory://{name}"), Sink)
    assert isinstance(open_source(f"memory://{name}"), Source)


def test_missing_file_source_is_a_source_error(tmp_path: Path) -> None:
    from plowline.streams import SourceError

    with pytest.raises(SourceError, match="does not exist"):
        open_source(f"file://{tmp_path}/nope")
