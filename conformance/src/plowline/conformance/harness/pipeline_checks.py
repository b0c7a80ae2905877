"""``plowline conformance check-cases --tier pipeline``: the pipeline corpus is sane.

Beyond ``pipeline/case.schema.json``: ids are unique and equal the file stem, a case sits in the
folder of its group, a named vector exists, every ``covers`` reference resolves (``vectors#``
names an ``enrich-``/``bad-`` vector), every field an expectation names is an enriched field
(or, under ``raw``, a CollectorPayload field), every request the collector takes says which
status it expects, and every bad-row type named exists in the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path

from plowline.collector.payload import CollectorPayload
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.pipeline_cases import (
    PipelineCase,
    load_pipeline_case,
    pipeline_case_files,
    spec_vector_path,
)
from plowline.spec.data import data_path
from plowline.spec.tables import enriched_fields, parameters

BADROWS_VENDOR = "com.snowplowanalytics.snowplow.badrows"


def cover_problem(
    ref: str,
    names: Mapping[str, set[str]],
    vector_exists: Callable[[str], bool] = lambda target: spec_vector_path(target) is not None,
    vector_kind: str = "enrich/bad vector",
) -> str | None:
    """Why a case's `covers` reference does not resolve, or None. Shared by the tracker cases
    (whose `vectors#` are tracker vectors) and the pipeline cases (enrich/bad vectors)."""
    kind, _, target = ref.partition("#")
    if kind in names:
        return None if target in names[kind] else f"covers {ref!r}: no such {kind} entry"
    if kind == "schemas":
        parts = target.split("/")
        ok = (
            len(parts) == 3
            and data_path("schemas", parts[0], parts[1], "jsonschema", parts[2]).is_file()
        )
        return None if ok else f"covers {ref!r}: no such schema under spec/schemas"
    if kind == "badrows":
        ok = data_path("schemas", BADROWS_VENDOR, target).is_dir()
        return None if ok else f"covers {ref!r}: no such bad-row type"
    if kind == "vectors":
        return None if vector_exists(target) else f"covers {ref!r}: no such {vector_kind}"
    return f"covers {ref!r}: unknown reference kind"


def pipeline_case_problems(case: PipelineCase, names: Mapping[str, set[str]]) -> list[str]:
    out: list[str] = []
    if case.path.parent.name != case.group:
        out.append(f"group {case.group!r} but the file is in folder {case.path.parent.name!r}")
    out += [p for ref in case.covers if (p := cover_problem(ref, names)) is not None]
    expect = case.expect
    wanted = [*(expect.get("events") or ()), expect.get("every_event") or {}]
    unknown = sorted({n for w in wanted for n in w} - names["enriched"])
    out += [f"expect names unknown enriched field {n!r}" for n in unknown]
    raw_names = {f.name for f in fields(CollectorPayload)}
    unknown = sorted({n for w in expect.get("raw") or () for n in w} - raw_names)
    out += [f"expect.raw names unknown CollectorPayload field {n!r}" for n in unknown]
    for row in expect.get("bad_rows") or ():
        if not data_path("schemas", BADROWS_VENDOR, row["type"]).is_dir():
            out.append(f"expect.bad_rows names unknown bad-row type {row['type']!r}")
        schema = row.get("schema")
        if schema is not None and f"/{row['type']}/" not in schema:
            out.append(f"bad row schema {schema!r} is not of type {row['type']!r}")
    if case.layer == "pipeline":
        out += [
            f"request {n} must say expect_status"
            for n, r in enumerate(case.requests)
            if "expect_status" not in r
        ]
    return out


def check_pipeline_cases(tier: str, root: Path | None = None) -> tuple[int, list[str]]:
    """Number of case files read and every problem found (``path: message``)."""
    names: dict[str, set[str]] = {
        "parameters": {p.name for p in parameters()},
        "enriched": {f.name for f in enriched_fields()},
    }
    found: list[str] = []
    seen: dict[str, Path] = {}
    files = pipeline_case_files(tier, root)
    for path in files:
        try:
            case = load_pipeline_case(path)
        except FileProblemsError as error:
            found += [f"{path}: {p}" for p in error.problems]
            continue
        if case.id in seen:
            found.append(f"{path}: id {case.id!r} is also used by {seen[case.id]}")
        seen[case.id] = path
        found += [f"{path}: {p}" for p in pipeline_case_problems(case, names)]
    if not files:
        found.append(f"no cases under {(root or Path('cases')) / tier}")
    return len(files), found
