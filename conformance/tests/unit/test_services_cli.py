"""`plowline services ...`: help, argument errors, and the commands that need no service."""

from __future__ import annotations

from pathlib import Path

import pytest
from plowline.conformance.cli import main


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLOWLINE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--help",), "services"),
        (("services", "--help"), "up"),
        (("services", "up", "--help"), 'eval "$(plowline services up)"'),
        (("services", "install", "--help"), "--no-system"),
        (("services", "down", "--help"), "--all"),
    ],
)
def test_help(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], expected: str) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert expected in " ".join(out.split())  # argparse wraps to the terminal width


def test_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "services", "up", "mysql")
    assert code == 2
    assert "unknown service 'mysql' (choose from postgres, kafka, aws)" in err


def test_missing_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "services")
    assert code == 2
    assert "required" in err


def test_status_env_down_with_nothing_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "services", "status") == (
        0,
        "no services recorded (start some with `plowline services up`)\n",
        "",
    )
    assert run(capsys, "services", "env") == (0, "", "")
    assert run(capsys, "services", "down") == (0, "nothing to stop\n", "")


def test_bad_setting_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLOWLINE_AWS_BACKEND", "nope")
    code, _, err = run(capsys, "services", "status")
    assert code == 2
    assert "PLOWLINE_AWS_BACKEND='nope'" in err


def test_install_reports_what_is_missing_without_apt(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    code, out, _ = run(capsys, "services", "install", "--no-system", "kafka")
    assert code == 1
    assert "[FAIL] kafka: Java 17+ runtime" in out
    assert "openjdk-17-jre-headless" in out
    assert "apt-get install -y maven" in out
    assert "required step(s) failed" in out


def test_install_finds_postgres_binaries(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "pg" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "initdb").write_text("#!/bin/sh\n")
    (bin_dir / "postgres").write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 99.1'\n")
    (bin_dir / "postgres").chmod(0o755)
    monkeypatch.setenv("PLOWLINE_PG_BIN", str(bin_dir))
    code, out, _ = run(capsys, "services", "install", "--no-system", "postgres")
    assert code == 0
    assert "[ok ] postgres: server binaries" in out
    assert f"PostgreSQL 99.1 at {bin_dir}" in out
    assert "plowline services install: ready" in out
