"""The pipeline tier's corpus: ``cases/pipeline/<group>/<id>.yaml`` per its ``case.schema.json``.

A case sends HTTP requests to a collector, enriches the raw records the collector wrote and
states what the enriched events and bad rows must show. A case may name an ``enrich-`` or
``bad-`` vector (``spec/vectors``): its request and expectations are used unless the case
gives its own, so the language-neutral vectors also run through a real collector.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml
from jsonschema import Draft202012Validator
from plowline.conformance.harness.cases import matches, read_case_document
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.paths import cases_root
from plowline.conformance.harness.schemas import problems
from plowline.spec.data import data_path

# Enriched fields that depend on the moment the collector received the request: a vector pins
# them for a replayed timestamp, a live collector stamps its own, so only their format is kept.
COLLECTOR_TIME_FIELDS: Final = frozenset({"collector_tstamp", "derived_tstamp"})


@dataclass(frozen=True, slots=True)
class PipelineCase:
    """One pipeline case, with any vector it names merged in."""

    id: str
    group: str
    description: str
    covers: tuple[str, ...]
    requires: frozenset[str]
    layer: str
    collector: Mapping[str, Any]
    requests: tuple[Mapping[str, Any], ...]
    expect: Mapping[str, Any]
    vector: str | None
    path: Path


@cache
def pipeline_validator() -> Draft202012Validator:
    schema = json.loads(
        (cases_root() / "pipeline" / "case.schema.json").read_text(encoding="utf-8")
    )
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def spec_vector_path(vector_id: str) -> Path | None:
    """The file of an ``enrich-``/``bad-`` vector, or None."""
    folder = "bad" if vector_id.startswith("bad-") else "enrich"
    path = data_path("vectors", folder, f"{vector_id}.yaml")
    return path if path.is_file() else None


@cache
def _vector(vector_id: str) -> dict[str, Any] | None:
    path = spec_vector_path(vector_id)
    if path is None:
        return None
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else None


def _vector_events(
    events: list[dict[str, Any]], request: Mapping[str, Any]
) -> list[dict[str, Any]]:
    # With a true timestamp (ttm) derived_tstamp is that, whatever the collector's clock says.
    sent = f"{request.get('query') or ''} {request.get('body') or ''}"
    has_ttm = "ttm=" in sent or '"ttm"' in sent
    out = []
    for event in events:
        fields = dict(event)
        for name in COLLECTOR_TIME_FIELDS & set(fields):
            if name == "derived_tstamp" and has_ttm:
                continue
            if fields[name] not in (None, ""):
                fields[name] = {"format": "timestamp"}
        out.append(fields)
    return out


def _from_vector(path: Path, vector_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(layer, request, expect) of a vector, in the case's own terms."""
    doc = _vector(vector_id)
    if doc is None:
        raise FileProblemsError(path, [f"vector {vector_id!r} is not in spec/vectors/enrich|bad"])
    request = {k: v for k, v in doc["request"].items() if v is not None}
    request.pop("collector_tstamp_ms", None)
    layer = str(doc.get("layer", "pipeline"))
    if layer == "pipeline":
        request["expect_status"] = 200
    expect: dict[str, Any]
    if doc["kind"] == "raw_request":
        expect = {"events": _vector_events(doc["expect"]["events"], doc["request"])}
    else:
        want = doc["expect"]
        row: dict[str, Any] = {"type": want["bad_row"], "from": "enrich"}
        if "schema" in want:
            row["schema"] = want["schema"]
        row["contains"] = list(want.get("message_contains") or [])
        expect = {"bad_rows": [row], "event_count": 0}
    return layer, request, expect


def _build(path: Path, doc: dict[str, Any]) -> PipelineCase:
    vector = doc.get("vector")
    layer = "pipeline"
    requests: list[Mapping[str, Any]] = []
    expect: dict[str, Any] = {}
    if vector is not None:
        layer, request, expect = _from_vector(path, vector)
        requests = [request]
    layer = str(doc.get("layer", layer))
    if "requests" in doc:
        requests = list(doc["requests"])
    expect.update(doc.get("expect") or {})
    requires = set(doc.get("requires") or ())
    if doc.get("collector"):
        requires.add("collector-config")
    if layer == "enrich":
        requires.add("enrich-layer")
    return PipelineCase(
        id=doc["id"],
        group=doc["group"],
        description=doc["description"],
        covers=tuple(doc["covers"]),
        requires=frozenset(requires),
        layer=layer,
        collector=copy.deepcopy(doc.get("collector") or {}),
        requests=tuple(requests),
        expect=expect,
        vector=vector,
        path=path,
    )


def load_pipeline_case(path: Path) -> PipelineCase:
    """Read, validate (schema, id equals the file stem) and build one case."""
    doc = read_case_document(path)
    found = problems(pipeline_validator(), doc)
    if not found and doc["id"] != path.stem:
        found.append(f"id {doc['id']!r} differs from the file name {path.stem!r}")
    if found:
        raise FileProblemsError(path, found)
    return _build(path, doc)


def pipeline_case_files(tier: str, root: Path | None = None) -> list[Path]:
    folder = (root or cases_root()) / tier
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def load_pipeline_cases(root: Path | None = None, keyword: str | None = None) -> list[PipelineCase]:
    """Every pipeline case, sorted by group then id; ``keyword`` as for ``-k``."""
    cases = [load_pipeline_case(p) for p in pipeline_case_files("pipeline", root)]
    if keyword:
        cases = [c for c in cases if matches(c, keyword)]
    return sorted(cases, key=lambda c: (c.group, c.id))
