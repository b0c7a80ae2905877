"""Local schema folders for `--schemas`: checked file by file, staged, reloaded on change.

The resolver reads a *staging* copy that holds only the schema files that passed the checks,
so one broken file is reported and skipped while every other schema keeps working. Changes
are found by polling file sizes and mtimes (no extra dependency, works on every filesystem).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from plowline.spec.compiler import compile_schema
from plowline.spec.errors import InvalidSchemaError, SpecError
from plowline.spec.iglu import SchemaKey

Fingerprint = tuple[tuple[str, int, int], ...]
MAX_SCHEMA_BYTES = 1_048_576


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(slots=True)
class ScanResult:
    accepted: list[str] = field(default_factory=list)  # iglu URIs
    problems: list[SchemaProblem] = field(default_factory=list)


def fingerprint(roots: list[Path]) -> Fingerprint:
    """(path, size, mtime_ns) of every file under the roots: changes when any file does."""
    seen: list[tuple[str, int, int]] = []
    for root in roots:
        if not root.is_dir():
            seen.append((str(root), -1, -1))
            continue
        for path in sorted(root.rglob("*")):
            try:
                if path.is_file():
                    st = path.stat()
                    seen.append((str(path), st.st_size, st.st_mtime_ns))
            except OSError:
                continue
    return tuple(seen)


def check_schema_file(root: Path, path: Path) -> tuple[SchemaKey, bytes] | SchemaProblem:
    """A schema file is usable when its place names it and its body is a valid JSON Schema."""
    shown = str(path)
    parts = path.relative_to(root).parts
    if len(parts) != 4:
        return SchemaProblem(shown, "not at <vendor>/<name>/<format>/<version> below the folder")
    uri = "iglu:" + "/".join(parts)
    try:
        key = SchemaKey.parse(uri)
    except SpecError as exc:
        return SchemaProblem(shown, f"path does not name a schema: {exc}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return SchemaProblem(shown, f"cannot read: {exc.strerror or exc}")
    if len(raw) > MAX_SCHEMA_BYTES:
        return SchemaProblem(shown, f"larger than {MAX_SCHEMA_BYTES} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return SchemaProblem(shown, f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return SchemaProblem(shown, "a schema must be a JSON object")
    self_desc = doc.get("self")
    if isinstance(self_desc, dict):
        named = (
            self_desc.get("vendor"),
            self_desc.get("name"),
            self_desc.get("format"),
            self_desc.get("version"),
        )
        if named != tuple(parts):
            return SchemaProblem(
                shown, f"its `self` names {'/'.join(map(str, named))}, its path {'/'.join(parts)}"
            )
    try:
        compile_schema(key, doc)
    except InvalidSchemaError as exc:
        return SchemaProblem(shown, f"not a valid JSON Schema: {exc}")
    except Exception as exc:  # the compiler must not take the pipeline down
        return SchemaProblem(shown, f"cannot compile: {type(exc).__name__}: {exc}")
    return key, raw


class SchemaStaging:
    """Builds a fresh staging folder of the good files of ``roots`` on each ``rebuild``."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self._base = Path(tempfile.mkdtemp(prefix="plowline-up-schemas-"))
        self._generation = 0
        self.current: Path | None = None
        self.last = ScanResult()

    def rebuild(self) -> tuple[Path, ScanResult]:
        self._generation += 1
        target = self._base / f"gen-{self._generation}"
        target.mkdir()
        result = ScanResult()
        for root in self.roots:
            if not root.is_dir():
                result.problems.append(SchemaProblem(str(root), "not a folder"))
                continue
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in path.relative_to(root).parts):
                    continue  # editor swap files, .git
                checked = check_schema_file(root, path)
                if isinstance(checked, SchemaProblem):
                    result.problems.append(checked)
                    continue
                key, raw = checked
                dest = target / key.vendor / key.name / key.format / str(key.version)
                if dest.exists():
                    result.problems.append(
                        SchemaProblem(str(path), f"{key.uri} is already given by an earlier folder")
                    )
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(raw)
                result.accepted.append(key.uri)
        previous = self.current
        self.current = target
        self.last = result
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        return target, result

    def close(self) -> None:
        shutil.rmtree(self._base, ignore_errors=True)
