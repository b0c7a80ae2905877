"""The end-to-end tier's corpus and judge, without services (the runs are integration tests)."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from plowline.conformance.harness import cli
from plowline.conformance.harness.e2e import (
    check_e2e_cases,
    column_text,
    load_e2e_cases,
    rows_problems,
    tool,
)
from plowline.conformance.harness.paths import cases_root


def test_the_e2e_corpus_is_sane() -> None:
    count, problems = check_e2e_cases()
    assert problems == []
    assert count >= 10
    routes = {c.route for c in load_e2e_cases()}
    assert routes == {"kafka-postgres", "kinesis-s3"}


def test_a_broken_e2e_case_is_reported(tmp_path: Path) -> None:
    shutil.copytree(cases_root() / "pipeline", tmp_path / "pipeline", dirs_exist_ok=True)
    folder = tmp_path / "e2e" / "kafka-postgres"
    folder.mkdir(parents=True)
    shutil.copy(cases_root() / "e2e" / "case.schema.json", tmp_path / "e2e")
    (folder / "wrong-name.yaml").write_text(
        "id: other\ngroup: kafka-postgres\ndescription: d\ncovers: ['enriched#nope']\n"
        "route: kafka-postgres\ntrack: [{type: page_view}]\nexpect: {}\n",
        encoding="utf-8",
    )
    (folder / "bad-field.yaml").write_text(
        "id: bad-field\ngroup: kafka-postgres\ndescription: d\ncovers: ['enriched#nope']\n"
        "route: kafka-postgres\ntrack: [{type: page_view}]\n"
        "expect: {objects: {events: [{no_such_field: x}]}, bad_rows: [{type: no_such_type}]}\n",
        encoding="utf-8",
    )
    count, problems = check_e2e_cases(tmp_path)
    assert count == 2
    text = "\n".join(problems)
    assert "differs from the file name" in text
    assert "covers 'enriched#nope'" in text
    assert "no_such_field" in text
    assert "no_such_type" in text


def test_rows_are_matched_as_subsets_in_any_order() -> None:
    rows: list[dict[str, str | None]] = [
        {"event": "page_view", "page_urlpath": "/b"},
        {"event": "page_view", "page_urlpath": "/a"},
    ]
    want = {"count": 2, "rows": [{"page_urlpath": "/a"}, {"page_urlpath": "/b"}]}
    assert rows_problems("t", rows, want) == []
    found = rows_problems("t", rows, {"count": 3, "rows": [{"page_urlpath": "/c"}]})
    assert any("expected 3 row(s), got 2" in p for p in found)
    assert any("no row matches expectation 0" in p for p in found)
    # One row cannot satisfy two expectations.
    assert rows_problems("t", rows[:1], {"rows": [{"event": "page_view"}] * 2}) != []


def test_the_pipeline_commands_are_installed() -> None:
    for name in ("plowline-collector", "plowline-enrich", "plowline-load"):
        assert Path(tool(name)).exists(), name


def test_cli_points_e2e_runs_at_pytest(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--tier", "e2e"]) == 2
    assert "test_conformance_e2e.py" in capsys.readouterr().err
    assert cli.main(["check-cases", "--tier", "e2e"]) == 0


def test_column_values_read_like_tsvcolumn_text() -> None:
    assert column_text(2.0) == "2"
    assert column_text(99.99) == "99.99"
    assert column_text(Decimal("7.00")) == "7"
    assert column_text(Decimal("10.25")) == "10.25"
    assert column_text(None) is None
    assert column_text({"a": [1]}) == '{"a":[1]}'
