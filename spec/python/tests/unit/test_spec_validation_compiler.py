"""Compiling schemas: reference checks ($ref cycles, remote/dangling refs), formats, paths."""

from __future__ import annotations

from typing import Any

import pytest
from plowline.spec.compiler import check_references, compile_schema, json_path, pointer_path
from plowline.spec.errors import InvalidSchemaError, SchemaRefCycleError
from plowline.spec.iglu import SchemaKey

KEY = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-0")


def iglu(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {"vendor": "com.acme", "name": "thing", "format": "jsonschema", "version": "1-0-0"},
        **body,
    }


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"allOf": [{"$ref": "#"}]},
        {"anyOf": [{"type": "string"}, {"$ref": "#"}]},
        {"oneOf": [{"not": {"$ref": "#"}}]},
        {
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
            "$ref": "#/definitions/a",
        },
        {"definitions": {"a": {"allOf": [{"$ref": "#/definitions/a"}]}}},  # even if unused
        {"dependencies": {"x": {"$ref": "#"}}},
        {"properties": {"p": {"$ref": "#/properties/p"}}},
        {"definitions": {"a~b": {"$ref": "#/definitions/a~0b"}}},
        {"definitions": {"a/b": {"$ref": "#/definitions/a~1b"}}},
        {"definitions": {"a b": {"$ref": "#/definitions/a%20b"}}},
    ],
)
def test_reference_loops_on_one_instance_are_rejected(schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaRefCycleError, match="reference loop on the same instance") as caught:
        compile_schema(KEY, iglu(schema))
    assert caught.value.key == KEY
    assert caught.value.issues


@pytest.mark.parametrize(
    "schema",
    [
        # Recursion that descends into the instance terminates: it is fine.
        {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}},
        {"definitions": {"node": {"properties": {"next": {"$ref": "#/definitions/node"}}}}},
        {"additionalProperties": {"$ref": "#"}},
        {"patternProperties": {"^x": {"$ref": "#"}}},
        {"items": [{"$ref": "#"}], "additionalItems": {"$ref": "#"}},
        # Several references to one definition are not a loop.
        {
            "definitions": {"s": {"type": "string"}},
            "allOf": [{"$ref": "#/definitions/s"}, {"$ref": "#/definitions/s"}],
        },
    ],
)
def test_recursive_schemas_that_descend_are_accepted(schema: dict[str, Any]) -> None:
    check_references(KEY, schema)
    compile_schema(KEY, iglu(schema))


def test_recursive_schema_validates_nested_data() -> None:
    tree = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}}
    validator = compile_schema(KEY, iglu(tree))
    assert validator.is_valid({"kids": [{"kids": []}, {}]})
    assert not validator.is_valid({"kids": [{"kids": 5}]})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "http://example.com/schema.json"}, "is not local"),
        ({"properties": {"a": {"$ref": "other.json#/x"}}}, "is not local"),
        ({"$ref": "#/definitions/missing"}, "points to nothing"),
        ({"$ref": "#/items/5", "items": [{}]}, "points to nothing"),
        ({"$ref": "#anchor"}, "points to nothing"),
        ({"definitions": {"n": 5}, "$ref": "#/definitions/n"}, "is not a schema"),
    ],
)
def test_unusable_references_are_rejected_before_compiling(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidSchemaError, match=message) as caught:
        compile_schema(KEY, iglu(schema))
    assert not isinstance(caught.value, SchemaRefCycleError)


def test_references_into_arrays_resolve() -> None:
    check_references(KEY, {"allOf": [{"type": "string"}], "anyOf": [{"$ref": "#/allOf/0"}]})


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"type": "stringy"}, "$.type"),
        ({"properties": {"a": {"minimum": "x"}}}, "$.properties.a.minimum"),
        ({"required": "a"}, "$.required"),
        ({"pattern": "(unclosed"}, "$.pattern"),
    ],
)
def test_schemas_breaking_draft4_are_invalid_with_a_path(schema: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidSchemaError) as caught:
        compile_schema(KEY, iglu(schema))
    assert caught.value.issues[0][0] == path


def test_very_deep_schema_is_an_invalid_schema_not_a_crash() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(2000):
        schema = {"not": schema}
    with pytest.raises(InvalidSchemaError):
        compile_schema(KEY, iglu(schema))


def test_compiled_validator_is_draft4_with_iglu_metadata_ignored() -> None:
    validator = compile_schema(
        KEY,
        iglu(
            {
                "type": "object",
                "properties": {"n": {"type": "number", "maximum": 5, "exclusiveMaximum": True}},
            }
        ),
    )
    assert validator.is_valid({"n": 4.9})
    assert not validator.is_valid({"n": 5})  # draft 4 boolean exclusiveMaximum


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("uuid", "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f", "6f2c1f2a"),
        ("uuid", "6F2C1F2A-7E2B-4B7A-9D0E-2A1F3C4D5E6F", "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6fff"),
        ("date-time", "2024-01-02T03:04:05Z", "yesterday"),
        ("ipv4", "192.168.0.1", "192.168.0"),
        ("email", "a@b.co", "no-at-sign"),
    ],
)
def test_formats_are_checked(fmt: str, good: str, bad: str) -> None:
    validator = compile_schema(KEY, iglu({"type": "string", "format": fmt}))
    assert validator.is_valid(good)
    assert not validator.is_valid(bad)


def test_unknown_formats_are_ignored() -> None:
    assert compile_schema(KEY, iglu({"format": "camelCase"})).is_valid("not camel")


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        ([], "$"),
        (["data", 0, "name"], "$.data[0].name"),
        (["a b", "x-y", "_ok", "9lives"], "$['a b']['x-y']._ok['9lives']"),
        (["it's", "back\\slash"], "$['it\\'s']['back\\\\slash']"),
    ],
)
def test_json_paths(parts: list[str | int], path: str) -> None:
    assert json_path(parts) == path


def test_pointer_paths_show_array_indexes() -> None:
    assert pointer_path(("allOf", "0", "properties", "a")) == "$.allOf[0].properties.a"


def test_uuid_fast_path_agrees_with_the_detailed_errors() -> None:
    compiled = compile_schema(
        KEY, iglu({"properties": {"id": {"type": "string", "format": "uuid"}}})
    )
    good = "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f"
    for value, valid in ((good, True), (good + "\n", False), ("x", False), (good.upper(), True)):
        assert compiled.is_valid({"id": value}) is valid
        errors = list(compiled.iter_errors({"id": value}))
        assert (not errors) is valid
        if errors:
            assert errors[0].kind.name == "format"  # reported as the schema says it


def test_uuid_rewrite_touches_schema_positions_only() -> None:
    in_values = iglu({"enum": [{"format": "uuid"}], "properties": {"format": {"type": "string"}}})
    assert compile_schema(KEY, in_values).is_valid({"format": "uuid"})
    own_pattern = iglu({"properties": {"a": {"format": "uuid", "pattern": "^6"}}})
    compiled = compile_schema(KEY, own_pattern)  # both the pattern and the format apply
    assert compiled.is_valid({"a": "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f"})
    assert not compiled.is_valid({"a": "7f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f"})
    assert not compiled.is_valid({"a": "6-not-a-uuid"})


def test_the_draft4_meta_schema_is_referenced_without_network() -> None:
    meta = iglu({"allOf": [{"$ref": "http://json-schema.org/draft-04/schema#"}]})
    compiled = compile_schema(KEY, meta)
    assert compiled.is_valid({"type": "string", "maxLength": 3})
    assert not compiled.is_valid({"type": "wrong"})
