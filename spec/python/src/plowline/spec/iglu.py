"""Iglu identifiers: SchemaVer, schema keys (``iglu:`` URIs), schema criteria, SDJ envelopes.

Rules (facts sheet §5.1-5.2):

* URI: ``iglu:<vendor>/<name>/<format>/<version>`` where vendor is ``[a-zA-Z0-9-_.]+``, name
  and format are ``[a-zA-Z0-9-_]+`` and version is a full SchemaVer with no leading zeros and a
  MODEL of at least 1.
* SchemaVer ``MODEL-REVISION-ADDITION`` is ordered like the tuple of its three numbers.
* A criterion ``iglu:vendor/name/format/1-*-*`` replaces any of the numbers by ``*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from plowline.spec.errors import (
    InvalidIgluUriError,
    InvalidSchemaCriterionError,
    InvalidSchemaVerError,
    NotSelfDescribingError,
)

# The full regex from the facts sheet (written with the hyphen last so it is plainly literal).
URI_REGEX = re.compile(
    r"iglu:([a-zA-Z0-9_.-]+)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/"
    r"([1-9][0-9]*(?:-(?:0|[1-9][0-9]*)){2})"
)
_SCHEMAVER = re.compile(r"([1-9][0-9]*)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)")
_LOOSE_SCHEMAVER = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)")
_CRITERION_VERSION = re.compile(r"([1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)")
_VENDOR = re.compile(r"[a-zA-Z0-9_.-]+")
_NAME = re.compile(r"[a-zA-Z0-9_-]+")

# Longer identifiers than this are refused before any regex runs: no real schema needs them.
MAX_URI_LENGTH = 1024


@dataclass(frozen=True, order=True, slots=True)
class SchemaVer:
    """A full SchemaVer ``MODEL-REVISION-ADDITION``; ordering is the tuple ordering."""

    model: int
    revision: int
    addition: int

    def __post_init__(self) -> None:
        for label, value, low in (
            ("MODEL", self.model, 1),
            ("REVISION", self.revision, 0),
            ("ADDITION", self.addition, 0),
        ):
            if type(value) is not int:
                raise InvalidSchemaVerError(value, f"{label} must be an int")
            if value < low:
                raise InvalidSchemaVerError(value, f"{label} must be >= {low}")

    @classmethod
    def parse(cls, text: object) -> SchemaVer:
        """Parse ``"1-0-2"``; raises InvalidSchemaVerError with the reason."""
        return _parse_schemaver(text) if isinstance(text, str) else _schemaver_error(text)

    def __str__(self) -> str:
        return f"{self.model}-{self.revision}-{self.addition}"

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.model, self.revision, self.addition)


@lru_cache(maxsize=1024)
def _parse_schemaver(text: str) -> SchemaVer:
    match = _SCHEMAVER.fullmatch(text) if len(text) <= MAX_URI_LENGTH else None
    if match is None:
        _schemaver_error(text)
    return SchemaVer(int(match[1]), int(match[2]), int(match[3]))  # type: ignore[index]


def _schemaver_error(text: object) -> SchemaVer:
    if not isinstance(text, str):
        raise InvalidSchemaVerError(text, "must be a string like 1-0-0")
    if len(text) > MAX_URI_LENGTH:
        raise InvalidSchemaVerError(text, f"longer than {MAX_URI_LENGTH} characters")
    loose = _LOOSE_SCHEMAVER.fullmatch(text)
    if loose is None:
        raise InvalidSchemaVerError(
            text, "expected MODEL-REVISION-ADDITION: three numbers joined by '-', e.g. 1-0-0"
        )
    if int(loose[1]) == 0:
        raise InvalidSchemaVerError(text, "MODEL starts at 1")
    raise InvalidSchemaVerError(text, "numbers must not have leading zeros")


@dataclass(frozen=True, order=True, slots=True)
class SchemaKey:
    """The identity of one schema: vendor, name, format and full version."""

    vendor: str
    name: str
    format: str
    version: SchemaVer
    # Keys are dict keys on every validation: hash once, not on each lookup.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for label, value, pattern in (
            ("vendor", self.vendor, _VENDOR),
            ("name", self.name, _NAME),
            ("format", self.format, _NAME),
        ):
            if not isinstance(value, str) or pattern.fullmatch(value) is None:
                raise InvalidIgluUriError(value, f"{label} {_allowed(label)}")
        if not isinstance(self.version, SchemaVer):
            raise InvalidIgluUriError(self.version, "version must be a SchemaVer")
        fields = (self.vendor, self.name, self.format, self.version.as_tuple())
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def parse(cls, uri: object) -> SchemaKey:
        """Parse ``iglu:vendor/name/format/M-R-A``; raises InvalidIgluUriError with the reason."""
        if not isinstance(uri, str):
            raise InvalidIgluUriError(uri, "must be a string")
        return _parse_key(uri)

    @classmethod
    def from_self(cls, self_block: object) -> SchemaKey:
        """Key of a schema from its ``self`` object (vendor, name, format, version)."""
        if not isinstance(self_block, dict):
            raise InvalidIgluUriError(self_block, "a schema's 'self' must be an object")
        parts = [self_block.get(k) for k in ("vendor", "name", "format", "version")]
        if not all(isinstance(p, str) for p in parts):
            raise InvalidIgluUriError(
                self_block, "'self' needs string vendor, name, format and version"
            )
        return cls.parse("iglu:{}/{}/{}/{}".format(*parts))

    @property
    def uri(self) -> str:
        return f"iglu:{self.vendor}/{self.name}/{self.format}/{self.version}"

    @property
    def path(self) -> str:
        """Registry path ``vendor/name/format/M-R-A`` (what follows ``/schemas/``)."""
        return f"{self.vendor}/{self.name}/{self.format}/{self.version}"

    def __str__(self) -> str:
        return self.uri


@lru_cache(maxsize=4096)
def _parse_key(uri: str) -> SchemaKey:
    if len(uri) > MAX_URI_LENGTH:
        raise InvalidIgluUriError(uri, f"longer than {MAX_URI_LENGTH} characters")
    match = URI_REGEX.fullmatch(uri)
    if match is not None:
        return SchemaKey(match[1], match[2], match[3], _parse_schemaver(match[4]))
    # Not valid: find the most useful reason.
    if not uri.startswith("iglu:"):
        raise InvalidIgluUriError(uri, "must start with 'iglu:'")
    parts = uri[len("iglu:") :].split("/")
    if len(parts) != 4:
        raise InvalidIgluUriError(
            uri, f"expected iglu:vendor/name/format/version (4 parts), found {len(parts)}"
        )
    for label, value, pattern in zip(
        ("vendor", "name", "format"), parts[:3], (_VENDOR, _NAME, _NAME), strict=True
    ):
        if pattern.fullmatch(value) is None:
            raise InvalidIgluUriError(uri, f"{label} {value!r} {_allowed(label)}")
    try:
        SchemaVer.parse(parts[3])
    except InvalidSchemaVerError as exc:
        raise InvalidIgluUriError(uri, f"version {exc.reason}") from None
    raise InvalidIgluUriError(uri, "does not match the Iglu URI format")  # pragma: no cover


def _allowed(label: str) -> str:
    extra = "'-', '_' and '.'" if label == "vendor" else "'-' and '_'"
    return f"must be non-empty and may only contain letters, digits, {extra}"


@dataclass(frozen=True, slots=True)
class SchemaCriterion:
    """``iglu:vendor/name/format/M-R-A`` where any number may be ``*`` (None here)."""

    vendor: str
    name: str
    format: str
    model: int | None
    revision: int | None = None
    addition: int | None = None

    @classmethod
    def parse(cls, text: object) -> SchemaCriterion:
        if not isinstance(text, str):
            raise InvalidSchemaCriterionError(text, "must be a string")
        if len(text) > MAX_URI_LENGTH:
            raise InvalidSchemaCriterionError(text, f"longer than {MAX_URI_LENGTH} characters")
        if not text.startswith("iglu:"):
            raise InvalidSchemaCriterionError(text, "must start with 'iglu:'")
        parts = text[len("iglu:") :].split("/")
        if len(parts) != 4:
            raise InvalidSchemaCriterionError(
                text, f"expected iglu:vendor/name/format/M-R-A (4 parts), found {len(parts)}"
            )
        for label, value, pattern in zip(
            ("vendor", "name", "format"), parts[:3], (_VENDOR, _NAME, _NAME), strict=True
        ):
            if pattern.fullmatch(value) is None:
                raise InvalidSchemaCriterionError(text, f"{label} {value!r} {_allowed(label)}")
        match = _CRITERION_VERSION.fullmatch(parts[3])
        if match is None:
            raise InvalidSchemaCriterionError(
                text,
                "version must be MODEL-REVISION-ADDITION where each number (MODEL >= 1, no "
                "leading zeros) may be '*', e.g. 1-*-*",
            )
        model, revision, addition = (None if g == "*" else int(g) for g in match.groups())
        return cls(parts[0], parts[1], parts[2], model, revision, addition)

    @classmethod
    def for_model(
        cls, vendor: str, name: str, model: int, fmt: str = "jsonschema"
    ) -> SchemaCriterion:
        """``iglu:vendor/name/format/<model>-*-*``."""
        return cls(vendor, name, fmt, model)

    def matches(self, key: SchemaKey) -> bool:
        """True when vendor, name and format are equal and every non-``*`` number is equal."""
        version = key.version
        return (
            key.vendor == self.vendor
            and key.name == self.name
            and key.format == self.format
            and (self.model is None or self.model == version.model)
            and (self.revision is None or self.revision == version.revision)
            and (self.addition is None or self.addition == version.addition)
        )

    @property
    def version_text(self) -> str:
        def show(n: int | None) -> str:
            return "*" if n is None else str(n)

        return f"{show(self.model)}-{show(self.revision)}-{show(self.addition)}"

    def __str__(self) -> str:
        return f"iglu:{self.vendor}/{self.name}/{self.format}/{self.version_text}"


@dataclass(frozen=True, slots=True)
class SelfDescribingData:
    """A decoded ``{"schema": "iglu:...", "data": ...}`` envelope."""

    key: SchemaKey
    data: Any

    @classmethod
    def parse(cls, document: object) -> SelfDescribingData:
        """Read an SDJ; raises NotSelfDescribingError (code INVALID_IGLUURI for a bad URI)."""
        return cls(*read_sdj(document))

    def to_json(self) -> dict[str, Any]:
        return {"schema": self.key.uri, "data": self.data}


def json_type(value: object) -> str:
    """JSON type name of a decoded value (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def read_sdj(document: object) -> tuple[SchemaKey, Any]:
    """``(key, data)`` of an SDJ; raises NotSelfDescribingError (INVALID_IGLUURI: bad URI)."""
    if type(document) is dict:
        uri = document.get("schema")
        if type(uri) is str and "data" in document:
            try:
                return _parse_key(uri), document["data"]
            except InvalidIgluUriError as exc:
                raise NotSelfDescribingError(str(exc), code="INVALID_IGLUURI") from None
    if not isinstance(document, dict):
        raise NotSelfDescribingError(
            f"a self-describing JSON must be an object, not {json_type(document)}"
        )
    if "schema" not in document:
        raise NotSelfDescribingError("a self-describing JSON needs a 'schema' property")
    if "data" not in document:
        raise NotSelfDescribingError("a self-describing JSON needs a 'data' property")
    try:
        return SchemaKey.parse(document["schema"]), document["data"]
    except InvalidIgluUriError as exc:
        raise NotSelfDescribingError(str(exc), code="INVALID_IGLUURI") from None
