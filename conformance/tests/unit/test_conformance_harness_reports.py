"""Reports: JSON lines round trip, JUnit XML, and the generated compliance matrix."""

from __future__ import annotations

import contextlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.harness.driver import Hello
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.matrix import build_rows, render_html, render_markdown
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.reports import read_report, write_jsonl, write_junit
from plowline.conformance.harness.runner import RunResult

HELLO = Hello("acme", "1.2", "go", frozenset({"get", "post", "retry", "event-page-view"}))


def _run() -> RunResult:
    return RunResult(
        hello=HELLO,
        results=[
            CaseResult("a", "events", Outcome.PASSED, requires=("get", "event-page-view")),
            CaseResult(
                "b",
                "events",
                Outcome.FAILED,
                "url differs",
                ("post", "event-page-view"),
                details=["url differs", "page differs"],
            ),
            CaseResult("c", "retry", Outcome.XFAILED, "known", ("post", "retry")),
            CaseResult("d", "retry", Outcome.SKIPPED, "driver lacks retry-after", ("retry-after",)),
            CaseResult("e", "transport", Outcome.ERRORED, "crash <&>", ("get",)),
        ],
    )


def test_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_jsonl(path, _run(), "acme")
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [x["type"] for x in lines] == ["run", "case", "case", "case", "case", "case", "summary"]
    assert lines[-1]["ok"] is False
    report = read_report(path)
    assert report.label == "acme 1.2"
    assert report.capabilities == HELLO.capabilities
    assert [r.outcome for r in report.results] == [r.outcome for r in _run().results]


def test_junit(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    write_junit(path, _run(), "acme")
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 (our own file)
    assert suite is not None
    counts = [suite.get(k) for k in ("tests", "failures", "errors", "skipped")]
    assert counts == ["5", "1", "1", "2"]
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names == ["a", "b", "c", "d", "e"]


def test_matrix_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_jsonl(path, _run(), "acme")
    rows = {(r.section, r.name): r.cells[0] for r in build_rows([read_report(path)])}
    assert rows[("capabilities: transport", "get")].symbol == "fail"  # e errored
    assert rows[("capabilities: transport", "base64")].symbol == "unclaimed"
    assert rows[("capabilities: delivery", "retry")].symbol == "known"
    assert rows[("case groups", "events")].text == "1/2"
    assert rows[("case groups", "retry")].text == "0/1 (1 known)"
    assert rows[("total", "all cases")].symbol == "fail"


def test_matrix_renders(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_jsonl(path, _run(), "acme")
    reports = [read_report(path), read_report(path)]
    markdown = render_markdown(reports)
    assert "| `event-page-view` |" in markdown
    assert "do not edit" in markdown
    page = render_html(reports)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<table>") == markdown.count("\n## ")


def test_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"type": "case"}\n', encoding="utf-8")
    with pytest.raises(FileProblemsError):
        read_report(path)
    path.write_text('{"type": "summary"}\n', encoding="utf-8")
    with pytest.raises(FileProblemsError, match="no run record"):
        read_report(path)


@given(st.text(max_size=200))
def test_reading_any_text_fails_cleanly(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        path.write_text(text, encoding="utf-8")
        with contextlib.suppress(FileProblemsError):
            read_report(path)
