"""Typed loader for the language-neutral test vectors under ``vectors/`` (see FORMAT.md).

Each vector is one YAML file in ``tracker/`` (kind ``tracker_call``), ``enrich/``
(``raw_request``) or ``bad/`` (``invalid_request``). :func:`load_vectors` validates every file
against ``vectors.schema.json`` and the file rules (id equals the file stem, kind matches the
folder) and returns frozen dataclasses; any violation raises :class:`VectorError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast

from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped, unused-ignore]
from plowline.spec.data import data_root
from plowline.spec.errors import SpecError
from plowline.spec.tables import SpecTableError, read_yaml

VectorKind = Literal["tracker_call", "raw_request", "invalid_request"]
Layer = Literal["pipeline", "enrich"]

VECTORS_DIR: Final = Path("vectors")
SCHEMA_FILE: Final = VECTORS_DIR / "vectors.schema.json"
# Folder of each kind, relative to vectors/.
KIND_DIRS: Final[dict[VectorKind, str]] = {
    "tracker_call": "tracker",
    "raw_request": "enrich",
    "invalid_request": "bad",
}


class VectorError(SpecError, ValueError):
    """A vector file (or the vector schema) is unreadable or breaks the vector format."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """An HTTP request as the collector receives it."""

    method: Literal["GET", "POST"]
    path: str
    query: str
    headers: Mapping[str, str]
    body: str | None
    ip: str
    collector_tstamp_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerConfig:
    namespace: str
    app_id: str
    platform: str
    encode_base64: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class WireExpectation:
    """What one wire event must carry: exact params, decoded JSON params, present, absent."""

    params: Mapping[str, str]
    decoded: Mapping[str, Any]
    present: tuple[str, ...]
    absent: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorBase:
    id: str
    description: str
    covers: tuple[str, ...]
    path: Path
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerCallVector(VectorBase):
    """A tracker call and the wire parameters it must produce (one entry per wire event)."""

    kind: Literal["tracker_call"] = "tracker_call"
    tracker: TrackerConfig
    subject: Mapping[str, Any]
    clock_ms: int
    event_ids: tuple[str, ...]
    method: Literal["GET", "POST"]
    event: Mapping[str, Any]
    expected: tuple[WireExpectation, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRequestVector(VectorBase):
    """An HTTP request and the enriched fields of each event it must give (subset match)."""

    kind: Literal["raw_request"] = "raw_request"
    layer: Layer
    request: Request
    expected_events: tuple[Mapping[str, str | None], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class InvalidRequestVector(VectorBase):
    """An HTTP request that must give a bad row of the named type."""

    kind: Literal["invalid_request"] = "invalid_request"
    layer: Layer
    request: Request
    bad_row: str
    schema: str
    message_contains: tuple[str, ...]


Vector = TrackerCallVector | RawRequestVector | InvalidRequestVector


def _root(root: Path | None) -> Path:
    return root if root is not None else data_root()


@cache
def compile_vector_schema(schema_text: str) -> Draft202012Validator:
    """Compile the vector schema text (cached by content, so copies of the spec share it)."""
    schema = json.loads(schema_text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def vector_validator(root: Path | None = None) -> Draft202012Validator:
    """The compiled ``vectors.schema.json``; :class:`VectorError` if missing or invalid."""
    path = _root(root) / SCHEMA_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise VectorError(path, [f"cannot read the vector schema: {reason}"]) from exc
    try:
        return compile_vector_schema(text)
    except ValueError as exc:
        raise VectorError(path, [f"cannot use the vector schema: {exc}"]) from exc
    except SchemaError as exc:
        raise VectorError(path, [f"not a valid JSON Schema: {exc.message}"]) from exc


def vector_files(root: Path | None = None, kind: VectorKind | None = None) -> list[Path]:
    """Every ``*.yaml`` vector file, sorted, of one kind or all."""
    base = _root(root) / VECTORS_DIR
    kinds = [kind] if kind is not None else list(KIND_DIRS)
    files: list[Path] = []
    for k in kinds:
        folder = base / KIND_DIRS[k]
        if folder.is_dir():
            files += sorted(p for p in folder.iterdir() if p.suffix == ".yaml" and p.is_file())
    return files


def document_problems(path: Path, doc: Any, validator: Draft202012Validator) -> list[str]:
    """Format problems of one parsed vector file: schema errors, id/stem and kind/folder rules."""
    problems = [
        f"{_json_path(err.absolute_path)}: {err.message}"
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]
    if isinstance(doc, dict):
        vid = doc.get("id")
        if isinstance(vid, str) and vid != path.stem:
            problems.append(f"id {vid!r} differs from the file name {path.stem!r}")
        kind = doc.get("kind")
        expected_dir = KIND_DIRS.get(kind) if isinstance(kind, str) else None  # type: ignore[call-overload]
        if expected_dir is not None and path.parent.name != expected_dir:
            problems.append(f"a {kind} vector belongs in vectors/{expected_dir}/")
    return problems


def _json_path(parts: Iterator[Any] | Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def load_vector(path: Path, root: Path | None = None) -> Vector:
    """Load and validate one vector file."""
    try:
        doc = read_yaml(path)
    except SpecTableError as exc:
        raise VectorError(path, [str(exc).removeprefix(f"{path}: ")]) from exc
    problems = document_problems(path, doc, vector_validator(root))
    if problems:
        raise VectorError(path, problems)
    return _build(path, cast("dict[str, Any]", doc))


def load_vectors(kind: VectorKind | None = None, root: Path | None = None) -> list[Vector]:
    """Every vector (of one kind, or all), validated, in folder then file-name order."""
    if kind is not None and kind not in KIND_DIRS:
        raise ValueError(f"unknown vector kind {kind!r}; choose from {', '.join(KIND_DIRS)}")
    vectors = [load_vector(path, root) for path in vector_files(root, kind)]
    seen: dict[str, Path] = {}
    for v in vectors:
        if v.id in seen:
            raise VectorError(v.path, [f"id {v.id!r} is also used by {seen[v.id]}"])
        seen[v.id] = v.path
    return vectors


def _build(path: Path, doc: dict[str, Any]) -> Vector:
    common: dict[str, Any] = {
        "id": doc["id"],
        "description": doc["description"],
        "covers": tuple(doc["covers"]),
        "path": path,
        "raw": doc,
    }
    kind = doc["kind"]
    if kind == "tracker_call":
        expect = doc["expect"]
        wire = expect.get("events", [expect])
        ids = doc["event_ids"] if "event_ids" in doc else [doc["event_id"]]
        return TrackerCallVector(
            **common,
            tracker=TrackerConfig(**doc["tracker"]),
            subject=doc.get("subject", {}),
            clock_ms=doc["clock_ms"],
            event_ids=tuple(ids),
            method=doc["method"],
            event=doc["event"],
            expected=tuple(
                WireExpectation(
                    params=w["params"],
                    decoded=w.get("decoded", {}),
                    present=tuple(w.get("present", ())),
                    absent=tuple(w.get("absent", ())),
                )
                for w in wire
            ),
        )
    request = Request(**doc["request"])
    layer = cast(Layer, doc.get("layer", "pipeline"))
    if kind == "raw_request":
        return RawRequestVector(
            **common,
            layer=layer,
            request=request,
            expected_events=tuple(doc["expect"]["events"]),
        )
    expect = doc["expect"]
    return InvalidRequestVector(
        **common,
        layer=layer,
        request=request,
        bad_row=expect["bad_row"],
        schema=expect["schema"],
        message_contains=tuple(expect["message_contains"]),
    )
