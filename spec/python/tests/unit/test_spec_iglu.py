"""Iglu identifiers: SchemaVer, SchemaKey (iglu: URIs), SchemaCriterion, SDJ envelopes."""

from __future__ import annotations

from typing import Any

import pytest
from plowline.spec.errors import (
    InvalidIgluUriError,
    InvalidSchemaCriterionError,
    InvalidSchemaVerError,
    NotSelfDescribingError,
)
from plowline.spec.iglu import (
    MAX_URI_LENGTH,
    SchemaCriterion,
    SchemaKey,
    SchemaVer,
    SelfDescribingData,
    json_type,
    read_sdj,
)

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"

# --- SchemaVer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1-0-0", (1, 0, 0)), ("1-0-4", (1, 0, 4)), ("2-10-3", (2, 10, 3)), ("10-0-11", (10, 0, 11))],
)
def test_schemaver_parses_model_revision_addition(
    text: str, expected: tuple[int, int, int]
) -> None:
    version = SchemaVer.parse(text)
    assert version.as_tuple() == expected
    assert (version.model, version.revision, version.addition) == expected
    assert str(version) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0-0-0", "MODEL starts at 1"),
        ("0-1-0", "MODEL starts at 1"),
        ("01-0-0", "leading zeros"),
        ("1-00-0", "leading zeros"),
        ("1-0-01", "leading zeros"),
        ("1.0.0", "three numbers joined by '-'"),
        ("1-0", "three numbers joined by '-'"),
        ("1-0-0-0", "three numbers joined by '-'"),
        ("", "three numbers joined by '-'"),
        ("1-0-x", "three numbers joined by '-'"),
        ("1-0-0\n", "three numbers joined by '-'"),
        (" 1-0-0", "three numbers joined by '-'"),
        ("1-*-*", "three numbers joined by '-'"),
        ("١-0-0", "three numbers joined by '-'"),  # Arabic-Indic digit is not [0-9]
    ],
)
def test_schemaver_rejects_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidSchemaVerError, match="invalid SchemaVer") as caught:
        SchemaVer.parse(text)
    assert reason in caught.value.reason
    assert caught.value.version == text


def test_schemaver_rejects_non_strings_and_huge_input() -> None:
    with pytest.raises(InvalidSchemaVerError, match="must be a string"):
        SchemaVer.parse(100)
    with pytest.raises(InvalidSchemaVerError, match="longer than"):
        SchemaVer.parse("1-0-" + "1" * MAX_URI_LENGTH)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((0, 0, 0), "MODEL must be >= 1"),
        ((1, -1, 0), "REVISION must be >= 0"),
        ((1, 0, -1), "ADDITION must be >= 0"),
        ((True, 0, 0), "MODEL must be an int"),
        ((1, 0.5, 0), "REVISION must be an int"),
    ],
)
def test_schemaver_constructor_checks_its_numbers(
    fields: tuple[Any, Any, Any], message: str
) -> None:
    with pytest.raises(InvalidSchemaVerError, match=message):
        SchemaVer(*fields)


def test_schemaver_orders_like_its_tuple() -> None:
    versions = [SchemaVer.parse(v) for v in ["2-0-0", "1-0-10", "1-0-2", "1-1-0", "1-0-0"]]
    assert [str(v) for v in sorted(versions)] == ["1-0-0", "1-0-2", "1-0-10", "1-1-0", "2-0-0"]
    assert SchemaVer(1, 0, 2) < SchemaVer(1, 0, 10)  # numeric, not lexicographic
    assert SchemaVer(1, 0, 0) == SchemaVer.parse("1-0-0")
    assert max(versions) == SchemaVer(2, 0, 0)


# --- SchemaKey ---------------------------------------------------------------------------------


def test_schema_key_accessors() -> None:
    key = SchemaKey.parse(WEB_PAGE)
    assert key.vendor == "com.snowplowanalytics.snowplow"
    assert key.name == "web_page"
    assert key.format == "jsonschema"
    assert key.version == SchemaVer(1, 0, 0)
    assert key.uri == WEB_PAGE
    assert str(key) == WEB_PAGE
    assert key.path == "com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"


def test_schema_keys_are_values() -> None:
    a = SchemaKey.parse(WEB_PAGE)
    b = SchemaKey("com.snowplowanalytics.snowplow", "web_page", "jsonschema", SchemaVer(1, 0, 0))
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a != SchemaKey.parse(WEB_PAGE.replace("1-0-0", "1-0-1"))
    later = SchemaKey.parse(WEB_PAGE.replace("1-0-0", "1-0-10"))
    assert sorted([later, a]) == [a, later]


