"""The whole tracker tier against plowline-tracker (Python), through its driver manifest.

This is the run CI uses: one module-scoped run of every case, then one test per case, so a
failure names its case. Known failures listed in ``trackers/python/driver/driver.yaml`` come
out as xfails (strict: one that passes fails the run). Set ``PLOWLINE_CONFORMANCE_REPORTS`` to a
folder to keep the JSON-lines and JUnit reports (``plowline conformance matrix`` renders them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plowline.conformance.harness.cases import load_cases
from plowline.conformance.harness.manifest import load_manifest
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.paths import repo_root
from plowline.conformance.harness.reports import write_jsonl, write_junit
from plowline.conformance.harness.runner import RunConfig, RunResult, run_cases

MANIFEST = repo_root() / "trackers" / "python" / "driver" / "driver.yaml"
CASES = load_cases("tracker")


@pytest.fixture(scope="module")
def python_run() -> RunResult:
    manifest = load_manifest(MANIFEST)
    result = run_cases(CASES, RunConfig(manifest=manifest))
    keep = os.environ.get("PLOWLINE_CONFORMANCE_REPORTS")
    if keep:
        folder = Path(keep)
        folder.mkdir(parents=True, exist_ok=True)
        write_jsonl(folder / f"{manifest.name}.jsonl", result, manifest.name)
        write_junit(folder / f"{manifest.name}.xml", result, manifest.name)
    return result


def test_the_driver_started(python_run: RunResult) -> None:
    assert python_run.start_error is None
    assert python_run.hello is not None
    assert python_run.hello.name == "plowline-tracker-python"
    assert len(python_run.results) == len(CASES)


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_case(python_run: RunResult, case_id: str) -> None:
    result = next(r for r in python_run.results if r.case == case_id)
    if result.outcome is Outcome.XFAILED:
        pytest.xfail(result.message)
    if result.outcome is Outcome.SKIPPED:
        pytest.skip(result.message)
    assert result.outcome is Outcome.PASSED, "\n".join(result.details or [result.message])
