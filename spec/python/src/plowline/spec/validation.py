"""Validate self-describing JSON and tracker payloads against Iglu schemas.

``Validator.validate(raw)`` reads a document (size and depth limits first), checks that it is
self-describing, resolves its schema, validates, and goes on into what it carries:

* ``payload_data`` (a tracker POST body): every item's ``cx`` / ``ue_px`` (base64url JSON, both
  alphabets, padding optional) and ``co`` / ``ue_pr`` (JSON strings) are decoded; ``cx``/``co``
  must hold a ``contexts 1-0-*`` SDJ and ``ue_px``/``ue_pr`` an ``unstruct_event 1-0-*`` SDJ;
* ``contexts``: every entity SDJ in ``data``; ``unstruct_event``: the event SDJ in ``data``.

Compiled validators are cached per schema key (jsonschema-rs: draft 4, compiled once, fast
yes/no check; error details are only computed for invalid data). Problems come back as typed
failures in a ``ValidationReport`` — never as an exception.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from itertools import islice
from typing import Any

import jsonschema_rs
from plowline.spec.compiler import CompiledSchema, compile_schema, json_path
from plowline.spec.decoding import (
    Limits,
    check_depth,
    decode_base64url_json,
    parse_json,
)
from plowline.spec.errors import (
    InvalidSchemaError,
    NotJsonError,
    NotSelfDescribingError,
    ResolutionError,
)
from plowline.spec.iglu import SchemaCriterion, SchemaKey, read_sdj
from plowline.spec.reports import (
    CriterionMismatchFailure,
    DataReport,
    Failure,
    InvalidSchemaFailure,
    NotIgluFailure,
    NotJsonFailure,
    ResolutionFailure,
    ValidationFailure,
    ValidationReport,
    excerpt,
)
from plowline.spec.resolver import Resolver

SNOWPLOW = "com.snowplowanalytics.snowplow"
PAYLOAD_DATA = SchemaCriterion(SNOWPLOW, "payload_data", "jsonschema", 1)
CONTEXTS = SchemaCriterion(SNOWPLOW, "contexts", "jsonschema", 1, 0)
UNSTRUCT_EVENT = SchemaCriterion(SNOWPLOW, "unstruct_event", "jsonschema", 1, 0)

# Payload item fields that carry JSON: (name, base64url-encoded?, expected wrapper).
JSON_FIELDS: tuple[tuple[str, bool, SchemaCriterion], ...] = (
    ("cx", True, CONTEXTS),
    ("co", False, CONTEXTS),
    ("ue_px", True, UNSTRUCT_EVENT),
    ("ue_pr", False, UNSTRUCT_EVENT),
)

# What a schema key is to the walk (cached per key): something to descend into, or a leaf.
_LEAF, _PAYLOAD, _CONTEXTS, _UNSTRUCT = 0, 1, 2, 3
_ROLES = ((PAYLOAD_DATA, _PAYLOAD), (CONTEXTS, _CONTEXTS), (UNSTRUCT_EVENT, _UNSTRUCT))


def _role_of(key: SchemaKey) -> int:
    return next((role for criterion, role in _ROLES if criterion.matches(key)), _LEAF)


def expect_role(criterion: SchemaCriterion) -> int:
    """The walk role a criterion stands for when it is one of the wrappers, else -1."""
    return next((role for c, role in _ROLES if c is criterion), -1)


DEFAULT_MAX_REPORTS = 100
DEFAULT_COMPILED_CACHE_SIZE = 4096
MESSAGE_CHARS = 512
EXCERPT_LIMIT = 1024

# (schema it was compiled from, validator or why it cannot be one, reusable until)
_Compiled = tuple[dict[str, Any], CompiledSchema | InvalidSchemaError, float]


class Validator:
    """Validates documents with schemas from ``resolver`` (Plowline's own schemas by default)."""

    def __init__(
        self,
        resolver: Resolver | None = None,
        *,
        limits: Limits | None = None,
        max_reports: int = DEFAULT_MAX_REPORTS,
        compiled_cache_size: int = DEFAULT_COMPILED_CACHE_SIZE,
    ) -> None:
        self.resolver = resolver if resolver is not None else Resolver()
        self.limits = limits if limits is not None else Limits()
        self.max_reports = max_reports
        self._compiled_cache_size = compiled_cache_size
        self._compiled: dict[SchemaKey, _Compiled] = {}
        self._roles: dict[SchemaKey, int] = {}
        self._lock = threading.Lock()

    # --- public API -----------------------------------------------------------------------

    def validate(
        self, raw: str | bytes | bytearray, *, expect: SchemaCriterion | None = None
    ) -> ValidationReport:
        """Read JSON text (UTF-8 when bytes) and validate it as self-describing JSON.

        ``expect``: the top-level schema must match it (e.g. ``PAYLOAD_DATA`` for a tracker
        POST body), else a CriterionMismatch failure.
        """
        try:
            document = parse_json(raw, self.limits)
        except NotJsonError as exc:
            head = raw[: EXCERPT_LIMIT * 4]
            text = head if isinstance(head, str) else bytes(head).decode("utf-8", "replace")
            return ValidationReport(
                (NotJsonFailure("$", None, excerpt(text), exc.reason),), None, 0
            )
        return self._run(document, expect)

    def validate_parsed(
        self, document: Any, *, expect: SchemaCriterion | None = None
    ) -> ValidationReport:
        """Validate an already decoded document (dicts, lists, str, int, float, bool, None)."""
        try:
            check_depth(document, self.limits.max_depth)
        except NotJsonError as exc:
            return ValidationReport((NotJsonFailure("$", None, None, exc.reason),), None, 0)
        return self._run(document, expect)

    def validate_data(
        self, key: SchemaKey, data: Any, *, location: str = "$"
    ) -> tuple[DataReport, ...]:
        """Reports of ``data`` against the schema of ``key`` (empty when valid).

        ``data`` must already be within the depth limit. Raises ResolutionError or
        InvalidSchemaError when there is no usable schema.
        """
        validator = self.compiled(key)
        if validator.is_valid(data):
            return ()
        return self._reports(validator, data, location)

    def is_valid_data(self, key: SchemaKey, data: Any) -> bool:
        """Yes/no fast path (raises like ``validate_data``)."""
        return bool(self.compiled(key).is_valid(data))

    def compiled(self, key: SchemaKey) -> CompiledSchema:
        """The compiled validator for ``key``.

        Reused without asking the resolver again until the resolver's cache TTL runs out;
        then the schema is looked up again and recompiled only if the resolver serves a new
        schema object.
        """
        entry = self._compiled.get(key)
        if entry is not None:
            expires = entry[2]
            if expires == math.inf or expires > self.resolver.clock():
                result = entry[1]
                if isinstance(result, InvalidSchemaError):
                    raise _fresh(result)
                return result
        schema = self.resolver.lookup(key)
        if entry is None or entry[0] is not schema:
            try:
                result = compile_schema(key, schema)
            except InvalidSchemaError as exc:
                result = exc
        else:
            result = entry[1]
        with self._lock:  # readers above take no lock; writers must not collide
            if len(self._compiled) >= self._compiled_cache_size and key not in self._compiled:
                self._compiled.pop(next(iter(self._compiled)), None)  # oldest first
            self._compiled[key] = (schema, result, self.resolver.cache_expiry())
        if isinstance(result, InvalidSchemaError):
            raise _fresh(result)
        return result

    # --- the walk ----------------------------------------------------------------------------

    def _run(self, document: Any, expect: SchemaCriterion | None) -> ValidationReport:
        failures: list[Failure] = []
        counter = [0]
        try:
            key = self._sdj(document, "$", failures, counter, expect)
        except RecursionError:  # belt and braces: every step is bounded, but never crash
            failures.append(NotJsonFailure("$", None, None, "document is nested too deeply"))
            key = None
        return ValidationReport(tuple(failures), key, counter[0])

    def _sdj(
        self,
        document: Any,
        location: str,
        failures: list[Failure],
        counter: list[int],
        expect: SchemaCriterion | None = None,
    ) -> SchemaKey | None:
        try:
            key, data = read_sdj(document)
        except NotSelfDescribingError as exc:
            failures.append(NotIgluFailure(location, _json_excerpt(document), exc.reason, exc.code))
            return None
        role = self._roles.get(key)
        if role is None:
            role = self._roles[key] = _role_of(key)
        if expect is not None and not (role == expect_role(expect) or expect.matches(key)):
            failures.append(CriterionMismatchFailure(location, key, expect))
            return key
        counter[0] += 1
        self._check_data(key, data, location, failures)
        # Go on into what the document carries, as far as its shape allows, so one run reports
        # every problem (enrich would stop at the first failing level).
        if role == _PAYLOAD:
            if type(data) is list:
                self._payload_items(data, location, failures, counter)
        elif role == _CONTEXTS:
            if type(data) is list:
                for i, entity in enumerate(data):
                    self._sdj(entity, f"{location}.data[{i}]", failures, counter)
        elif role == _UNSTRUCT:
            self._sdj(data, f"{location}.data", failures, counter)
        return key

    def _check_data(
        self, key: SchemaKey, data: Any, location: str, failures: list[Failure]
    ) -> None:
        try:
            validator = self.compiled(key)
        except ResolutionError as exc:
            failures.append(ResolutionFailure(location, key, exc))
            return
        except InvalidSchemaError as exc:
            failures.append(InvalidSchemaFailure(location, key, tuple(exc.issues)))
            return
        try:
            if validator.is_valid(data):
                return
            reports = self._reports(validator, data, location)
        except Exception as exc:  # the validator itself failed: report it, never crash
            issue = ("$", f"validator failed: {type(exc).__name__}: {exc}")
            failures.append(InvalidSchemaFailure(location, key, (issue,)))
            return
        failures.append(ValidationFailure(location, key, reports))

    def _payload_items(
        self, items: list[Any], location: str, failures: list[Failure], counter: list[int]
    ) -> None:
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue  # the payload_data schema has reported it
            for field, base64_encoded, wrapper in JSON_FIELDS:
                value = item.get(field)
                if not isinstance(value, str):
                    continue  # absent, or reported by the payload_data schema
                at = f"{location}.data[{i}].{field}"
                try:
                    if base64_encoded:
                        document = decode_base64url_json(value, self.limits)
                    else:
                        document = parse_json(value, self.limits)
                except NotJsonError as exc:
                    failures.append(NotJsonFailure(at, field, excerpt(value), exc.reason))
                    continue
                self._sdj(document, at, failures, counter, wrapper)

    def _reports(
        self, validator: CompiledSchema, data: Any, location: str
    ) -> tuple[DataReport, ...]:
        prefix = location + ".data"
        reports = []
        for error in islice(validator.iter_errors(data), self.max_reports):
            data_path = json_path(error.instance_path)
            reports.append(
                DataReport(
                    path=prefix + data_path[1:],
                    data_path=data_path,
                    keyword=error.kind.name,
                    message=excerpt(error.message, MESSAGE_CHARS),
                    targets=_targets(error.kind),
                )
            )
        return tuple(reports)


def _fresh(error: InvalidSchemaError) -> InvalidSchemaError:
    """A new exception like the cached one: re-raising one instance would grow its traceback
    on every raise (and threads would share it)."""
    return type(error)(error.key, list(error.issues))


def _targets(kind: jsonschema_rs.ValidationErrorKind) -> tuple[str, ...]:
    """The names a report is about: missing/unexpected properties, expected types, limits."""
    name = kind.name
    if name in ("anyOf", "oneOf", "not", "propertyNames"):
        return ()  # nested errors: not summarised as targets
    details = kind.as_dict()
    pick: dict[str, Callable[[Any], tuple[str, ...]]] = {
        "property": lambda v: (str(v),),
        "unexpected": lambda v: tuple(str(x) for x in v),
        "types": lambda v: tuple(str(x) for x in v),
        "options": lambda v: (json.dumps(v, ensure_ascii=False),),
        "format": lambda v: (str(v),),
        "pattern": lambda v: (str(v),),
        "limit": lambda v: (str(v),),
        "expected_value": lambda v: (json.dumps(v, ensure_ascii=False),),
        "multiple_of": lambda v: (str(v),),
    }
    for field, convert in pick.items():
        if field in details:
            return convert(details[field])
    return ()


def _json_excerpt(document: Any) -> Any:
    """The value quoted in a NotIglu failure, cut down when big."""
    try:
        text = json.dumps(document, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return excerpt(repr(document), EXCERPT_LIMIT)
    return document if len(text) <= EXCERPT_LIMIT else excerpt(text, EXCERPT_LIMIT)
