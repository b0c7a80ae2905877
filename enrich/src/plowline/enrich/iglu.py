"""The plowline-spec Iglu resolver and validator behind enrich's ``SchemaValidator`` protocol."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from plowline.spec.errors import InvalidIgluUriError, InvalidSchemaError, ResolutionError
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import DEFAULT_HTTP_TIMEOUT, EmbeddedRegistry
from plowline.spec.resolver import Resolver, resolution_error_json
from plowline.spec.validation import Validator


class IgluValidator:
    """Validates data against Iglu schemas; answers Iglu client error JSON on failure."""

    def __init__(self, validator: Validator | None = None) -> None:
        self.validator = validator if validator is not None else Validator()
        self._keys: dict[str, SchemaKey] = {}

    @classmethod
    def from_resolver_file(
        cls,
        path: str | Path | None,
        schema_dirs: list[Path] | None = None,
        http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    ) -> IgluValidator:
        """Plowline's own schemas, the repositories of a resolver-config file, extra folders.

        ``http_timeout`` bounds one whole lookup at an HTTP registry (seconds).
        """
        extra = [EmbeddedRegistry(f"schemas:{d}", d) for d in schema_dirs or []]
        resolver = (
            Resolver.from_config(Path(path), extra_registries=extra, http_timeout=http_timeout)
            if path is not None
            else Resolver(extra)
        )
        return cls(Validator(resolver))

    def lookup_budget(self, seconds: float | None) -> AbstractContextManager[None]:
        """Within the block, schema lookups wait at most ``seconds`` in total on HTTP
        registries (None: no bound); see ``Resolver.lookup_budget``."""
        if seconds is None:
            return nullcontext()
        return self.validator.resolver.lookup_budget(seconds)

    def _key(self, uri: str) -> SchemaKey:
        key = self._keys.get(uri)
        if key is None:
            key = SchemaKey.parse(uri)
            if len(self._keys) < 65536:
                self._keys[uri] = key
        return key

    def check(self, schema_uri: str, data: Any) -> dict[str, Any] | None:
        try:
            key = self._key(schema_uri)
        except InvalidIgluUriError as exc:  # callers check URIs first; be safe anyway
            return {
                "error": "ValidationError",
                "schemaIssues": [{"path": "$", "message": str(exc)}],
            }
        try:
            compiled = self.validator.compiled(key)
        except ResolutionError as exc:
            return resolution_error_json(exc)
        except InvalidSchemaError as exc:
            return {
                "error": "ValidationError",
                "schemaIssues": [{"path": p, "message": m} for p, m in exc.issues],
            }
        try:
            if compiled.is_valid(data):
                return None
            reports = self.validator.validate_data(key, data)
        except Exception as exc:  # a validator fault is the schema's problem, not a crash
            issue = {"path": "$", "message": f"validator failed: {type(exc).__name__}: {exc}"}
            return {"error": "ValidationError", "schemaIssues": [issue]}
        return {"error": "ValidationError", "dataReports": [r.to_iglu_json() for r in reports]}
