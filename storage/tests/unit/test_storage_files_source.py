"""The file source's line reader: chunk edges, long lines, CRLF, unterminated last lines."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.storage.streams.files import FileSource


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
def test_lines_come_back_in_order_whatever_the_chunk(
    lines: list[bytes], crlf: bool, terminated: bool, chunk: int, batch: int
) -> None:
    lines = [line.rstrip(b"\r") for line in lines]
    end = b"\r\n" if crlf else b"\n"
    body = end.join(lines) + (end if terminated and lines else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.tsv"
        path.write_bytes(body)
        source = FileSource(f"file://{path}", path, chunk_bytes=chunk)
        expected = lines if (terminated or not lines or lines[-1]) else lines[:-1]
        assert _read_all(source, batch) == expected
