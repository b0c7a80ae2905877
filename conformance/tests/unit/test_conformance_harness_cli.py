"""`plowline conformance run | matrix | check-cases`, standalone and through register()."""

from __future__ import annotations

import argparse
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from plowline.conformance.harness import cli

FAUX = Path(__file__).resolve().parents[1] / "faux"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_register_adds_the_group() -> None:
    parser = argparse.ArgumentParser(prog="plowline")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["conformance", "check-cases"])
    assert args.handler is cli.cmd_check_cases
    args = parser.parse_args(["conformance", "run", "--manifest", "x", "-k", "retry"])
    assert (args.handler, args.keyword, args.tier) == (cli.cmd_run, "retry", "tracker")


def test_check_cases_passes_on_the_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-cases")
    assert code == 0, out
    assert "0 problem(s)" in out


def test_run_needs_a_driver(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run")
    assert code == 2
    assert "--driver" in err


def test_run_faux_then_matrix(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report, junit = tmp_path / "faux.jsonl", tmp_path / "faux.xml"
    command = shlex.join([sys.executable, str(FAUX / "faux_driver.py")])
    code, out, _ = run(
        capsys, "run", "--driver", command, "--cases", str(FAUX / "cases"), "-k", "ok-after",
        "--report", str(report), "--junit", str(junit),
    )  # fmt: skip
    assert code == 0, out
    assert "12 passed" in out
    assert ET.parse(junit).getroot().find("testsuite") is not None  # noqa: S314 (our own file)
    html = tmp_path / "m.html"
    code, out, _ = run(capsys, "matrix", str(report), "--html", str(html))
    assert code == 0
    assert "faux 0" in out
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_run_reports_failures_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "run", "--manifest", str(FAUX), "--cases", str(FAUX / "cases"), "-k", "lie",
        "--verbose",
    )  # fmt: skip
    assert code == 1
    assert "FAILED faux/faux-05a-lie" in out
    assert "1 failed" in out
    assert "1 xfailed" in out


def test_no_matching_case(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "run", "--manifest", str(FAUX), "-k", "no-such-case-anywhere")
    assert (code, "no case matches" in err) == (2, True)


def test_bad_manifest_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "driver.yaml").write_text("name: x\n", encoding="utf-8")
    code, _, err = run(capsys, "run", "--manifest", str(tmp_path))
    assert code == 2
    assert "required property" in err


def test_matrix_of_a_missing_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "matrix", str(tmp_path / "none.jsonl"))
    assert (code, "cannot read" in err) == (2, True)
