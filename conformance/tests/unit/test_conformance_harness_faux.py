"""Harness self-tests: faux drivers that crash, hang, write garbage and lie on instruction.

Every misbehaviour must come out as the right outcome, and the run must carry on (the next
case passes on a restarted driver).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from plowline.conformance.harness.cases import load_cases
from plowline.conformance.harness.manifest import Manifest, load_manifest
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.runner import RunConfig, RunResult, run_cases

FAUX = Path(__file__).resolve().parents[1] / "faux"
CASES = FAUX / "cases"

EXPECTED = {
    "faux-00a-crash": Outcome.ERRORED,
    "faux-01a-hang": Outcome.ERRORED,
    "faux-02a-garbage": Outcome.ERRORED,
    "faux-03a-badreply": Outcome.ERRORED,
    "faux-04a-wrongseq": Outcome.ERRORED,
    "faux-05a-lie": Outcome.FAILED,
    "faux-06a-wrongurl": Outcome.FAILED,
    "faux-07a-refuse": Outcome.FAILED,
    "faux-08a-internal": Outcome.ERRORED,
    "faux-09a-skipclaimed": Outcome.FAILED,
    "faux-10a-skip": Outcome.SKIPPED,
    "faux-11a-noise": Outcome.ERRORED,
    "faux-known-lie": Outcome.XFAILED,
    "faux-known-but-passes": Outcome.XPASSED,
    "faux-needs-retry": Outcome.SKIPPED,
}
MESSAGES = {
    "faux-00a-crash": "DriverCrashedError",
    "faux-01a-hang": "DriverTimeoutError",
    "faux-02a-garbage": "not JSON",
    "faux-03a-badreply": "invalid reply to track",
    "faux-04a-wrongseq": "carries seq",
    "faux-05a-lie": "0 event(s) delivered",
    "faux-06a-wrongurl": "url is",
    "faux-07a-refuse": "invalid_argument",
    "faux-08a-internal": "internal",
    "faux-09a-skipclaimed": "which the driver claims",
    "faux-known-lie": "known failure",
}


def _run(
    manifest: Manifest, keyword: str | None = None, *, start_timeout_s: float = 60.0
) -> RunResult:
    cases = load_cases("tracker", CASES, keyword)
    config = RunConfig(manifest=manifest, reply_timeout_s=2.0, start_timeout_s=start_timeout_s)
    return run_cases(cases, config)


@pytest.fixture(scope="module")
def faux_run() -> RunResult:
    return _run(load_manifest(FAUX))


def test_every_misbehaviour_gets_its_outcome(faux_run: RunResult) -> None:
    got = {r.case: r.outcome for r in faux_run.results}
    for case, outcome in EXPECTED.items():
        assert got[case] is outcome, (case, got[case])
    for case, text in MESSAGES.items():
        result = next(r for r in faux_run.results if r.case == case)
        assert text in result.message, (case, result.message)


def test_the_run_carries_on_after_each_misbehaviour(faux_run: RunResult) -> None:
    following = [r for r in faux_run.results if "ok-after" in r.case]
    assert len(following) == 12
    assert all(r.outcome is Outcome.PASSED for r in following), [
        (r.case, r.message) for r in following if r.outcome is not Outcome.PASSED
    ]
    assert not faux_run.ok


def test_an_honest_run_is_ok() -> None:
    result = _run(load_manifest(FAUX), "ok-after")
    assert result.ok
    assert result.counts()["passed"] == 12
    assert result.hello is not None
    assert result.hello.name == "faux"


@pytest.mark.parametrize("mode", ["crash", "hang", "garbage", "errored"])
def test_a_driver_that_never_says_hello_errors_every_case(mode: str) -> None:
    base = load_manifest(FAUX)
    manifest = Manifest(
        name="faux-hello",
        language="python",
        command=(*base.command, "--hello", mode),
        directory=base.directory,
    )
    result = _run(manifest, "ok-after", start_timeout_s=2.0)
    assert [r.outcome for r in result.results] == [Outcome.ERRORED] * 12
    assert all("could not start" in r.message for r in result.results)
    assert result.start_error
    assert not result.ok


def test_a_slow_start_is_not_a_reply_timeout() -> None:
    """A runtime that boots slower than one reply may take (a loaded machine) still starts."""
    base = load_manifest(FAUX)
    manifest = Manifest(
        name="faux-slow-boot",
        language="python",
        command=(*base.command, "--boot-s", "3"),
        directory=base.directory,
    )
    result = _run(manifest, "faux-00b")  # reply timeout 2 s, start timeout 60 s
    assert result.start_error is None
    assert [r.outcome for r in result.results] == [Outcome.PASSED]


def test_a_driver_that_cannot_be_started_errors_every_case(tmp_path: Path) -> None:
    manifest = Manifest(
        name="missing", language="none", command=(str(tmp_path / "no-such-driver"),),
        directory=tmp_path,
    )  # fmt: skip
    result = _run(manifest, "faux-00")
    assert {r.outcome for r in result.results} == {Outcome.ERRORED}
    assert "cannot start" in result.results[0].message


def test_a_failed_toolchain_check_errors_every_case(tmp_path: Path) -> None:
    manifest = Manifest(
        name="nochain", language="none", command=("true",), directory=tmp_path,
        check=("false",),
    )  # fmt: skip
    result = _run(manifest, "faux-00")
    assert {r.outcome for r in result.results} == {Outcome.ERRORED}
    assert "toolchain check" in result.results[0].message
    assert result.start_error is not None


def test_a_claimed_capability_is_checked_on_the_wire() -> None:
    """Claiming retry without retrying: the real retry case fails instead of being skipped."""
    base = load_manifest(FAUX)
    corpus = load_cases("tracker", keyword="retry-on-500")
    honest = run_cases(corpus, RunConfig(manifest=base, reply_timeout_s=5.0))
    assert [r.outcome for r in honest.results] == [Outcome.SKIPPED]
    claims = Manifest(
        name="faux-claims", language="python", command=(*base.command, "--claim", "retry"),
        directory=base.directory,
    )  # fmt: skip
    lying = run_cases(corpus, RunConfig(manifest=claims, reply_timeout_s=5.0))
    assert [r.outcome for r in lying.results] == [Outcome.FAILED]
    # The case checks the attempts right after the flush, so the lie is caught at that step.
    assert "1 request(s) so far, expected 2" in lying.results[0].message


def test_a_case_the_harness_cannot_send_is_errored_and_the_run_goes_on(tmp_path: Path) -> None:
    import shutil

    import yaml

    folder = tmp_path / "tracker" / "faux"
    folder.mkdir(parents=True)
    for name in ("faux-00b-ok-after-crash", "faux-01b-ok-after-hang"):
        shutil.copy(CASES / "tracker" / "faux" / f"{name}.yaml", folder)
    broken = folder / "faux-00b-ok-after-crash.yaml"
    doc = yaml.safe_load(broken.read_text(encoding="utf-8"))
    doc["configure"]["clock_ms"] = -5  # breaks configure.request.schema.json
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    cases = load_cases("tracker", tmp_path)
    result = run_cases(cases, RunConfig(manifest=load_manifest(FAUX), reply_timeout_s=5.0))
    assert [r.outcome for r in result.results] == [Outcome.ERRORED, Outcome.PASSED]
    assert result.results[0].message.startswith("harness: the harness built an invalid configure")
