"""Suite power: every deliberately broken Python tracker (conformance/mutants/) is killed.

Each mutant runs only the cases ``mutants.yaml`` lists as its killers (a few seconds in all);
``nox -s mutation`` runs the whole tier against every mutant. The unmutated driver must pass
those same cases, or a "kill" would prove nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from plowline.conformance.harness.cases import load_cases
from plowline.conformance.harness.manifest import load_manifest
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.paths import repo_root
from plowline.conformance.harness.runner import RunConfig, run_cases

MUTANTS_DIR = repo_root() / "conformance" / "mutants"
PYTHON_DRIVER = repo_root() / "trackers" / "python" / "driver" / "driver.yaml"


def _load(name: str) -> ModuleType:
    """A module of conformance/mutants/ (scripts, not a package: loaded from their file)."""
    spec = importlib.util.spec_from_file_location(
        f"plowline_mutants_{name}", MUTANTS_DIR / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


MUTATION = _load("mutation")
MUTANTS: list[Any] = MUTATION.load_mutants()
CASES = {c.id: c for c in load_cases("tracker")}


def test_there_are_enough_mutants() -> None:
    assert len(MUTANTS) >= 12


def test_mutants_patches_and_manifests_agree() -> None:
    patches: dict[str, object] = _load("mutant_driver").PATCHES
    names = {m.name for m in MUTANTS}
    assert names == set(patches)
    assert names == {p.stem for p in (MUTANTS_DIR / "manifests").glob("*.yaml")}
    for mutant in MUTANTS:
        manifest = load_manifest(mutant.manifest)
        assert manifest.env == {"PLOWLINE_MUTANT": mutant.name}
        assert manifest.name == f"mutant-{mutant.name}"


def test_every_killer_is_a_case() -> None:
    unknown = {k for m in MUTANTS for k in m.killers if k not in CASES}
    assert not unknown


def test_the_unmutated_driver_passes_every_killer() -> None:
    killers = sorted({k for m in MUTANTS for k in m.killers})
    result = run_cases(
        [CASES[k] for k in killers], RunConfig(manifest=load_manifest(PYTHON_DRIVER))
    )
    bad = {r.case: r.message for r in result.results if r.outcome is not Outcome.PASSED}
    assert not bad


def test_an_unknown_mutant_name_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "driver.yaml"
    doc = yaml.safe_load((MUTANTS_DIR / "manifests" / "no-retry.yaml").read_text())
    doc["command"] = ["{python}", str(MUTANTS_DIR / "mutant_driver.py")]
    doc["env"] = {"PLOWLINE_MUTANT": "no-such-mutant"}
    manifest.write_text(yaml.safe_dump(doc))
    result = run_cases([CASES["page-view-post"]], RunConfig(manifest=load_manifest(manifest)))
    assert result.hello is None
    assert result.results[0].outcome is Outcome.ERRORED
    assert "must name a mutant" in result.results[0].message


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_killed(mutant: Any) -> None:
    verdict = MUTATION.run_mutant(mutant, [CASES[k] for k in mutant.killers])
    assert verdict.start_error is None
    assert not verdict.errored, f"the patch crashed the driver in {verdict.errored}"
    assert verdict.killed_by, f"{mutant.name} survived its killers {mutant.killers}"
