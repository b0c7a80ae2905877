"""Typed errors of plowline-spec: every bad input ends in one of these, never a crash.

Two families:

* ``SpecError`` subclasses are raised by the parsing and lookup APIs (Iglu URIs, SchemaVer,
  resolver configs, JSON documents, schema resolution, schema compilation).
* ``RegistryError`` values describe why one repository could not serve a schema; they are what a
  lookup history records, with the same names and JSON shape as the Iglu Scala client
  (``NotFound`` / ``RepoFailure`` / ``ClientFailure``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from plowline.spec.iglu import SchemaKey
    from plowline.spec.resolver import LookupHistory


class SpecError(Exception):
    """Base class of every error plowline-spec raises on purpose."""


# --- Iglu identifiers -------------------------------------------------------------------------


class InvalidIgluUriError(SpecError, ValueError):
    """A string is not an Iglu schema URI (``iglu:vendor/name/format/M-R-A``)."""

    def __init__(self, uri: object, reason: str) -> None:
        self.uri = uri
        self.reason = reason
        super().__init__(f"invalid Iglu URI {_excerpt(uri)}: {reason}")


class InvalidSchemaVerError(SpecError, ValueError):
    """A string is not a SchemaVer (``MODEL-REVISION-ADDITION``)."""

    def __init__(self, version: object, reason: str) -> None:
        self.version = version
        self.reason = reason
        super().__init__(f"invalid SchemaVer {_excerpt(version)}: {reason}")


class InvalidSchemaCriterionError(SpecError, ValueError):
    """A string is not an Iglu schema criterion (``iglu:vendor/name/format/1-*-*``)."""

    def __init__(self, criterion: object, reason: str) -> None:
        self.criterion = criterion
        self.reason = reason
        super().__init__(f"invalid schema criterion {_excerpt(criterion)}: {reason}")


# --- Documents --------------------------------------------------------------------------------


class NotJsonError(SpecError, ValueError):
    """Bytes or text that cannot be read as one JSON document within the configured limits."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class DocumentTooLargeError(NotJsonError):
    """A document (or a decoded field inside one) is larger than the configured maximum."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"document is {size} bytes, more than the maximum of {limit} bytes")


class DepthLimitExceededError(NotJsonError):
    """A document nests arrays/objects deeper than the configured maximum (Snowplow: 40)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"JSON nesting is deeper than the maximum depth of {limit}")


class NotSelfDescribingError(SpecError, ValueError):
    """JSON that is not ``{"schema": "iglu:...", "data": ...}`` (Snowplow's NotIglu)."""

    def __init__(self, reason: str, *, code: str = "INVALID_DATA_PAYLOAD") -> None:
        self.reason = reason
        # iglu-core ParseError codes: INVALID_DATA_PAYLOAD, INVALID_IGLUURI, INVALID_SCHEMAVER
        self.code = code
        super().__init__(reason)


# --- Resolution and schemas ---------------------------------------------------------------------


class ResolverConfigError(SpecError, ValueError):
    """A resolver configuration (Iglu ``resolver-config`` SDJ) is malformed."""


class ResolutionError(SpecError, LookupError):
    """No repository could serve a schema; ``lookup_history`` says what each one answered."""

    def __init__(self, key: SchemaKey, lookup_history: dict[str, LookupHistory]) -> None:
        self.key = key
        self.lookup_history = lookup_history
        parts = [
            f"{repo}: {', '.join(e.describe() for e in h.errors)} after {h.attempts} attempt(s)"
            for repo, h in lookup_history.items()
        ]
        detail = "; ".join(parts) if parts else "no repository configured"
        super().__init__(f"schema {key.uri} cannot be resolved ({detail})")

    @property
    def is_not_found(self) -> bool:
        """True when every repository answered NotFound (Iglu caches those up to the TTL)."""
        return all(
            isinstance(e, SchemaNotFoundError)
            for h in self.lookup_history.values()
            for e in h.errors
        )


class InvalidSchemaError(SpecError):
    """A resolved schema cannot be used to validate (bad keyword values, unresolvable $ref...).

    Rendered like Iglu's ``ValidationError`` with ``schemaIssues``.
    """

    def __init__(self, key: SchemaKey | None, issues: list[tuple[str, str]]) -> None:
        self.key = key
        self.issues = issues  # (JSON path inside the schema, message)
        where = key.uri if key is not None else "schema"
        detail = "; ".join(f"{path}: {message}" for path, message in issues)
        super().__init__(f"{where} is not a usable schema: {detail}")


class SchemaRefCycleError(InvalidSchemaError):
    """``$ref`` / ``allOf`` / ``anyOf`` / ``oneOf`` / ``not`` loop back on the same instance."""


# --- Repository answers (lookup history entries) ----------------------------------------------


class RegistryError(SpecError):
    """Why one repository could not serve a schema (an entry of a lookup history)."""

    kind: ClassVar[str] = "RegistryError"

    def __init__(self, message: str = "") -> None:
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind

    def to_json(self) -> dict[str, Any]:
        """The Iglu client's JSON form: ``{"error": "NotFound"}`` or with a ``message``."""
        out: dict[str, Any] = {"error": self.kind}
        if self.message:
            out["message"] = self.message
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.message == self.message

    def __hash__(self) -> int:
        return hash((self.kind, self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class SchemaNotFoundError(RegistryError):
    """The repository certainly does not have the schema (HTTP 404, missing file)."""

    kind = "NotFound"

    def to_json(self) -> dict[str, Any]:
        return {"error": self.kind}


class RepoFailureError(RegistryError):
    """The repository failed: 5xx, timeout, refused connection, garbage or mismatching schema."""

    kind = "RepoFailure"


class ClientFailureError(RegistryError):
    """Our side cannot ask the repository at all (unusable key or configuration)."""

    kind = "ClientFailure"


def _excerpt(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
