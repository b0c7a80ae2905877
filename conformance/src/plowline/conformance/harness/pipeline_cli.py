"""``plowline conformance run --tier pipeline``: collector + enricher, each in-process or not."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from plowline.conformance.harness.errors import HarnessError
from plowline.conformance.harness.outcomes import CaseResult
from plowline.conformance.harness.pipeline import PipelineRun, run_pipeline_cases
from plowline.conformance.harness.pipeline_cases import load_pipeline_cases
from plowline.conformance.harness.pipeline_parts import (
    CommandEnricher,
    InProcessCollector,
    InProcessEnricher,
    PipelineError,
    RemoteCollector,
)
from plowline.conformance.harness.reports import summary_line, write_jsonl, write_junit
from plowline.conformance.harness.runner import RunResult

SHORT = {
    "passed": ".",
    "failed": "F",
    "skipped": "s",
    "errored": "E",
    "xfailed": "x",
    "xpassed": "X",
}


def build_run(args: argparse.Namespace) -> tuple[PipelineRun, str]:
    """The collector and enricher the options ask for, and a label naming them."""
    if args.collector_url and not args.raw_from:
        raise PipelineError("--collector-url needs --raw-from (where its raw records land)")
    collector = (
        RemoteCollector(args.collector_url, args.raw_from, args.collector_bad_from)
        if args.collector_url
        else InProcessCollector()
    )
    enricher = (
        CommandEnricher(args.enricher_command) if args.enricher_command else InProcessEnricher()
    )
    label = (
        f"{args.collector_url or 'plowline-collector (in-process)'} + "
        f"{args.enricher_command or 'plowline-enrich (in-process)'}"
    )
    return PipelineRun(collector, enricher), label


def cmd_run_pipeline(args: argparse.Namespace, out: TextIO) -> int:
    try:
        cases = load_pipeline_cases(args.cases, args.keyword)
        run, label = build_run(args)
    except (HarnessError, PipelineError, OSError, ValueError) as error:
        print(f"plowline conformance: {error}", file=sys.stderr)
        return 2
    if not cases:
        print("plowline conformance: no case matches", file=sys.stderr)
        return 2
    out.write(f"{len(cases)} pipeline case(s) against {label}\n")
    column = [0]

    def on_result(result: CaseResult) -> None:
        if args.verbose:
            line = f"{result.outcome.value.upper():8} {result.group}/{result.case}"
            out.write(line + (f"  {result.message}" if result.message else "") + "\n")
        else:
            out.write(SHORT[result.outcome.value])
            column[0] += 1
            if column[0] % 60 == 0:
                out.write("\n")
        out.flush()

    try:
        results = run_pipeline_cases(cases, run, on_result)
    finally:
        run.collector.close()
    if column[0] % 60:
        out.write("\n")
    result = RunResult(hello=None, results=results)
    for r in results:
        if r.outcome.bad:
            out.write(f"{r.outcome.value.upper()} {r.group}/{r.case}: {r.message}\n")
            for detail in r.details[1:6]:
                out.write(f"    {detail}\n")
    if args.report:
        write_jsonl(args.report, result, label, "pipeline")
    if args.junit:
        write_junit(args.junit, result, label, "pipeline")
    out.write(f"{summary_line(result.counts())}\n")
    return 0 if result.ok else 1
