"""Run reports: JSON lines (the record the matrix is generated from) and JUnit XML (for CI).

A JSON-lines report is one ``run`` record (who was tested, with which capabilities), one
``case`` record per case, and one ``summary`` record. Several reports (one per tracker) feed
one compliance matrix.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plowline.conformance import __version__
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.outcomes import CaseResult, Outcome
from plowline.conformance.harness.runner import RunResult


@dataclass(frozen=True, slots=True)
class Report:
    """One tracker's run, as read back from a JSON-lines report."""

    implementation: dict[str, Any]
    capabilities: frozenset[str]
    results: tuple[CaseResult, ...]
    tier: str = "tracker"

    @property
    def label(self) -> str:
        impl = self.implementation
        return f"{impl.get('name', '?')} {impl.get('version', '')}".strip()


def run_record(run: RunResult, manifest_name: str, tier: str) -> dict[str, Any]:
    hello = run.hello
    implementation: dict[str, Any] = {"name": manifest_name}
    if hello is not None:
        implementation = {"name": hello.name, "version": hello.version, "language": hello.language}
        if hello.tracker_version is not None:
            implementation["tracker_version"] = hello.tracker_version
    return {
        "type": "run",
        "tier": tier,
        "harness": f"plowline-conformance {__version__}",
        "manifest": manifest_name,
        "implementation": implementation,
        "capabilities": sorted(hello.capabilities) if hello else [],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "start_error": run.start_error,
    }


def write_jsonl(path: Path, run: RunResult, manifest_name: str, tier: str = "tracker") -> None:
    lines = [run_record(run, manifest_name, tier)]
    lines += [r.to_json() for r in run.results]
    lines.append({"type": "summary", "counts": run.counts(), "ok": run.ok})
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")


def write_junit(path: Path, run: RunResult, manifest_name: str, tier: str = "tracker") -> None:
    counts = run.counts()
    suite = ET.Element(
        "testsuite",
        name=f"plowline-conformance.{tier}.{manifest_name}",
        tests=str(len(run.results)),
        failures=str(counts["failed"] + counts["xpassed"]),
        errors=str(counts["errored"]),
        skipped=str(counts["skipped"] + counts["xfailed"]),
        time=f"{sum(r.duration_ms for r in run.results) / 1000:.3f}",
    )
    for r in run.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"{tier}.{r.group}", name=r.case,
            time=f"{r.duration_ms / 1000:.3f}",
        )  # fmt: skip
        text = "\n".join(r.details) or r.message
        if r.outcome in (Outcome.FAILED, Outcome.XPASSED):
            ET.SubElement(case, "failure", message=r.message).text = text
        elif r.outcome is Outcome.ERRORED:
            ET.SubElement(case, "error", message=r.message).text = text
        elif r.outcome in (Outcome.SKIPPED, Outcome.XFAILED):
            ET.SubElement(case, "skipped", message=f"{r.outcome.value}: {r.message}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


def _case(record: dict[str, Any]) -> CaseResult:
    return CaseResult(
        case=str(record["case"]),
        group=str(record["group"]),
        outcome=Outcome(record["outcome"]),
        message=str(record.get("message", "")),
        requires=tuple(record.get("requires") or ()),
        covers=tuple(record.get("covers") or ()),
        duration_ms=int(record.get("duration_ms", 0)),
        details=list(record.get("details") or ()),
    )


def read_report(path: Path) -> Report:
    """Read a JSON-lines report; :class:`FileProblemsError` if it is not one."""
    run: dict[str, Any] | None = None
    results: list[CaseResult] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise FileProblemsError(path, [f"cannot read: {error}"]) from error
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if record["type"] == "run":
                run = record
            elif record["type"] == "case":
                results.append(_case(record))
        except (ValueError, KeyError, TypeError) as error:
            raise FileProblemsError(
                path, [f"line {number}: not a report record: {error}"]
            ) from error
    if run is None:
        raise FileProblemsError(path, ["no run record"])
    return Report(
        implementation=dict(run.get("implementation") or {}),
        capabilities=frozenset(run.get("capabilities") or ()),
        results=tuple(results),
        tier=str(run.get("tier", "tracker")),
    )


def summary_line(counts: dict[str, int]) -> str:
    order: Sequence[str] = [o.value for o in Outcome]
    return ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))


def outcomes_of(results: Iterable[CaseResult]) -> dict[str, int]:
    out = {o.value: 0 for o in Outcome}
    for r in results:
        out[r.outcome.value] += 1
    return out
