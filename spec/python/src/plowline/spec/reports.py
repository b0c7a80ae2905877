"""What validation found, and how it renders: human lines, JSON, and Snowplow bad-row messages.

Each failure has a ``location``: the JSON path, in the document that was submitted, of the
value that failed. Paths go through decoded fields, so the second entity of item 0's ``cx`` is
``$.data[0].cx.data[1]``. A ``DataReport`` carries both the full path (``path``) and Iglu's path
inside the validated ``data`` (``data_path``), which is what bad rows show.

Bad-row message shapes follow the ``schema_violations`` failure messages (snowplow-badrows):
NotJSON ``{field, value, error}``, NotIglu ``{json, error}``, CriterionMismatch
``{schemaKey, schemaCriterion}`` and IgluError ``{schemaKey, error}`` where ``error`` is the Iglu
client's ``ValidationError`` (``dataReports`` or ``schemaIssues``) or ``ResolutionError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from plowline.spec.errors import ResolutionError
from plowline.spec.iglu import SchemaCriterion, SchemaKey
from plowline.spec.resolver import resolution_error_json

EXCERPT_CHARS = 1024  # raw values quoted in failures are cut to this length


def excerpt(value: str, limit: int = EXCERPT_CHARS) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


@dataclass(frozen=True, slots=True)
class DataReport:
    """One way an instance breaks its schema."""

    path: str  # full path in the submitted document, e.g. "$.data[0].cx.data[1].data.name"
    data_path: str  # Iglu's path inside the validated data, e.g. "$.name"
    keyword: str  # the failing JSON Schema keyword: required, type, additionalProperties...
    message: str  # e.g. '"e" is a required property'
    targets: tuple[str, ...]  # e.g. the missing or unexpected property names

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "dataPath": self.data_path,
            "keyword": self.keyword,
            "message": self.message,
            "targets": list(self.targets),
        }

    def to_iglu_json(self) -> dict[str, Any]:
        """An item of an Iglu ``dataReports`` array."""
        return {
            "message": f"{self.data_path}: {self.message}",
            "path": self.data_path,
            "keyword": self.keyword,
            "targets": list(self.targets),
        }


@dataclass(frozen=True, slots=True)
class Failure:
    """Base of every failure kind; ``location`` is where in the document it happened."""

    location: str

    kind: ClassVar[str] = "Failure"

    def lines(self) -> list[str]:
        """Human-readable lines (the CLI prints them indented)."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """Machine-readable form (the CLI's ``--json``), with the bad-row message inside."""
        return {
            "kind": self.kind,
            "location": self.location,
            "badRowMessage": self.badrow_message(),
        }

    def badrow_message(self) -> dict[str, Any]:
        """This failure as a ``schema_violations`` bad-row message."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class NotJsonFailure(Failure):
    """A document or a JSON-carrying field (cx, co, ue_px, ue_pr) that is not usable JSON."""

    field: str | None
    value: str | None
    error: str

    kind: ClassVar[str] = "NotJSON"

    def lines(self) -> list[str]:
        return [f"{self.location}: not JSON: {self.error}"]

    def badrow_message(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "error": self.error}


@dataclass(frozen=True, slots=True)
class NotIgluFailure(Failure):
    """JSON that is not a self-describing ``{"schema": "iglu:...", "data": ...}``."""

    json: Any
    error: str
    code: str  # iglu-core ParseError code, e.g. INVALID_IGLUURI

    kind: ClassVar[str] = "NotIglu"

    def lines(self) -> list[str]:
        return [f"{self.location}: not self-describing JSON: {self.error}"]

    def badrow_message(self) -> dict[str, Any]:
        return {"json": self.json, "error": self.code}

    def to_json(self) -> dict[str, Any]:
        out = Failure.to_json(self)
        out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class CriterionMismatchFailure(Failure):
    """An SDJ whose schema is not the kind expected here (e.g. ``cx`` not holding contexts)."""

    schema_key: SchemaKey
    criterion: SchemaCriterion

    kind: ClassVar[str] = "CriterionMismatch"

    def lines(self) -> list[str]:
        return [
            f"{self.location}: schema {self.schema_key.uri} does not match the expected "
            f"{self.criterion}"
        ]

    def badrow_message(self) -> dict[str, Any]:
        return {"schemaKey": self.schema_key.uri, "schemaCriterion": str(self.criterion)}


@dataclass(frozen=True, slots=True)
class ResolutionFailure(Failure):
    """The schema named by an SDJ could not be found or fetched."""

    schema_key: SchemaKey
    error: ResolutionError

    kind: ClassVar[str] = "ResolutionError"

    def lines(self) -> list[str]:
        out = [f"{self.location}: schema {self.schema_key.uri} cannot be resolved"]
        for repository, history in self.error.lookup_history.items():
            errors = ", ".join(e.describe() for e in history.errors)
            out.append(f"  {repository}: {errors} ({history.attempts} attempt(s))")
        if not self.error.lookup_history:
            out.append("  no repository is configured")
        return out

    def iglu_error(self) -> dict[str, Any]:
        return resolution_error_json(self.error)

    def badrow_message(self) -> dict[str, Any]:
        return {"schemaKey": self.schema_key.uri, "error": self.iglu_error()}


@dataclass(frozen=True, slots=True)
class InvalidSchemaFailure(Failure):
    """The schema was found but cannot validate anything (bad keywords, $ref loop...)."""

    schema_key: SchemaKey
    issues: tuple[tuple[str, str], ...]

    kind: ClassVar[str] = "InvalidSchema"

    def lines(self) -> list[str]:
        out = [f"{self.location}: schema {self.schema_key.uri} is not usable"]
        out += [f"  schema {path}: {message}" for path, message in self.issues]
        return out

    def iglu_error(self) -> dict[str, Any]:
        return {
            "error": "ValidationError",
            "schemaIssues": [{"path": p, "message": m} for p, m in self.issues],
        }

    def badrow_message(self) -> dict[str, Any]:
        return {"schemaKey": self.schema_key.uri, "error": self.iglu_error()}


@dataclass(frozen=True, slots=True)
class ValidationFailure(Failure):
    """Data that does not satisfy its schema."""

    schema_key: SchemaKey
    reports: tuple[DataReport, ...]

    kind: ClassVar[str] = "ValidationError"

    def lines(self) -> list[str]:
        out = [f"{self.location}: data does not match {self.schema_key.uri}"]
        out += [f"  {r.path}: {r.message} [{r.keyword}]" for r in self.reports]
        return out

    def iglu_error(self) -> dict[str, Any]:
        return {"error": "ValidationError", "dataReports": [r.to_iglu_json() for r in self.reports]}

    def badrow_message(self) -> dict[str, Any]:
        return {"schemaKey": self.schema_key.uri, "error": self.iglu_error()}

    def to_json(self) -> dict[str, Any]:
        out = Failure.to_json(self)
        out["schemaKey"] = self.schema_key.uri
        out["reports"] = [r.to_json() for r in self.reports]
        return out


def iglu_error_json(failure: Failure) -> dict[str, Any] | None:
    """The Iglu client error object (``ValidationError`` / ``ResolutionError``) of a failure,
    or None for failures that happen before Iglu is asked (NotJSON, NotIglu, mismatch)."""
    if isinstance(failure, ValidationFailure | InvalidSchemaFailure | ResolutionFailure):
        return failure.iglu_error()
    return None


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one document."""

    failures: tuple[Failure, ...]
    schema_key: SchemaKey | None  # the top-level SDJ's schema, when it had a valid one
    checked: int  # how many self-describing documents were validated against a schema

    @property
    def valid(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        out: list[str] = []
        for failure in self.failures:
            out.extend(failure.lines())
        return out

    def badrow_messages(self) -> list[dict[str, Any]]:
        """The ``failure.messages`` of a ``schema_violations`` bad row for this document."""
        return [f.badrow_message() for f in self.failures]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "schema": self.schema_key.uri if self.schema_key is not None else None,
            "checked": self.checked,
            "failures": [f.to_json() for f in self.failures],
        }

    def __str__(self) -> str:
        if self.valid:
            return f"valid ({self.checked} self-describing document(s) checked)"
        return "\n".join(self.lines())


def dumps(value: Any) -> str:
    """Compact JSON, as bad rows are written."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
