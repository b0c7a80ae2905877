"""``plowline conformance run | matrix | check-cases``.

:func:`register` adds the ``conformance`` group to the ``plowline`` command's subparsers; each
subcommand sets ``handler`` (call ``args.handler(args)`` for the exit status). The same tree
runs standalone as ``python -m plowline.conformance.harness``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from plowline.conformance.harness.cases import TIERS, load_cases
from plowline.conformance.harness.checks import check_cases
from plowline.conformance.harness.driver import Hello
from plowline.conformance.harness.errors import HarnessError
from plowline.conformance.harness.manifest import Manifest, load_manifest, manifest_from_command
from plowline.conformance.harness.matrix import render_html, render_markdown
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.reports import read_report, summary_line, write_jsonl, write_junit
from plowline.conformance.harness.runner import RunConfig, run_cases

SHORT = {
    Outcome.PASSED: ".",
    Outcome.FAILED: "F",
    Outcome.SKIPPED: "s",
    Outcome.ERRORED: "E",
    Outcome.XFAILED: "x",
    Outcome.XPASSED: "X",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``conformance`` command group to ``plowline``'s subparsers."""
    group = subparsers.add_parser(
        "conformance",
        help="run the conformance suite against a tracker driver; render reports",
        description="Prove a tracker correct: run the case corpus against its driver.",
    )
    _fill(group)


def _fill(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="conformance_command", required=True, metavar="SUBCOMMAND")
    run = sub.add_parser("run", help="run a tier of cases against one driver")
    target = run.add_mutually_exclusive_group()
    target.add_argument("--driver", metavar="COMMAND", help="the driver's command line")
    target.add_argument(
        "--manifest", type=Path, metavar="PATH", help="a driver.yaml (or the folder holding it)"
    )
    run.add_argument("--tier", choices=TIERS, default="tracker")
    pipeline = run.add_argument_group("pipeline tier (default: collector and enricher in-process)")
    pipeline.add_argument(
        "--collector-url", metavar="URL", help="send the requests to this running collector"
    )
    pipeline.add_argument(
        "--raw-from",
        metavar="STREAM_URL",
        help="where that collector's raw records are read back (kafka://, file://, ...)",
    )
    pipeline.add_argument(
        "--collector-bad-from", metavar="STREAM_URL", help="where its bad rows are read back"
    )
    pipeline.add_argument(
        "--enricher-command",
        metavar="COMMAND",
        help="enrich with this command (length-prefixed records in, TSV/bad-row lines out)",
    )
    run.add_argument("--report", type=Path, metavar="OUT.jsonl", help="write a JSON-lines report")
    run.add_argument("--junit", type=Path, metavar="OUT.xml", help="write a JUnit XML report")
    run.add_argument("-k", dest="keyword", metavar="FILTER", help="only cases whose group/id match")
    run.add_argument(
        "--cases", type=Path, metavar="DIR", help="the cases folder (default: built in)"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    run.add_argument(
        "--timeout", type=float, default=15.0, metavar="SECONDS", help="wait per driver reply"
    )
    run.set_defaults(handler=cmd_run)

    matrix = sub.add_parser("matrix", help="render the compliance matrix from reports")
    matrix.add_argument("reports", type=Path, nargs="+", metavar="REPORT")
    matrix.add_argument("--markdown", type=Path, metavar="OUT.md", help="default: stdout")
    matrix.add_argument("--html", type=Path, metavar="OUT.html")
    matrix.set_defaults(handler=cmd_matrix)

    check = sub.add_parser("check-cases", help="check the case corpus (schema, refs, capabilities)")
    check.add_argument("--tier", choices=TIERS, default="tracker")
    check.add_argument("--cases", type=Path, metavar="DIR")
    check.set_defaults(handler=cmd_check_cases)


def _progress(
    out: TextIO, verbose: bool, manifest: Manifest, timeout_s: float
) -> tuple[list[int], RunConfig]:
    """A run configuration that prints progress to ``out``; the list counts printed marks."""
    column = [0]

    def on_result(result: CaseResult) -> None:
        if verbose:
            line = f"{result.outcome.value.upper():8} {result.group}/{result.case}"
            out.write(line + (f"  {result.message}" if result.message else "") + "\n")
        else:
            out.write(SHORT[result.outcome])
            column[0] += 1
            if column[0] % 60 == 0:
                out.write("\n")
        out.flush()

    def on_start(hello: Hello) -> None:
        out.write(f"driver: {hello.name} {hello.version} ({hello.language}), "
                  f"{len(hello.capabilities)} capabilities\n")  # fmt: skip
        out.flush()

    config = RunConfig(
        manifest=manifest, reply_timeout_s=timeout_s, on_result=on_result, on_start=on_start
    )
    return column, config


def cmd_run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.tier == "pipeline":
        from plowline.conformance.harness.pipeline_cli import cmd_run_pipeline

        return cmd_run_pipeline(args, out)
    if args.tier == "e2e":
        print(
            "plowline conformance: the e2e tier needs Kafka, PostgreSQL and LocalStack; run it "
            "with `uv run pytest conformance/tests/integration/test_conformance_e2e.py` "
            "(services are provisioned by the plowline pytest plugin)",
            file=sys.stderr,
        )
        return 2
    if not (args.driver or args.manifest):
        print("plowline conformance: --driver or --manifest is required", file=sys.stderr)
        return 2
    try:
        manifest = (
            load_manifest(args.manifest) if args.manifest else manifest_from_command(args.driver)
        )
        cases = load_cases(args.tier, args.cases, args.keyword)
    except HarnessError as error:
        print(f"plowline conformance: {error}", file=sys.stderr)
        return 2
    if not cases:
        print("plowline conformance: no case matches", file=sys.stderr)
        return 2
    out.write(f"{len(cases)} {args.tier} case(s) against {manifest.name}\n")
    column, config = _progress(out, args.verbose, manifest, args.timeout)
    result = run_cases(cases, config)
    if column[0] % 60:
        out.write("\n")
    bad = [r for r in result.results if r.outcome.bad]
    for r in bad:
        out.write(f"{r.outcome.value.upper()} {r.group}/{r.case}: {r.message}\n")
        for detail in r.details[1:6]:
            out.write(f"    {detail}\n")
    if result.start_error:
        out.write(f"driver problem: {result.start_error}\n")
    if args.report:
        write_jsonl(args.report, result, manifest.name, args.tier)
    if args.junit:
        write_junit(args.junit, result, manifest.name, args.tier)
    out.write(f"{summary_line(result.counts())}\n")
    return 0 if result.ok else 1


def cmd_matrix(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        reports = [read_report(p) for p in args.reports]
    except HarnessError as error:
        print(f"plowline conformance: {error}", file=sys.stderr)
        return 2
    markdown = render_markdown(reports)
    if args.markdown:
        args.markdown.write_text(markdown, encoding="utf-8")
    else:
        out.write(markdown)
    if args.html:
        args.html.write_text(render_html(reports), encoding="utf-8")
    return 0


def cmd_check_cases(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    count, found = check_cases(args.tier, args.cases)
    for problem in found:
        out.write(problem + "\n")
    out.write(f"{count} {args.tier} case(s), {len(found)} problem(s)\n")
    return 1 if found else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plowline conformance",
        description="Prove a tracker correct: run the case corpus against its driver.",
    )
    _fill(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.handler(args)
    return status