@pytest.mark.parametrize(
    "uri",
    [
        "iglu:com.acme/event/jsonschema/1-0-0",
        "iglu:com.acme-corp_x/my-event_2/jsonschema/12-3-45",
        "iglu:a/b/c/1-0-0",
        "iglu:com.acme/Event/thrift/1-0-0",
        "iglu:.../x/jsonschema/1-0-0",  # the regex allows dots only in the vendor
    ],
)
def test_schema_key_accepts_the_iglu_regex(uri: str) -> None:
    assert SchemaKey.parse(uri).uri == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("com.acme/event/jsonschema/1-0-0", "must start with 'iglu:'"),
        ("IGLU:com.acme/event/jsonschema/1-0-0", "must start with 'iglu:'"),
        ("iglu:com.acme/event/1-0-0", "4 parts"),
        ("iglu:com.acme/event/jsonschema/1-0-0/extra", "4 parts"),
        ("iglu:com acme/event/jsonschema/1-0-0", "vendor 'com acme'"),
        ("iglu:/event/jsonschema/1-0-0", "vendor ''"),
        ("iglu:com.acme/ev.ent/jsonschema/1-0-0", "name 'ev.ent'"),
        ("iglu:com.acme/event/json.schema/1-0-0", "format 'json.schema'"),
        ("iglu:com.acme/event/jsonschema/0-0-0", "version MODEL starts at 1"),
        ("iglu:com.acme/event/jsonschema/1-0-01", "version numbers must not have leading"),
        ("iglu:com.acme/event/jsonschema/1-*-*", "version expected MODEL-REVISION-ADDITION"),
        ("iglu:com.acme/event/jsonschema/1-0-0\n", "version expected MODEL-REVISION-ADDITION"),
        ("iglu:com.acme/événement/jsonschema/1-0-0", "name 'événement'"),
    ],
)
def test_schema_key_rejects_with_a_reason(uri: str, reason: str) -> None:
    with pytest.raises(InvalidIgluUriError, match="invalid Iglu URI") as caught:
        SchemaKey.parse(uri)
    assert reason in str(caught.value)
    assert caught.value.uri == uri
    assert isinstance(caught.value, ValueError)


def test_schema_key_rejects_non_strings_and_huge_input() -> None:
    with pytest.raises(InvalidIgluUriError, match="must be a string"):
        SchemaKey.parse(None)
    with pytest.raises(InvalidIgluUriError, match="longer than"):
        SchemaKey.parse("iglu:" + "a" * MAX_URI_LENGTH + "/b/c/1-0-0")


def test_schema_key_constructor_checks_its_parts() -> None:
    with pytest.raises(InvalidIgluUriError, match="vendor"):
        SchemaKey("com acme", "x", "jsonschema", SchemaVer(1, 0, 0))
    with pytest.raises(InvalidIgluUriError, match="version must be a SchemaVer"):
        SchemaKey("com.acme", "x", "jsonschema", "1-0-0")  # type: ignore[arg-type]


def test_schema_key_from_self() -> None:
    self_block = {"vendor": "com.acme", "name": "x", "format": "jsonschema", "version": "1-2-3"}
    assert SchemaKey.from_self(self_block).uri == "iglu:com.acme/x/jsonschema/1-2-3"
    with pytest.raises(InvalidIgluUriError, match="'self' must be an object"):
        SchemaKey.from_self(["com.acme"])
    with pytest.raises(InvalidIgluUriError, match="needs string vendor"):
        SchemaKey.from_self({**self_block, "version": 1})
    with pytest.raises(InvalidIgluUriError, match="version"):
        SchemaKey.from_self({**self_block, "version": "1-0"})


# --- SchemaCriterion ---------------------------------------------------------------------------


def test_criterion_accessors_and_text() -> None:
    criterion = SchemaCriterion.parse("iglu:com.acme/event/jsonschema/1-*-*")
    assert (criterion.vendor, criterion.name, criterion.format) == (
        "com.acme",
        "event",
        "jsonschema",
    )
    assert (criterion.model, criterion.revision, criterion.addition) == (1, None, None)
    assert criterion.version_text == "1-*-*"
    assert str(criterion) == "iglu:com.acme/event/jsonschema/1-*-*"
    assert SchemaCriterion.for_model("com.acme", "event", 2) == SchemaCriterion(
        "com.acme", "event", "jsonschema", 2
    )


