"""Self-describing JSON checks shared by adapters and the pipeline (spec/protocol, badrows).

The Iglu resolver itself lives in plowline-spec; enrich sees it through the small
``SchemaValidator`` protocol so the pure pipeline can be driven by any implementation.
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.raw import criterion_mismatch, iglu_error, not_iglu, not_json

_URI: Final = re.compile(
    r"iglu:([a-zA-Z0-9_.-]+)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/"
    r"([1-9][0-9]*(?:-(?:0|[1-9][0-9]*)){2})"
)
_LOOSE_VERSION: Final = re.compile(r".*/[0-9]+-[0-9]+-[0-9]+")


class SchemaValidator(Protocol):
    """Resolves a schema and validates data against it."""

    def check(self, schema_uri: str, data: Any) -> dict[str, Any] | None:
        """None when valid; else Iglu's client error JSON (ValidationError / ResolutionError)."""
        ...


class Criterion:
    """``iglu:vendor/name/format/M-*-*`` style criterion (model fixed, rest may be ``*``)."""

    __slots__ = ("_seen", "prefix", "text", "version")

    def __init__(self, text: str) -> None:
        self.text = text
        head, _, version = text.rpartition("/")
        self.prefix = head + "/"
        self.version = version.split("-")
        self._seen: dict[str, bool] = {}

    def matches(self, uri: str) -> bool:
        seen = self._seen.get(uri)
        if seen is None:
            seen = self._matches(uri)
            if len(self._seen) < 4096:
                self._seen[uri] = seen
        return seen

    def _matches(self, uri: str) -> bool:
        if not uri.startswith(self.prefix):
            return False
        parts = uri[len(self.prefix) :].split("-")
        return len(parts) == 3 and all(
            want in ("*", got) for want, got in zip(self.version, parts, strict=True)
        )


def parse_iglu_uri(uri: Any) -> tuple[str, str, str, str] | None:
    if not isinstance(uri, str):
        return None
    match = _URI.fullmatch(uri)
    return None if match is None else (match[1], match[2], match[3], match[4])


def sdj_error(value: Any) -> str | None:
    """The iglu-core ParseError code when ``value`` is not a self-describing JSON, else None."""
    if not isinstance(value, dict) or "schema" not in value or "data" not in value:
        return "INVALID_DATA_PAYLOAD"
    schema = value["schema"]
    if not isinstance(schema, str):
        return "INVALID_IGLUURI"
    if parse_iglu_uri(schema) is None:
        if (
            schema.startswith("iglu:")
            and schema.count("/") == 3
            and not _LOOSE_VERSION.fullmatch(schema)
        ):
            return "INVALID_SCHEMAVER"
        return "INVALID_IGLUURI"
    return None


def parse_sdj_text(
    field: str, text: str, max_depth: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Parse JSON text that must be an SDJ: (sdj, None) or (None, NotJson/NotIglu message)."""
    try:
        value = parse_json(text, max_depth)
    except JsonError as exc:
        return None, not_json(field, text, str(exc))
    code = sdj_error(value)
    if code is not None:
        return None, not_iglu(value, code)
    assert isinstance(value, dict)
    return value, None


def check_sdj(
    validator: SchemaValidator, value: dict[str, Any], criterion: Criterion | None = None
) -> dict[str, Any] | None:
    """Criterion match then schema validation; returns the failure message or None."""
    schema = value["schema"]
    if criterion is not None and not criterion.matches(schema):
        return criterion_mismatch(schema, criterion.text)
    error = validator.check(schema, value["data"])
    return None if error is None else iglu_error(schema, error)
