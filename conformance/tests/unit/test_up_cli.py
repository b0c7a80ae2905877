"""`plowline up` command line: registered on `plowline`, options and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from plowline.conformance.cli import build_parser, main


def test_defaults() -> None:
    args = build_parser().parse_args(["up"])
    assert args.port == 9090
    assert args.host == "127.0.0.1"
    assert args.persist is None
    assert args.schemas == []
    assert args.output is None
    assert args.cookie_name == "micro"


def test_options() -> None:
    args = build_parser().parse_args(
        ["up", "--port", "0", "--persist", "x.sqlite", "--schemas", "a", "--schemas", "b",
         "--enrichments", "e", "--output-json"]
    )  # fmt: skip
    assert args.port == 0
    assert args.persist == Path("x.sqlite")
    assert args.schemas == [Path("a"), Path("b")]
    assert args.enrichments == Path("e")
    assert args.output == "json"


@pytest.mark.parametrize("argv", [["up", "--port", "70000"], ["up", "--port", "x"],
                                  ["up", "--output-tsv", "--output-json"]])  # fmt: skip
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_missing_folders_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--port", "0", "--enrichments", str(tmp_path / "none")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_help_describes_micro_compat(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--help"])
    text = capsys.readouterr().out
    for needle in ("/micro/good", "/micro/ui", "--persist", "--schemas", "micro", "SIGTERM"):
        assert needle in text


def test_help_says_what_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for needle in ("kill -9", "temporary file, removed when plowline up exits", "503"):
        assert needle in text
