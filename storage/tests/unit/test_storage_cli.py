"""`plowline-load` without services: help, the embedded target, argument errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from plowline.storage.cli import main
from plowline.storage.testing.events import enriched_lines


@pytest.mark.parametrize(
    "args", [["--help"], ["postgres", "--help"], ["s3", "--help"], ["embedded", "--help"]]
)
def test_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0
    assert "--from" in capsys.readouterr().out


def test_embedded_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.tsv"
    data.write_bytes(b"\n".join([*enriched_lines(250), b"broken"]) + b"\n")
    db = tmp_path / "db.sqlite"
    bad = tmp_path / "bad.json"
    code = main(
        [
            "embedded",
            "--from",
            str(data),
            "--db",
            str(db),
            "--bad",
            f"file://{bad}",
            "--batch-size",
            "100",
            "--idle-exit",
            "0.2",
        ]
    )
    assert code == 0
    assert "loaded=250 bad=1" in capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (250,)
    assert len(bad.read_bytes().splitlines()) == 1


def test_missing_dsn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PLOWLINE_POSTGRES_DSN", raising=False)
    data = tmp_path / "in.tsv"
    data.write_bytes(b"")
    assert main(["postgres", "--from", str(data)]) == 2
    assert "--dsn" in capsys.readouterr().err


def test_bad_source_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["embedded", "--from", "nope://x", "--db", str(tmp_path / "d")]) == 1
    assert "unknown source scheme" in capsys.readouterr().err
