"""``plowline conformance check-cases``: the corpus is sane before any driver runs it.

Beyond the case schema: ids are unique and equal the file stem, a case lives in the folder of
its group, named vectors exist, every ``covers`` reference resolves, every capability named
exists and ``requires`` lists at least what the case's requests need, every parameter an
expectation names is a protocol parameter, and every event meant to be accepted is well-formed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from plowline.conformance.harness.cases import (
    Case,
    case_files,
    derived_requirements,
    load_case,
    vector_call,
)
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.matrix import capability_names
from plowline.conformance.harness.pipeline_checks import cover_problem
from plowline.conformance.harness.schemas import event_validator, problems, request_validator
from plowline.spec.data import data_path
from plowline.spec.tables import enriched_fields, parameters


def _cover_problem(ref: str, names: Mapping[str, set[str]]) -> str | None:
    return cover_problem(
        ref,
        names,
        lambda target: data_path("vectors", "tracker", f"{target}.yaml").is_file(),
        "tracker vector",
    )


def _named_params(expect: Mapping[str, Any]) -> Iterable[str]:
    wires = [
        *expect.get("events", ()),
        *([expect["every_event"]] if "every_event" in expect else []),
    ]
    for wire in wires:
        for key in ("params", "decoded", "formats", "max_length"):
            yield from wire.get(key) or {}
        for key in ("present", "absent"):
            yield from wire.get(key) or ()


def case_problems(case: Case, names: Mapping[str, set[str]]) -> list[str]:
    out: list[str] = []
    if case.path.parent.name != case.group:
        out.append(f"group {case.group!r} but the file is in folder {case.path.parent.name!r}")
    unknown = sorted(case.requires - names["capabilities"])
    out += [f"requires unknown capability {c!r}" for c in unknown]
    missing = sorted(derived_requirements(case) - case.requires)
    if missing:
        out.append(f"requires must also list {', '.join(missing)} (the case's requests need them)")
    out += [p for ref in case.covers if (p := _cover_problem(ref, names)) is not None]
    out += [
        f"expect names unknown parameter {n!r}"
        for n in sorted(set(_named_params(case.expect)) - names["parameters"])
    ]
    configure = {"cmd": "configure", "seq": 0, "endpoint": "http://127.0.0.1:1", **case.configure}
    out += [f"configure {p}" for p in problems(request_validator("configure"), configure)]
    for number, step in enumerate(case.steps):
        if "track" in step:
            request = {"cmd": "track", "seq": 0, **step["track"]}
            out += [f"step {number} {p}" for p in problems(request_validator("track"), request)]
        if step.get("expect_reply", "ok") != "ok":
            continue
        if "track_vector" in step:
            try:
                body = vector_call(step["track_vector"])
            except KeyError:
                out.append(f"step {number}: no vector {step['track_vector']!r}")
                continue
        elif "track" in step:
            body = step["track"]
        else:
            continue
        out += [f"step {number} event {p}" for p in problems(event_validator(), body["event"])]
    return out


def check_cases(tier: str = "tracker", root: Path | None = None) -> tuple[int, list[str]]:
    """Number of cases read and every problem found (``path: message``)."""
    if tier == "e2e":
        from plowline.conformance.harness.e2e import check_e2e_cases

        return check_e2e_cases(root)
    if tier != "tracker":
        from plowline.conformance.harness.pipeline_checks import check_pipeline_cases

        return check_pipeline_cases(tier, root)
    names: dict[str, set[str]] = {
        "parameters": {p.name for p in parameters()},
        "enriched": {f.name for f in enriched_fields()},
        "capabilities": {name for _, name in capability_names()},
    }
    found: list[str] = []
    seen: dict[str, Path] = {}
    files = case_files(tier, root)
    for path in files:
        try:
            case = load_case(path, tier)
        except FileProblemsError as error:
            found += [f"{path}: {p}" for p in error.problems]
            continue
        if case.id in seen:
            found.append(f"{path}: id {case.id!r} is also used by {seen[case.id]}")
        seen[case.id] = path
        found += [f"{path}: {p}" for p in case_problems(case, names)]
    if not files:
        found.append(f"no cases under {(root or Path('cases')) / tier}")
    return len(files), found
