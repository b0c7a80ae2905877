"""`plowline up` command line: registered on `plowline`, options and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from plowline.conformance.cli import build_parser, main


def test_defaults() -> None:
    # host, port and cookie name are settled in run(): the flag, else --collector-config's,
    # else 127.0.0.1, 9090 and micro.
    args = build_parser().parse_args(["up"])
    assert args.port is None
    assert args.host is None
    assert args.persist is None
    assert args.schemas == []
    assert args.output is None
    assert args.cookie_name is None
    assert args.collector_config is None
    assert args.iglu is None


def test_micro_options() -> None:
    args = build_parser().parse_args(
        ["up", "--collector-config", "micro.conf", "--iglu", "iglu.json", "--yauaa"]
    )
    assert args.collector_config == Path("micro.conf")
    assert args.iglu == Path("iglu.json")
    assert args.yauaa is True
    assert build_parser().parse_args(["up", "--config", "m.conf"]).collector_config == Path(
        "m.conf"
    )


def test_help_shows_micro_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--help"])
    text = capsys.readouterr().out
    for flag in ("--collector-config", "--iglu", "--output-tsv", "--output-json",
                 "--destination", "--no-storage", "--yauaa"):  # fmt: skip
        assert flag in text


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
