"""Mutation score of the tracker tier: run it against every mutant of every tracker.

A mutant is *killed* when at least one case fails against it. Errors do not count as kills:
a mutant that crashes its driver says more about the patch than about the suite, so such a
run is reported and fails the score. Exit status: 0 when every mutant is killed, 1 otherwise,
2 on bad arguments.

    python conformance/mutants/mutation.py                 # whole tier, every mutant
    python conformance/mutants/mutation.py --quick         # only each mutant's listed killers
    python conformance/mutants/mutation.py no-retry -k retry --report-dir artifacts/mutation
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from plowline.conformance.harness.cases import Case, load_cases, matches
from plowline.conformance.harness.manifest import load_manifest
from plowline.conformance.harness.outcomes import Outcome
from plowline.conformance.harness.reports import write_jsonl
from plowline.conformance.harness.runner import RunConfig, run_cases

HERE = Path(__file__).resolve().parent
MUTANTS_FILE = HERE / "mutants.yaml"
MANIFESTS = HERE / "manifests"


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str
    bug: str
    killers: tuple[str, ...]
    manifests: Path = MANIFESTS

    @property
    def manifest(self) -> Path:
        return self.manifests / f"{self.name}.yaml"


@dataclass(frozen=True, slots=True)
class Verdict:
    mutant: Mutant
    killed_by: tuple[str, ...]
    errored: tuple[str, ...]
    ran: int
    start_error: str | None = None

    @property
    def killed(self) -> bool:
        return bool(self.killed_by) and self.start_error is None and not self.errored


def load_mutants(path: Path = MUTANTS_FILE) -> list[Mutant]:
    """The mutants listed in ``mutants.yaml`` (names unique, each with at least one killer)."""
    doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, list):
        raise ValueError(f"{path}: a list of mutants expected")
    mutants = [
        Mutant(
            name=str(m["name"]),
            bug=str(m["bug"]),
            killers=tuple(m["killers"]),
            manifests=path.parent / "manifests",
        )
        for m in doc
    ]
    names = [m.name for m in mutants]
    if len(set(names)) != len(names) or any(not m.killers for m in mutants):
        raise ValueError(f"{path}: mutant names must be unique and each needs killers")
    return mutants


def load_all_mutants() -> list[Mutant]:
    """The Python tracker's mutants and every other tracker's (trackers/<lang>/mutants/)."""
    files = [MUTANTS_FILE, *sorted((HERE.parents[1] / "trackers").glob("*/mutants/mutants.yaml"))]
    mutants = [m for f in files for m in load_mutants(f)]
    names = [m.name for m in mutants]
    if len(set(names)) != len(names):
        raise ValueError("mutant names must be unique across trackers")
    return mutants


def run_mutant(mutant: Mutant, cases: Sequence[Case], report_dir: Path | None = None) -> Verdict:
    """Run ``cases`` against one mutant's driver and say which cases killed it."""
    manifest = load_manifest(mutant.manifest)
    result = run_cases(cases, RunConfig(manifest=manifest))
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(report_dir / f"{manifest.name}.jsonl", result, manifest.name)
    return Verdict(
        mutant=mutant,
        killed_by=tuple(r.case for r in result.results if r.outcome is Outcome.FAILED),
        errored=tuple(r.case for r in result.results if r.outcome is Outcome.ERRORED),
        ran=len(result.results),
        start_error=result.start_error,
    )


def cases_for(
    mutant: Mutant, every: Sequence[Case], *, quick: bool, keyword: str | None
) -> list[Case]:
    chosen = [c for c in every if c.id in mutant.killers] if quick else list(every)
    return [c for c in chosen if keyword is None or matches(c, keyword)]


def describe(verdict: Verdict) -> str:
    head = f"{'KILLED  ' if verdict.killed else 'SURVIVED'} {verdict.mutant.name}"
    if verdict.start_error:
        return f"{head}: driver did not start: {verdict.start_error}"
    line = f"{head} ({len(verdict.killed_by)}/{verdict.ran} cases failed)"
    if verdict.killed_by:
        line += ": " + ", ".join(verdict.killed_by)
    if verdict.errored:
        line += f"\n         errored (a broken patch?): {', '.join(verdict.errored)}"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mutants", nargs="*", help="mutant names (default: all)")
    parser.add_argument("--quick", action="store_true", help="run only each mutant's killers")
    parser.add_argument("-k", dest="keyword", help="keep cases matching (as `conformance run`)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--report-dir", type=Path, help="write one JSON-lines report per mutant")
    args = parser.parse_args(argv)
    mutants = load_all_mutants()
    unknown = set(args.mutants) - {m.name for m in mutants}
    if unknown or args.jobs < 1:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"unknown mutant(s) {sorted(unknown)} or --jobs < 1\n")
        return 2
    chosen = [m for m in mutants if not args.mutants or m.name in args.mutants]
    every = load_cases("tracker")

    def one(mutant: Mutant) -> Verdict:
        cases = cases_for(mutant, every, quick=args.quick, keyword=args.keyword)
        return run_mutant(mutant, cases, args.report_dir)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        verdicts = list(pool.map(one, chosen))
    for verdict in verdicts:
        print(describe(verdict))
    killed = sum(v.killed for v in verdicts)
    score = killed / len(verdicts) if verdicts else 0.0
    print(f"mutation score: {killed}/{len(verdicts)} killed ({score:.0%})")
    return 0 if verdicts and killed == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
