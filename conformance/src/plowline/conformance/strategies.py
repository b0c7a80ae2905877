"""Hypothesis strategies for Plowline events, derived from the spec's JSON Schemas.

Public and reusable: a tracker author can property-test their tracker (or driver) with the
same inputs the conformance suite uses::

    from hypothesis import given
    from plowline.conformance import strategies as pst

    @given(pst.events(), pst.subjects())
    def test_my_tracker(event, subject): ...

Everything produced is in the language-neutral shapes of ``spec/vectors/FORMAT.md`` (an
``event`` dict with ``type`` and its keys, a subject dict, a tracker dict), so it can be sent
as is in a driver ``track`` / ``configure`` request.

Self-describing payloads and entities are generated from the JSON Schemas in ``spec/schemas``
by :func:`from_schema`, a small draft-04 compiler: ``type`` (one or a list), ``properties``,
``required``, ``additionalProperties`` (a schema), ``enum``, ``minLength``/``maxLength``,
``pattern``, ``minimum``/``maximum``, ``format`` (uuid, date-time, uri), ``items``,
``minItems``/``maxItems`` and ``minProperties``. An optional property whose schema uses
anything else is never generated; a required one raises :class:`UnsupportedSchemaError`.

This module imports ``hypothesis``, which is a development dependency only: import it from
tests, where hypothesis is installed, never from production code.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

from hypothesis import strategies as st
from plowline.spec.data import data_path

__all__ = [
    "ATOMIC_ALPHABET",
    "STANDARD_ENTITIES",
    "STANDARD_EVENTS",
    "UnsupportedSchemaError",
    "atomic_text",
    "contexts",
    "event_types",
    "events",
    "from_schema",
    "schema_document",
    "self_describing_json",
    "subjects",
    "trackers",
    "unicode_text",
    "urls",
]

# Entities (contexts) and self-describing events whose schemas the compiler fully supports.
STANDARD_ENTITIES: Final = (
    "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
    "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
    "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0",
    "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0",
)
STANDARD_EVENTS: Final = (
    "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
    "iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0",
    "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0",
    "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0",
)

# Printable, no control characters, tabs or surrogates: atomic (TSV) fields keep such text
# unchanged through enrich, which replaces tabs and drops control characters.
ATOMIC_ALPHABET: Final = st.characters(
    categories=("L", "M", "N", "P", "S"), exclude_characters="\x7f"
) | st.just(" ")

# Bounds that every language prints and parses alike.
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_FLOAT_LIMIT: Final = 1e9
_MAX_ITEMS: Final = 3
_MAX_TEXT: Final = 24
_SUPPORTED: Final = frozenset(
    {
        "$schema", "self", "description", "type", "properties", "required",
        "additionalProperties", "enum", "minLength", "maxLength", "pattern", "minimum",
        "maximum", "format", "items", "minItems", "maxItems", "minProperties",
    }
)  # fmt: skip
_FORMATS: Final = frozenset({"uuid", "date-time", "uri"})


class UnsupportedSchemaError(ValueError):
    """A schema uses a keyword the compiler cannot honour where it cannot be left out."""


def unicode_text(min_size: int = 0, max_size: int = _MAX_TEXT) -> st.SearchStrategy[str]:
    """Any Unicode text except lone surrogates (which UTF-8 cannot carry)."""
    alphabet = st.characters(exclude_categories=["Cs"])
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def atomic_text(min_size: int = 0, max_size: int = _MAX_TEXT) -> st.SearchStrategy[str]:
    """Printable text that an atomic enriched field stores unchanged (see ATOMIC_ALPHABET)."""
    return st.text(ATOMIC_ALPHABET, min_size=min_size, max_size=max_size)


def urls() -> st.SearchStrategy[str]:
    """Plain http(s) URLs with a lower-case host and an optional path, query and fragment."""
    label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
    segment = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=8)
    return st.builds(
        lambda scheme, host, path, query, fragment: (
            f"{scheme}://{'.'.join(host)}.example/{'/'.join(path)}"
            + (f"?q={query}" if query else "")
            + (f"#{fragment}" if fragment else "")
        ),
        st.sampled_from(("http", "https")),
        st.lists(label, min_size=1, max_size=2),
        st.lists(segment, max_size=3),
        st.none() | segment,
        st.none() | segment,
    )


# --- the JSON Schema compiler -------------------------------------------------------------


def _unsupported(schema: Mapping[str, Any]) -> set[str]:
    """Keywords anywhere in ``schema`` that the compiler cannot honour."""
    found = set(schema) - _SUPPORTED
    fmt = schema.get("format")
    if fmt is not None and fmt not in _FORMATS:
        found.add(f"format {fmt}")
    for sub in (schema.get("properties") or {}).values():
        found |= _unsupported(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), Mapping):
            found |= _unsupported(schema[key])
    return found


def _string(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", low + _MAX_TEXT))
    drawn = min(high, low + _MAX_TEXT)  # valid and small: a 64 KiB string proves nothing more
    fmt = schema.get("format")
    base: st.SearchStrategy[str]
    if fmt == "uuid":
        base = st.uuids().map(str)
    elif fmt == "date-time":
        base = st.datetimes(
            min_value=datetime(1970, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.just(UTC),
        ).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    elif fmt == "uri":
        base = urls()
    elif "pattern" in schema:
        base = st.from_regex(str(schema["pattern"]), fullmatch=True)
    else:
        return unicode_text(low, drawn)
    if "minLength" not in schema and "maxLength" not in schema:
        return base
    return base.filter(lambda s: low <= len(s) <= high)


def _number(schema: Mapping[str, Any], integral: bool) -> st.SearchStrategy[Any]:
    if integral:
        low = max(_INT_MIN, int(schema.get("minimum", _INT_MIN)))
        high = min(_INT_MAX, int(schema.get("maximum", _INT_MAX)))
        return st.integers(low, high)
    lo = max(-_FLOAT_LIMIT, float(schema.get("minimum", -_FLOAT_LIMIT)))
    hi = min(_FLOAT_LIMIT, float(schema.get("maximum", _FLOAT_LIMIT)))
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if math.ceil(lo) > math.floor(hi):
        return floats
    return st.integers(math.ceil(lo), math.floor(hi)) | floats


def _object(schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    needed: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, sub in properties.items():
        if name in required:
            needed[name] = from_schema(sub)
        elif not _unsupported(sub):
            optional[name] = from_schema(sub)
    missing = required - set(properties)
    if missing:
        raise UnsupportedSchemaError(f"required without a schema: {sorted(missing)}")
    base = st.fixed_dictionaries(needed, optional=optional)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping) and not properties:
        base = st.dictionaries(unicode_text(1, 8), from_schema(extra), max_size=_MAX_ITEMS)
    least = int(schema.get("minProperties", 0))
    return base.filter(lambda d: len(d) >= least) if least else base


def _typed(name: str, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if name == "string":
        return _string(schema)
    if name in ("integer", "number"):
        return _number(schema, integral=name == "integer")
    if name == "boolean":
        return st.booleans()
    if name == "null":
        return st.none()
    if name == "array":
        items = schema.get("items")
        element = from_schema(items) if isinstance(items, Mapping) else st.none()
        low = int(schema.get("minItems", 0))
        return st.lists(element, min_size=low, max_size=int(schema.get("maxItems", low + 3)))
    if name == "object":
        return _object(schema)
    raise UnsupportedSchemaError(f"unknown type {name!r}")


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for JSON values that validate against the draft-04 ``schema``."""
    bad = set(schema) - _SUPPORTED
    if bad:
        raise UnsupportedSchemaError(f"unsupported keywords {sorted(bad)}")
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if kind is None:
        raise UnsupportedSchemaError("a schema without type or enum")
    names = [kind] if isinstance(kind, str) else list(kind)
    return st.one_of([_typed(str(n), schema) for n in names])


