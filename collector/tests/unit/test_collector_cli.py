"""The command line: help, --check, readable config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plowline.collector.cli import main


def test_help_documents_config_and_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for needle in ("--config FILE", "PLOWLINE_COLLECTOR_", "/sink-health", "503"):
        assert needle in out


def test_check_prints_the_effective_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLOWLINE_COLLECTOR_HTTP__PORT", "9191")
    assert main(["--check"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["http"]["port"] == 9191
    assert config["sinks"]["good"]["type"] == "stdout"


def test_invalid_config_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[http]\nport = -1\n")
    assert main(["--config", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "http.port" in err
    assert "greater than or equal to 0" in err
