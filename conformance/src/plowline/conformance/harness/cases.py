"""The case corpus: YAML files under ``cases/tracker/``, validated by ``cases/case.schema.json``.

A case configures a tracker, optionally scripts the collector, runs steps (track, flush, wait,
checks of the request count so far) and states what the wire must show. A case may name a
test vector (``spec/vectors/tracker``): the vector's tracker settings, subject, clock, method,
event, ids and expected parameters are used unless the case overrides them, so one vector
serves several cases (say, the same call over GET and POST).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Protocol

import yaml
from plowline.conformance.harness.errors import FileProblemsError
from plowline.conformance.harness.paths import cases_root
from plowline.conformance.harness.schemas import case_validator, problems
from plowline.spec.data import data_path

TIERS: Final = ("tracker", "pipeline", "e2e")
DEFAULT_FLUSH_MS: Final = 10_000
VECTOR_CONFIG_KEYS: Final = ("tracker", "subject", "clock_ms", "method")


@dataclass(frozen=True, slots=True)
class Case:
    """One case, with any vector it names already merged in."""

    id: str
    tier: str
    group: str
    description: str
    covers: tuple[str, ...]
    requires: frozenset[str]
    configure: Mapping[str, Any]
    collector: tuple[Mapping[str, Any], ...]
    steps: tuple[Mapping[str, Any], ...]
    expect: Mapping[str, Any]
    vector: str | None
    path: Path


@cache
def _vector_doc(vector_id: str) -> dict[str, Any] | None:
    path = data_path("vectors", "tracker", f"{vector_id}.yaml")
    if not path.is_file():
        return None
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, dict) else None


def vector_call(vector_id: str) -> dict[str, Any]:
    """A vector's track request body: event, its id(s), no clock (configure sets it)."""
    doc = _vector_doc(vector_id)
    if doc is None:
        raise KeyError(vector_id)
    call: dict[str, Any] = {"event": copy.deepcopy(doc["event"])}
    for key in ("event_id", "event_ids"):
        if key in doc:
            call[key] = copy.deepcopy(doc[key])
    return call


def vector_expectations(vector_id: str) -> list[dict[str, Any]]:
    """A vector's expected wire events, one dict per event, in order."""
    doc = _vector_doc(vector_id)
    if doc is None:
        raise KeyError(vector_id)
    expect = doc["expect"]
    return copy.deepcopy(list(expect["events"]) if "events" in expect else [expect])


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``; mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _build(path: Path, doc: dict[str, Any], tier: str) -> Case:
    vector = doc.get("vector")
    configure: dict[str, Any] = {}
    steps: list[Mapping[str, Any]] = list(doc.get("steps") or [])
    expect: dict[str, Any] = dict(doc.get("expect") or {})
    if vector is not None:
        vdoc = _vector_doc(vector)
        if vdoc is None:
            raise FileProblemsError(path, [f"vector {vector!r} is not in spec/vectors/tracker/"])
        configure = {k: copy.deepcopy(vdoc[k]) for k in VECTOR_CONFIG_KEYS if k in vdoc}
        if not steps:
            steps = [{"track_vector": vector}, {"flush": {}}]
        if "events" not in expect:
            expect["events"] = vector_expectations(vector)
    missing = [
        s["track_vector"]
        for s in steps
        if "track_vector" in s and _vector_doc(s["track_vector"]) is None
    ]
    if missing:
        raise FileProblemsError(
            path, [f"vector {v!r} is not in spec/vectors/tracker/" for v in missing]
        )
    configure = _merge(configure, doc.get("configure") or {})
    return Case(
        id=doc["id"],
        tier=tier,
        group=doc["group"],
        description=doc["description"],
        covers=tuple(doc.get("covers") or ()),
        requires=frozenset(doc["requires"]),
        configure=configure,
        collector=tuple(doc.get("collector") or ()),
        steps=tuple(steps),
        expect=expect,
        vector=vector,
        path=path,
    )


def read_case_document(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise FileProblemsError(path, [f"cannot read: {error}"]) from error


def load_case(path: Path, tier: str = "tracker") -> Case:
    """Read, validate (schema, id equals the file stem) and build one case."""
    doc = read_case_document(path)
    found = problems(case_validator(), doc)
    if not found and doc["id"] != path.stem:
        found.append(f"id {doc['id']!r} differs from the file name {path.stem!r}")
    if found:
        raise FileProblemsError(path, found)
    return _build(path, doc, tier)


def case_files(tier: str = "tracker", root: Path | None = None) -> list[Path]:
    folder = (root or cases_root()) / tier
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file())


def load_cases(
    tier: str = "tracker", root: Path | None = None, keyword: str | None = None
) -> list[Case]:
    """Every case of a tier, sorted by group then id; ``keyword`` keeps ids/groups containing it."""
    cases = [load_case(p, tier) for p in case_files(tier, root)]
    if keyword:
        cases = [c for c in cases if matches(c, keyword)]
    return sorted(cases, key=lambda c: (c.group, c.id))


class Named(Protocol):
    """Anything with an id and a group (a case of any tier)."""

    @property
    def id(self) -> str: ...

    @property
    def group(self) -> str: ...


def matches(case: Named, keyword: str) -> bool:
    """``-k``: every space-separated word must be in the id or group; ``not word`` excludes."""
    text = f"{case.group}/{case.id}"
    words = keyword.split()
    i = 0
    while i < len(words):
        if words[i] == "not" and i + 1 < len(words):
            if words[i + 1] in text:
                return False
            i += 2
            continue
        if words[i] not in text:
            return False
        i += 1
    return True


def track_bodies(case: Case) -> Iterable[Mapping[str, Any]]:
    """Every track request body a case sends (for capability derivation and checks)."""
    for step in case.steps:
        if "track" in step:
            yield step["track"]
        elif "track_vector" in step:
            yield vector_call(step["track_vector"])


def derived_requirements(case: Case) -> set[str]:
    """Capabilities a case needs by what it sends; its ``requires`` must include them all."""
    cfg = case.configure
    need = {"get" if cfg.get("method") == "GET" else "post"}
    if "clock_ms" in cfg:
        need.add("injected-clock")
    if "event_id_seed" in cfg:
        need.add("injected-event-id")
    if cfg.get("subject"):
        need.add("subject")
    batching = cfg.get("batching") or {}
    need |= {f"batching-{k}" for k in ("count", "bytes") if k in batching}
    if "retry" in cfg:
        need.add("retry")
        if cfg["retry"].get("honour_retry_after"):
            need.add("retry-after")
    for key, capability in (
        ("request_timeout_ms", "request-timeout"),
        ("persistence", "persistence"),
        ("paths", "custom-paths"),
    ):
        if key in cfg:
            need.add(capability)
    for body in track_bodies(case):
        event = body.get("event") or {}
        kind = str(event.get("type", ""))
        if kind == "screen_view" and event.get("variant") == "legacy":
            need.add("event-screen-view-legacy")
        elif kind:
            need.add("event-" + kind.replace("_", "-"))
        if event.get("contexts"):
            need.add("contexts")
        if "true_timestamp_ms" in event:
            need.add("true-timestamp")
        if "clock_ms" in body:
            need.add("injected-clock")
        if "event_id" in body or "event_ids" in body:
            need.add("injected-event-id")
        if body.get("subject"):
            need.add("subject-per-event")
    return need