@cache
def schema_document(schema_uri: str) -> dict[str, Any]:
    """The spec's JSON Schema for ``iglu:vendor/name/format/version``."""
    if not schema_uri.startswith("iglu:"):
        raise ValueError(f"not an iglu URI: {schema_uri!r}")
    parts = schema_uri.removeprefix("iglu:").split("/")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"not an iglu URI: {schema_uri!r}")
    vendor, name, fmt, version = parts
    path = data_path("schemas", vendor, name, fmt, version)
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def self_describing_json(schema_uri: str) -> st.SearchStrategy[dict[str, Any]]:
    """``{"schema": schema_uri, "data": ...}`` with data valid against the spec schema."""
    data = from_schema(schema_document(schema_uri))
    return data.map(lambda d: {"schema": schema_uri, "data": d})


def contexts(min_size: int = 0, max_size: int = 2) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A list of entities drawn from STANDARD_ENTITIES."""
    one = st.one_of([self_describing_json(uri) for uri in STANDARD_ENTITIES])
    return st.lists(one, min_size=min_size, max_size=max_size)


# --- events, subjects, trackers in the vector format --------------------------------------

_TYPES: Final = (
    "page_view",
    "page_ping",
    "structured",
    "self_describing",
    "screen_view",
    "link_click",
    "submit_form",
    "change_form",
    "focus_form",
    "site_search",
    "timing",
)
_SNOWPLOW: Final = "com.snowplowanalytics.snowplow"
_SMALL_INT: Final = st.integers(-(2**20), 2**20)
# Short decimals every language prints alike (no exponent, no integral float).
_PRINTABLE_NUMBER: Final = st.integers(-(10**6), 10**6) | st.decimals(
    -(10**6), 10**6, places=2, allow_nan=False, allow_infinity=False
).map(float).filter(lambda f: f != int(f))


def _field(name: str, prop: str, version: str = "1-0-0") -> st.SearchStrategy[Any]:
    """The strategy of property ``prop`` of the spec schema of a standard event."""
    vendor = "com.snowplowanalytics.mobile" if name == "screen_view" else _SNOWPLOW
    schema = schema_document(f"iglu:{vendor}/{name}/jsonschema/{version}")
    return from_schema(schema["properties"][prop])


def _form_parts(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """change_form / focus_form keys, each drawn from the schema property it is sent as."""
    required = {
        "form_id": _field(kind, "formId"),
        "element_id": _field(kind, "elementId"),
        "node_name": _field(kind, "nodeName"),
        "value": _field(kind, "value"),
    }
    # change_form sends element_type as `type`, focus_form as `elementType` (their schemas).
    sent_as = "type" if kind == "change_form" else "elementType"
    optional = {
        "element_type": _field(kind, sent_as),
        "element_classes": _field(kind, "elementClasses").filter(lambda v: v is not None),
    }
    return required, optional


def _submit_element() -> st.SearchStrategy[dict[str, Any]]:
    schema = schema_document(f"iglu:{_SNOWPLOW}/submit_form/jsonschema/1-0-0")
    item = schema["properties"]["elements"]["items"]["properties"]
    return st.fixed_dictionaries(
        {"name": from_schema(item["name"]), "value": from_schema(item["value"]),
         "node_name": from_schema(item["nodeName"])},
        optional={"type": from_schema(item["type"])},
    )  # fmt: skip


def _event_parts(kind: str) -> tuple[dict[str, st.SearchStrategy[Any]], dict[str, Any]]:
    """(required keys, optional keys) of an event type, as FORMAT.md lists them.

    The typed events' keys are drawn from the schema property each is sent as.
    """
    page_optional = {"page_title": atomic_text(), "referrer": urls()}
    table: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "page_view": ({"page_url": urls()}, page_optional),
        "page_ping": (
            {
                "page_url": urls(),
                "min_x": _SMALL_INT,
                "max_x": _SMALL_INT,
                "min_y": _SMALL_INT,
                "max_y": _SMALL_INT,
            },
            page_optional,
        ),
        "structured": (
            {"category": atomic_text(1), "action": atomic_text(1)},
            {"label": atomic_text(), "property": atomic_text(), "value": _PRINTABLE_NUMBER},
        ),
        "self_describing": (
            {"event": st.one_of([self_describing_json(u) for u in STANDARD_EVENTS])},
            {},
        ),
        "screen_view": (
            {
                "name": _field("screen_view", "name").filter(bool),
                "id": _field("screen_view", "id"),
            },
            {
                "screen_type": _field("screen_view", "type"),
                "previous_name": _field("screen_view", "previousName"),
            },
        ),
        "link_click": (
            {"target_url": urls()},
            {
                "element_id": _field("link_click", "elementId", "1-0-1"),
                "element_classes": _field("link_click", "elementClasses", "1-0-1"),
                "element_target": _field("link_click", "elementTarget", "1-0-1"),
                "element_content": _field("link_click", "elementContent", "1-0-1"),
            },
        ),
        "submit_form": (
            {"form_id": _field("submit_form", "formId")},
            {
                "form_classes": _field("submit_form", "formClasses"),
                "elements": st.lists(_submit_element(), max_size=_MAX_ITEMS),
            },
        ),
        "change_form": _form_parts("change_form"),
        "focus_form": _form_parts("focus_form"),
        "site_search": (
            {"terms": _field("site_search", "terms")},
            {
                "filters": _field("site_search", "filters"),
                "total_results": _field("site_search", "totalResults"),
                "page_results": _field("site_search", "pageResults"),
            },
        ),
        "timing": (
            {
                "category": _field("timing", "category").filter(bool),
                "variable": _field("timing", "variable").filter(bool),
                "timing": _field("timing", "timing"),
            },
            {"label": _field("timing", "label")},
        ),
    }
    required, optional = table[kind]
    return {"type": st.just(kind), **required}, optional


def event_types() -> tuple[str, ...]:
    """The event types :func:`events` draws from (FORMAT.md, without the transaction)."""
    return _TYPES


def events(types: tuple[str, ...] = _TYPES) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed events of ``types`` with optional contexts and true timestamp."""
    unknown = set(types) - set(_TYPES)
    if unknown:
        raise ValueError(f"no strategy for event types {sorted(unknown)}")
    common = {
        "contexts": contexts(min_size=1),
        "true_timestamp_ms": st.integers(0, 4_102_444_800_000),
    }
    choices = []
    for kind in types:
        required, optional = _event_parts(kind)
        choices.append(st.fixed_dictionaries(required, optional={**optional, **common}))
    return st.one_of(choices)


def _pair() -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 100_000), min_size=2, max_size=2)


def subjects() -> st.SearchStrategy[dict[str, Any]]:
    """Subject dicts (FORMAT.md subject keys), at least one key."""
    ipv4 = st.ip_addresses(v=4).map(str)
    keys: dict[str, st.SearchStrategy[Any]] = {
        "user_id": atomic_text(1),
        "domain_user_id": atomic_text(1),
        "network_user_id": atomic_text(1),
        "screen_resolution": _pair(),
        "viewport": _pair(),
        "color_depth": st.integers(1, 64),
        "timezone": atomic_text(1),
        "language": atomic_text(1),
        "ip_address": ipv4,
        "useragent": atomic_text(1),
        "session_id": st.uuids().map(str),
        "session_index": st.integers(1, _INT_MAX),
    }
    return st.fixed_dictionaries({}, optional=keys).filter(bool)


def trackers() -> st.SearchStrategy[dict[str, Any]]:
    """Tracker dicts (namespace, app_id, platform, encode_base64)."""
    return st.fixed_dictionaries(
        {
            "namespace": atomic_text(1),
            "app_id": atomic_text(1),
            "platform": st.sampled_from(
                ("web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset")
            ),
            "encode_base64": st.booleans(),
        }
    )
