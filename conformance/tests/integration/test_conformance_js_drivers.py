"""The tracker tier against the JavaScript trackers: Node, and the browser one in Chromium.

One run per driver (module scope), then one test per case so a failure names its case; known
failures beside each driver (``known-failures.yaml``) come out as strict xfails. The drivers
are built here when their ``dist`` is missing. Without Node or Chromium the tests skip with the
reason, except under CI (``CI=true``), where a missing toolchain is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from plowline.conformance.harness.cases import load_cases
from plowline.conformance.harness.manifest import load_manifest
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.paths import repo_root
from plowline.conformance.harness.runner import RunConfig, RunResult, run_cases

JS = repo_root() / "trackers" / "javascript"
DRIVERS = {"node": "plowline-tracker-node", "browser": "plowline-tracker-browser"}
CASES = load_cases("tracker")
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
NPM_TIMEOUT_S = 600


def _missing(driver: str) -> str | None:
    """Why this driver cannot run here, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed"
    if driver == "browser" and not CHROMIUM.exists():
        return f"chromium is not installed at {CHROMIUM}"
    return None


def _built() -> bool:
    return (
        all((JS / "driver" / d / "dist" / "main.js").exists() for d in DRIVERS)
        and (
            JS / "packages" / "tracker-browser" / "dist" / "bundle" / "driver-page.iife.js"
        ).exists()
    )


def _build() -> None:
    """npm ci (when node_modules is missing) and npm run build, once per session."""
    if _built():
        return
    steps = [["npm", "run", "build"]]
    if not (JS / "node_modules").exists():
        steps.insert(0, ["npm", "ci", "--no-audit", "--no-fund"])
    for argv in steps:
        done = subprocess.run(
            argv, cwd=JS, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False
        )
        assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"


@pytest.fixture(scope="module", params=list(DRIVERS))
def js_run(request: pytest.FixtureRequest) -> tuple[str, RunResult]:
    driver: str = request.param
    reason = _missing(driver)
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the JavaScript drivers")
        pytest.skip(reason)
    _build()
    manifest = load_manifest(JS / "driver" / driver)
    return driver, run_cases(CASES, RunConfig(manifest=manifest))


def test_the_driver_started(js_run: tuple[str, RunResult]) -> None:
    driver, run = js_run
    assert run.start_error is None
    assert run.hello is not None
    assert run.hello.name == DRIVERS[driver]
    assert len(run.results) == len(CASES)


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_case(js_run: tuple[str, RunResult], case_id: str) -> None:
    _, run = js_run
    result = next(r for r in run.results if r.case == case_id)
    if result.outcome is Outcome.XFAILED:
        pytest.xfail(result.message)
    if result.outcome is Outcome.SKIPPED:
        pytest.skip(result.message)
    assert result.outcome is Outcome.PASSED, "\n".join(result.details or [result.message])