@pytest.mark.parametrize(
    ("criterion", "uri", "expected"),
    [
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acme/event/jsonschema/1-0-0", True),
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acme/event/jsonschema/1-5-9", True),
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acme/event/jsonschema/2-0-0", False),
        ("iglu:com.acme/event/jsonschema/1-0-*", "iglu:com.acme/event/jsonschema/1-0-7", True),
        ("iglu:com.acme/event/jsonschema/1-0-*", "iglu:com.acme/event/jsonschema/1-1-0", False),
        ("iglu:com.acme/event/jsonschema/1-*-0", "iglu:com.acme/event/jsonschema/1-3-0", True),
        ("iglu:com.acme/event/jsonschema/1-*-0", "iglu:com.acme/event/jsonschema/1-3-1", False),
        ("iglu:com.acme/event/jsonschema/*-*-*", "iglu:com.acme/event/jsonschema/9-9-9", True),
        ("iglu:com.acme/event/jsonschema/1-0-2", "iglu:com.acme/event/jsonschema/1-0-2", True),
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acme/other/jsonschema/1-0-0", False),
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acmf/event/jsonschema/1-0-0", False),
        ("iglu:com.acme/event/jsonschema/1-*-*", "iglu:com.acme/event/thrift/1-0-0", False),
    ],
)
def test_criterion_matching(criterion: str, uri: str, expected: bool) -> None:
    assert SchemaCriterion.parse(criterion).matches(SchemaKey.parse(uri)) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (5, "must be a string"),
        ("com.acme/event/jsonschema/1-*-*", "must start with 'iglu:'"),
        ("iglu:com.acme/event/1-*-*", "4 parts"),
        ("iglu:com.acme/ev ent/jsonschema/1-*-*", "name 'ev ent'"),
        ("iglu:com.acme/event/jsonschema/1-?-?", "may be '*'"),
        ("iglu:com.acme/event/jsonschema/0-*-*", "may be '*'"),
        ("iglu:com.acme/event/jsonschema/1-*", "may be '*'"),
        ("iglu:com.acme/event/jsonschema/1-01-*", "may be '*'"),
        ("iglu:" + "a" * MAX_URI_LENGTH, "longer than"),
    ],
)
def test_criterion_rejects_with_a_reason(text: object, reason: str) -> None:
    with pytest.raises(InvalidSchemaCriterionError, match="invalid schema criterion") as caught:
        SchemaCriterion.parse(text)
    assert reason in caught.value.reason


# --- Self-describing JSON ----------------------------------------------------------------------


def test_sdj_parse_and_back() -> None:
    document = {"schema": WEB_PAGE, "data": {"id": "x"}}
    sdj = SelfDescribingData.parse(document)
    assert sdj.key == SchemaKey.parse(WEB_PAGE)
    assert sdj.data == {"id": "x"}
    assert sdj.to_json() == document
    assert read_sdj(document) == (sdj.key, {"id": "x"})
    # Extra keys are ignored, as the Iglu client does.
    assert read_sdj({**document, "extra": 1})[1] == {"id": "x"}
    # data may be any JSON value, including null.
    assert read_sdj({"schema": WEB_PAGE, "data": None})[1] is None


@pytest.mark.parametrize(
    ("document", "reason", "code"),
    [
        ([], "must be an object, not array", "INVALID_DATA_PAYLOAD"),
        ("x", "must be an object, not string", "INVALID_DATA_PAYLOAD"),
        ({"data": {}}, "needs a 'schema' property", "INVALID_DATA_PAYLOAD"),
        ({"schema": WEB_PAGE}, "needs a 'data' property", "INVALID_DATA_PAYLOAD"),
        ({"schema": "web_page", "data": {}}, "must start with 'iglu:'", "INVALID_IGLUURI"),
        ({"schema": 5, "data": {}}, "must be a string", "INVALID_IGLUURI"),
    ],
)
def test_sdj_rejects_with_a_reason(document: object, reason: str, code: str) -> None:
    with pytest.raises(NotSelfDescribingError) as caught:
        SelfDescribingData.parse(document)
    assert reason in caught.value.reason
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "integer"),
        (1.5, "number"),
        ("s", "string"),
        ([], "array"),
        ({}, "object"),
        ((), "tuple"),
    ],
)
def test_json_type_names(value: object, name: str) -> None:
    assert json_type(value) == name
