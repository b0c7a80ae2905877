"""The file source's readers: chunk edges, long lines, CRLF, unterminated last lines, and what a
follower does with a file its writer has not finished (issue 15 items 8 and 9)."""

from __future__ import annotations

import base64
import logging
import os
import struct
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.streams import Record, SinkError, SourceError, end_of_input, open_sink
from plowline.streams.files import FileSink, FileSource, is_finished
from plowline.streams.stdio import StdinSource

LEN = struct.Struct(">I")


def _read_all(source: FileSource, batch: int = 7) -> list[bytes]:
    out: list[bytes] = []
    while got := source.poll(max_records=batch, timeout=0):
        out += [r.value for r in got]
        source.commit(got)
    return out


def test_a_line_longer_than_the_chunk_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.tsv"
    path.write_bytes(b"a" * 5000 + b"\nshort\n")
    source = FileSource(f"file://{path}", path, chunk_bytes=1024)
    assert _read_all(source) == [b"a" * 5000, b"short"]


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    crlf=st.booleans(),
    terminated=st.booleans(),
    chunk=st.integers(16, 2048),
    batch=st.integers(1, 50),
)
def test_lines_of_a_finished_file_come_back_in_order_whatever_the_chunk(
    lines: list[bytes], crlf: bool, terminated: bool, chunk: int, batch: int
) -> None:
    lines = [line.rstrip(b"\r") for line in lines]
    end = b"\r\n" if crlf else b"\n"
    body = end.join(lines) + (end if terminated and lines else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.tsv"
        path.write_bytes(body)
        # follow=False: the file is finished, so its unterminated last line is a record.
        source = FileSource(f"file://{path}", path, chunk_bytes=chunk, follow=False)
        expected = lines if (terminated or not lines or lines[-1]) else lines[:-1]
        assert _read_all(source, batch) == expected


# --- arbitrary splits of the byte stream into writes give exactly the same records ----------

FORMATS = [("lines", "raw"), ("lines", "base64"), ("length", "raw")]


def _values(framing: str, encoding: str) -> st.SearchStrategy[list[bytes]]:
    value = st.binary(max_size=200)
    if encoding == "raw":  # a raw line cannot hold its separator, nor end in a CR (CRLF)
        value = value.map(lambda b: b.replace(b"\n", b"").rstrip(b"\r"))
    return st.lists(value, max_size=25)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[str, str, list[bytes], list[int]]:
    framing, encoding = draw(st.sampled_from(FORMATS))
    values = draw(_values(framing, encoding))
    if framing == "lines" and encoding == "raw" and values and values[-1] == b"":
        values = values[:-1]  # a trailing empty line is indistinguishable from no line
    return framing, encoding, values, draw(st.lists(st.integers(0, 10_000), max_size=12))


def _stream_bytes(tmp: Path, framing: str, encoding: str, values: list[bytes]) -> bytes:
    """What the real file sink writes for these values."""
    path = tmp / "written"
    sink = FileSink(f"file://{path}", path, framing=framing, encoding=encoding, fsync=False)
    sink.write([Record(v) for v in values])
    sink.close()
    return path.read_bytes()


@settings(max_examples=200, deadline=None)
@given(
    stream=_streams(),
    chunk=st.integers(1, 300),
    batch=st.integers(1, 9),
    restarts=st.sets(st.integers(0, 12)),
)
def test_any_split_into_writes_gives_the_same_records_to_a_follower(
    stream: tuple[str, str, list[bytes], list[int]], chunk: int, batch: int, restarts: set[int]
) -> None:
    framing, encoding, values, cuts = stream
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = _stream_bytes(tmp, framing, encoding, values)
        points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
        path, checkpoint = tmp / "followed", tmp / "checkpoint.json"
        path.write_bytes(b"")

        def source() -> FileSource:
            return FileSource(
                f"file://{path}", path, framing=framing, encoding=encoding,
                checkpoint=checkpoint, chunk_bytes=chunk,
            )  # fmt: skip

        reader, got = source(), []
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            for i, (start, stop) in enumerate(pairwise(points)):
                os.write(fd, data[start:stop])  # one write of the writer
                read = _read_all(reader, batch)  # what a follower sees now
                got += read
                if i in restarts:  # a new reader resumes after the committed records
                    reader.close()
                    reader = source()
        finally:
            os.close(fd)
        got += _read_all(reader, batch)
        assert got == values  # nothing held back: the last record was complete
        assert not end_of_input(reader)


@settings(max_examples=100, deadline=None)
@given(stream=_streams(), batch=st.integers(1, 9))
def test_any_split_into_writes_gives_the_same_records_on_stdin(
    stream: tuple[str, str, list[bytes], list[int]], batch: int
) -> None:
    framing, encoding, values, cuts = stream
    if framing != "lines":
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        data = _stream_bytes(Path(tmp_name), framing, encoding, values)
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    read_fd, write_fd = os.pipe()
    got: list[bytes] = []
    with os.fdopen(read_fd, "rb") as reader:
        source = StdinSource("stdin:", stream=reader, encoding=encoding)
        for start, stop in pairwise(points):
            os.write(write_fd, data[start:stop])
            while read := source.poll(max_records=batch, timeout=0):
                got += [r.value for r in read]
        os.close(write_fd)
        while not source.eof:
            got += [r.value for r in source.poll(max_records=batch, timeout=1)]
        while read := source.poll(max_records=batch, timeout=0):
            got += [r.value for r in read]
    assert got == values


# --- a follower never hands out an incomplete record, and never spins -------------------------


def _framed(values: list[bytes]) -> bytes:
    return b"".join(LEN.pack(len(v)) + v for v in values)


@pytest.mark.timeout(60)
def test_a_followed_file_hands_out_complete_records_and_waits_for_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "raw.bin"
    tail = LEN.pack(100) + b"x" * 100
    path.write_bytes(_framed([b"one", b"two"]) + tail[:50])
    source = FileSource(f"file://{path}", path, framing="length")
    assert [r.value for r in source.poll(timeout=0)] == [b"one", b"two"]
    started = time.process_time()
    assert source.poll(timeout=0.5) == []  # the half record waits, with the CPU idle
    assert time.process_time() - started < 0.4
    with path.open("ab") as f:
        f.write(tail[50:])
    [record] = source.poll(timeout=5)
    assert record.value == b"x" * 100
    assert record.position == (str(path), path.stat().st_size)


@pytest.mark.timeout(60)
def test_end_of_input_hands_out_a_truncated_tail_as_one_broken_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "raw.bin"
    path.write_bytes(_framed([b"one"]) + LEN.pack(500) + b"abc")
    source = FileSource(f"file://{path}", path, framing="length")
    assert [r.value for r in source.poll(timeout=0)] == [b"one"]
    assert source.poll(timeout=0) == []
    assert end_of_input(source)
    with caplog.at_level(logging.WARNING):
        [broken] = source.poll(timeout=0)
    assert broken.value == LEN.pack(500) + b"abc"  # the bytes as they are, for a bad row
    assert broken.position == (str(path), path.stat().st_size)
    assert "truncated record at byte 7: 3 of its 500 bytes" in caplog.text
    assert not end_of_input(source)


@pytest.mark.timeout(60)
def test_a_followed_tsv_line_in_two_writes_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "enriched.tsv"
    path.write_bytes(b"a\tb\nc\t")
    source = FileSource(f"file://{path}", path)
    assert [r.value for r in source.poll(timeout=0)] == [b"a\tb"]
    assert source.poll(timeout=0) == []
    with path.open("ab") as f:
        f.write(b"d\n")
    assert [r.value for r in source.poll(timeout=5)] == [b"c\td"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("prefix", [0xFFFFFFFF, 64 * 1024 * 1024 + 1])
def test_a_corrupt_length_prefix_ends_that_file_with_one_broken_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, prefix: int
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    bad, good = folder / "part-1", folder / "part-2"
    bad.write_bytes(_framed([b"one", b"two"]) + LEN.pack(prefix) + b"garbage" * 10)
    good.write_bytes(_framed([b"three"]))
    source = FileSource(f"file://{folder}", folder, framing="length")
    with caplog.at_level(logging.ERROR):
        got = source.poll(max_records=3, timeout=0)
    assert [r.value for r in got] == [b"one", b"two", LEN.pack(prefix) + b"garbage" * 10]
    assert got[2].position == (str(bad), bad.stat().st_size)
    assert f"corrupt length prefix at byte 14: {prefix} bytes is over" in caplog.text
    with bad.open("ab") as f:  # a stopped file is not read again
        f.write(_framed([b"later"]))
    assert [r.value for r in source.poll(max_records=10, timeout=0)] == [b"three"]
    assert source.poll(timeout=0) == []


def test_a_finished_part_file_with_a_truncated_tail_needs_no_end_of_input(tmp_path: Path) -> None:
    (tmp_path / "part-1").write_bytes(_framed([b"one"]) + LEN.pack(9) + b"ab")
    source = FileSource(f"file://{tmp_path}", tmp_path, framing="length")
    assert [r.value for r in source.poll(timeout=0)] == [b"one", LEN.pack(9) + b"ab"]


def test_a_line_that_is_not_base64_is_handed_out_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "f"
    good = base64.b64encode(b"\x00binary\n")
    path.write_bytes(good + b"\nnot base64!\n" + good + b"\n")
    source = FileSource(f"file://{path}", path, encoding="base64")
    values = [r.value for r in source.poll(timeout=0)]
    assert values == [b"\x00binary\n", b"not base64!", b"\x00binary\n"]


def test_a_stdin_line_that_is_not_base64_is_handed_out_as_it_is() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"not base64!\n" + base64.b64encode(b"ok") + b"\n")
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        source = StdinSource("stdin:", stream=reader, encoding="base64")
        assert [r.value for r in source.poll(timeout=5)] == [b"not base64!", b"ok"]


# --- one rule says which files are finished, for every writer and reader ----------------------


def test_every_writers_in_progress_file_is_skipped_by_every_reader(tmp_path: Path) -> None:
    for suffix in (".inprogress", ".open"):
        folder = tmp_path / suffix[1:]
        sink = open_sink(f"file://{folder}/", in_progress_suffix=suffix, fsync=False)
        sink.write([Record(suffix.encode())])
        sink.flush()  # the file is still being written
        [written] = folder.iterdir()
        assert written.name.endswith(suffix)
        assert not is_finished(written.name)
        source = FileSource(f"file://{folder}", folder)  # no option: the rule is shared
        assert source.poll(timeout=0) == []
        sink.close()
        assert [r.value for r in source.poll(timeout=0)] == [suffix.encode()]
        (folder / ".being-copied").write_bytes(b"hidden\n")  # a dot file is not finished
        assert source.poll(timeout=0) == []


def test_a_suffix_readers_would_not_skip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match="in_progress_suffix must be one of"):
        open_sink(f"file://{tmp_path}/", in_progress_suffix=".tmp")
    with pytest.raises(SourceError, match="in_progress_suffix must be one of"):
        FileSource(f"file://{tmp_path}", tmp_path, in_progress_suffix=".tmp")


def test_a_checkpoint_inside_the_followed_folder_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "part-1").write_bytes(b"one\n")
    checkpoint = tmp_path / "checkpoint.json"
    source = FileSource(f"file://{tmp_path}", tmp_path, checkpoint=checkpoint)
    source.commit(source.poll(timeout=0))
    assert checkpoint.exists()
    assert FileSource(f"file://{tmp_path}", tmp_path, checkpoint=checkpoint).poll(timeout=0) == []
