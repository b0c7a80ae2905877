"""Properties: instances generated from schemas validate; mutated instances fail, and the report
points at the mutation.

The generator below covers the JSON Schema subset these test schemas use (object, array,
string with maxLength/pattern/enum, integer and number ranges, boolean, type unions).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.spec.compiler import json_path
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import InMemoryRegistry
from plowline.spec.resolver import Resolver
from plowline.spec.validation import Validator

Path = tuple[str | int, ...]


def iglu(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "self": {"vendor": "com.acme", "name": name, "format": "jsonschema", "version": "1-0-0"},
        **body,
    }


ORDER = iglu(
    "order",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 36},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
            "price": {"type": "number", "minimum": 0, "maximum": 1e6},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
            "gift": {"type": "boolean"},
            "note": {"type": ["string", "null"], "maxLength": 50},
            "lines": {
                "type": "array",
                "maxItems": 4,
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
                        "qty": {"type": "integer", "minimum": 1},
                    },
                    "required": ["sku"],
                    "additionalProperties": False,
                },
            },
            "address": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "maxLength": 40},
                    "zip": {"type": "string", "maxLength": 10},
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
        "required": ["id", "quantity"],
        "additionalProperties": False,
    },
)
FLAT = iglu(
    "flat",
    {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer"},
            "c": {"type": "boolean"},
            "d": {"type": "number"},
            "e": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["a", "b", "c", "d", "e"],
        "additionalProperties": False,
    },
)
MATRIX = iglu(
    "matrix",
    {
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {"type": "array", "maxItems": 3, "items": {"type": "integer"}},
            },
            "label": {"type": "string", "maxLength": 5},
        },
        "required": ["rows"],
        "additionalProperties": False,
    },
)
SCHEMAS = [ORDER, FLAT, MATRIX]
KEYS = {s["self"]["name"]: SchemaKey.from_self(s["self"]) for s in SCHEMAS}
VALIDATOR = Validator(Resolver([InMemoryRegistry("props", SCHEMAS)], include_spec_schemas=False))


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (the subset above)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if isinstance(kind, list):
        return st.one_of([instances({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"].strip("^$"), fullmatch=True)
        # Lengths are counted in code points by both the schema and len(); no surrogates.
        text = st.characters(codec="utf-8", exclude_categories=["Cs"])
        return st.text(
            text, min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 20)
        )
    if kind == "array":
        return st.lists(
            instances(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 5),
        )
    if kind == "object":
        props = schema["properties"]
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: instances(v) for k, v in props.items() if k in required},
            optional={k: instances(v) for k, v in props.items() if k not in required},
        )
    raise AssertionError(f"generator does not support {schema}")


def wrong_type(schema: dict[str, Any]) -> Any:
    """A value whose JSON type ``schema`` does not allow."""
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    for candidate, types in (
        (12345, {"integer", "number"}),
        ("not-this", {"string"}),
        ([], {"array"}),
        (True, {"boolean"}),
    ):
        if not types & set(kinds):
            return candidate
    raise AssertionError("no wrong type found")


def locations(
    schema: dict[str, Any], value: Any, path: Path = ()
) -> list[tuple[Path, dict[str, Any]]]:
    """Every (path, subschema) inside ``value`` below the root."""
    found: list[tuple[Path, dict[str, Any]]] = []
    if isinstance(value, dict) and schema.get("type") == "object":
        for name, child in value.items():
            sub = schema["properties"][name]
            found.append(((*path, name), sub))
            found.extend(locations(sub, child, (*path, name)))
    elif isinstance(value, list) and schema.get("type") == "array":
        for i, child in enumerate(value):
            found.append(((*path, i), schema["items"]))
            found.extend(locations(schema["items"], child, (*path, i)))
    return found


def objects(schema: dict[str, Any], value: Any) -> list[tuple[Path, dict[str, Any]]]:
    """Every (path, object schema) of an object inside ``value``, the root included."""
    here = [((), schema)] if isinstance(value, dict) else []
    return here + [(p, s) for p, s in locations(schema, value) if s.get("type") == "object"]


def get(value: Any, path: Path) -> Any:
    for part in path:
        value = value[part]
    return value


def reported(name: str, instance: Any) -> set[tuple[str, str, tuple[str, ...]]]:
    reports = VALIDATOR.validate_data(KEYS[name], instance)
    return {(r.data_path, r.keyword, r.targets) for r in reports}


schema_names = st.sampled_from(sorted(KEYS))


@settings(max_examples=150)
@given(st.data(), schema_names)
def test_generated_instances_are_valid(data: st.DataObject, name: str) -> None:
    schema = next(s for s in SCHEMAS if s["self"]["name"] == name)
    instance = data.draw(instances(schema))
    assert reported(name, instance) == set(), instance
    # Through the whole SDJ path too.
    document = json.dumps({"schema": KEYS[name].uri, "data": instance})
    assert VALIDATOR.validate(document).valid


@settings(max_examples=150)
@given(st.data(), schema_names)
def test_a_wrong_type_is_reported_at_its_path(data: st.DataObject, name: str) -> None:
    schema = next(s for s in SCHEMAS if s["self"]["name"] == name)
    instance = data.draw(instances(schema))
    candidates = locations(schema, instance)
    if not candidates:
        instance, path = wrong_type(schema), ()
        expected = json_path(path)
    else:
        path, sub = data.draw(st.sampled_from(candidates))
        instance = copy.deepcopy(instance)
        get(instance, path[:-1])[path[-1]] = wrong_type(sub)
        expected = json_path(path)
    found = reported(name, instance)
    assert any(p == expected and k == "type" for p, k, _ in found), (expected, found)


@settings(max_examples=150)
@given(st.data(), schema_names)
def test_a_missing_required_property_is_reported_on_its_object(
    data: st.DataObject, name: str
) -> None:
    schema = next(s for s in SCHEMAS if s["self"]["name"] == name)
    instance = copy.deepcopy(data.draw(instances(schema)))
    with_required = [(p, s) for p, s in objects(schema, instance) if s.get("required")]
    path, sub = data.draw(st.sampled_from(with_required))
    missing = data.draw(st.sampled_from(sub["required"]))
    del get(instance, path)[missing]
    assert (json_path(path), "required", (missing,)) in reported(name, instance)


@settings(max_examples=150)
@given(st.data(), schema_names, st.text(min_size=1, max_size=8))
def test_an_unknown_property_is_reported_on_its_object(
    data: st.DataObject, name: str, extra: str
) -> None:
    schema = next(s for s in SCHEMAS if s["self"]["name"] == name)
    instance = copy.deepcopy(data.draw(instances(schema)))
    path, sub = data.draw(st.sampled_from(objects(schema, instance)))
    target = get(instance, path)
    if extra in sub["properties"]:
        extra = extra + "_unknown"
    target[extra] = 1
    assert (json_path(path), "additionalProperties", (extra,)) in reported(name, instance)
