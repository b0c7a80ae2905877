"""Validating self-describing JSON and tracker payloads: results, paths, bad-row rendering,
guard rails. Schemas are this file's own small versions of the protocol schemas."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.spec.decoding import Limits
from plowline.spec.errors import (
    InvalidSchemaError,
    ResolutionError,
    SchemaNotFoundError,
    SchemaRefCycleError,
)
from plowline.spec.iglu import SchemaCriterion, SchemaKey
from plowline.spec.registries import InMemoryRegistry, Registry
from plowline.spec.reports import (
    CriterionMismatchFailure,
    DataReport,
    InvalidSchemaFailure,
    NotIgluFailure,
    NotJsonFailure,
    ResolutionFailure,
    ValidationFailure,
    ValidationReport,
    iglu_error_json,
)
from plowline.spec.resolver import Resolver
from plowline.spec.validation import CONTEXTS, PAYLOAD_DATA, UNSTRUCT_EVENT, Validator

SP = "com.snowplowanalytics.snowplow"
PAYLOAD = f"iglu:{SP}/payload_data/jsonschema/1-0-4"
CONTEXTS_URI = f"iglu:{SP}/contexts/jsonschema/1-0-1"
UNSTRUCT_URI = f"iglu:{SP}/unstruct_event/jsonschema/1-0-0"
WEB_PAGE = f"iglu:{SP}/web_page/jsonschema/1-0-0"
PRODUCT = "iglu:com.acme/product/jsonschema/1-0-0"
CLICK = "iglu:com.acme/button_click/jsonschema/1-0-0"
PARAMS = "e p tv aid tna eid dtm stm url page refr uid duid sid vid res vp cookie lang cs tz"
JSON_PARAMS = "cx co ue_px ue_pr"
SDJ_URI_PATTERN = "^iglu:[a-zA-Z0-9-_.]+/[a-zA-Z0-9-_]+/[a-zA-Z0-9-_]+/[0-9]+-[0-9]+-[0-9]+$"
SDJ_SHAPE = {
    "type": "object",
    "properties": {"schema": {"type": "string", "pattern": SDJ_URI_PATTERN}, "data": {}},
    "required": ["schema", "data"],
    "additionalProperties": False,
}


def schema(uri: str, body: dict[str, Any]) -> dict[str, Any]:
    vendor, name, fmt, version = uri.removeprefix("iglu:").split("/")
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {"vendor": vendor, "name": name, "format": fmt, "version": version},
        **body,
    }


SCHEMAS = [
    schema(
        PAYLOAD,
        {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {p: {"type": "string"} for p in f"{PARAMS} {JSON_PARAMS}".split()},
                "required": ["tv", "p", "e"],
                "additionalProperties": False,
            },
        },
    ),
    schema(CONTEXTS_URI, {"type": "array", "items": SDJ_SHAPE}),
    schema(UNSTRUCT_URI, SDJ_SHAPE),
    schema(
        WEB_PAGE,
        {
            "type": "object",
            "properties": {"id": {"type": "string", "format": "uuid"}},
            "required": ["id"],
            "additionalProperties": False,
        },
    ),
    schema(
        PRODUCT,
        {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "maxLength": 10},
                "price": {"type": "number", "minimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["sku", "price"],
            "additionalProperties": False,
        },
    ),
    schema(
        CLICK,
        {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]},
    ),
]

PAGE_ID = "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f"
GOOD_CONTEXTS = {
    "schema": CONTEXTS_URI,
    "data": [
        {"schema": WEB_PAGE, "data": {"id": PAGE_ID}},
        {"schema": PRODUCT, "data": {"sku": "AB-1", "price": 9.5, "tags": ["new"]}},
    ],
}
GOOD_EVENT = {"schema": UNSTRUCT_URI, "data": {"schema": CLICK, "data": {"label": "buy"}}}


def b64(value: Any, *, url_safe: bool = True, padded: bool = False) -> str:
    raw = json.dumps(value).encode()
    text = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(raw).decode()
    return text if padded else text.rstrip("=")


def page_view(**params: str) -> dict[str, str]:
    item = {"e": "pv", "p": "web", "tv": "js-3.5.0", "url": "https://example.com/", "page": "Home"}
    item.update(params)
    return item


def payload(*items: dict[str, Any]) -> str:
    return json.dumps({"schema": PAYLOAD, "data": list(items)})


def make_validator(*extra: Registry, **kwargs: Any) -> Validator:
    registries = [InMemoryRegistry("fixtures", SCHEMAS), *extra]
    return Validator(Resolver(registries, include_spec_schemas=False), **kwargs)


@pytest.fixture
def validator() -> Validator:
    return make_validator()


def only(report: ValidationReport) -> Any:
    assert len(report.failures) == 1, report.lines()
    return report.failures[0]


# --- valid documents --------------------------------------------------------------------------


def test_a_page_view_with_entities_is_valid(validator: Validator) -> None:
    report = validator.validate(payload(page_view(cx=b64(GOOD_CONTEXTS))))
    assert report.valid, report.lines()
    assert report.schema_key == SchemaKey.parse(PAYLOAD)
    assert report.checked == 4  # payload_data, contexts, web_page, product
    assert str(report) == "valid (4 self-describing document(s) checked)"
    assert report.to_json() == {"valid": True, "schema": PAYLOAD, "checked": 4, "failures": []}


def test_every_json_field_form_is_understood(validator: Validator) -> None:
    items = [
        page_view(cx=b64(GOOD_CONTEXTS, url_safe=False, padded=True)),
        page_view(co=json.dumps(GOOD_CONTEXTS)),
        {"e": "ue", "p": "web", "tv": "py-1.1.0", "ue_px": b64(GOOD_EVENT, padded=True)},
        {"e": "ue", "p": "web", "tv": "py-1.1.0", "ue_pr": json.dumps(GOOD_EVENT)},
    ]
    report = validator.validate(payload(*items).encode())
    assert report.valid, report.lines()
    assert report.checked == 1 + 2 * 3 + 2 * 2


def test_any_self_describing_json_is_validated(validator: Validator) -> None:
    assert validator.validate(json.dumps({"schema": WEB_PAGE, "data": {"id": PAGE_ID}})).valid
    contexts = validator.validate(json.dumps(GOOD_CONTEXTS))
    assert (contexts.valid, contexts.checked) == (True, 3)
    event = validator.validate(json.dumps(GOOD_EVENT))
    assert (event.valid, event.checked) == (True, 2)


def test_already_decoded_documents(validator: Validator) -> None:
    assert validator.validate_parsed(GOOD_CONTEXTS).valid
    report = validator.validate_parsed({"schema": WEB_PAGE, "data": {}})
    assert only(report).reports[0].targets == ("id",)


# --- invalid documents: where and what --------------------------------------------------------


def test_missing_e_names_the_item_and_the_field(validator: Validator) -> None:
    item = page_view()
    del item["e"]
    report = validator.validate(payload(page_view(), item))
    failure = only(report)
    assert isinstance(failure, ValidationFailure)
    assert failure.location == "$"
    assert failure.schema_key == SchemaKey.parse(PAYLOAD)
    assert failure.reports == (
        DataReport(
            path="$.data[1]",
            data_path="$[1]",
            keyword="required",
            message='"e" is a required property',
            targets=("e",),
        ),
    )
    assert '$.data[1]: "e" is a required property [required]' in str(report)
    assert not report.valid


def test_unknown_parameters_and_non_string_values(validator: Validator) -> None:
    raw = json.dumps({"schema": PAYLOAD, "data": [{**page_view(), "vid": 3, "zz": "1"}]})
    failure = only(validator.validate(raw))
    by_keyword = {r.keyword: r for r in failure.reports}
    assert by_keyword["type"].path == "$.data[0].vid"
    assert by_keyword["type"].targets == ("string",)
    assert by_keyword["additionalProperties"].path == "$.data[0]"
    assert by_keyword["additionalProperties"].targets == ("zz",)


def test_an_invalid_entity_is_located_inside_cx(validator: Validator) -> None:
    contexts = {
        "schema": CONTEXTS_URI,
        "data": [
            {"schema": WEB_PAGE, "data": {"id": PAGE_ID}},
            {"schema": PRODUCT, "data": {"sku": "much-too-long-sku", "price": -1}},
        ],
    }
    failure = only(validator.validate(payload(page_view(cx=b64(contexts)))))
    assert isinstance(failure, ValidationFailure)
    assert failure.location == "$.data[0].cx.data[1]"
    assert failure.schema_key == SchemaKey.parse(PRODUCT)
    paths = sorted((r.path, r.data_path, r.keyword) for r in failure.reports)
    assert paths == [
        ("$.data[0].cx.data[1].data.price", "$.price", "minimum"),
        ("$.data[0].cx.data[1].data.sku", "$.sku", "maxLength"),
    ]


def test_an_invalid_event_is_located_inside_ue_pr(validator: Validator) -> None:
    event = {"schema": UNSTRUCT_URI, "data": {"schema": CLICK, "data": {"label": 5}}}
    item = {"e": "ue", "p": "web", "tv": "py", "ue_pr": json.dumps(event)}
    failure = only(validator.validate(payload(item)))
    assert failure.location == "$.data[0].ue_pr.data"
    assert failure.reports[0].path == "$.data[0].ue_pr.data.data.label"


def test_a_uuid_format_is_enforced(validator: Validator) -> None:
    bad = {"schema": CONTEXTS_URI, "data": [{"schema": WEB_PAGE, "data": {"id": "nope"}}]}
    failure = only(validator.validate(payload(page_view(co=json.dumps(bad)))))
    assert (failure.location, failure.reports[0].keyword) == ("$.data[0].co.data[0]", "format")


def test_cx_that_is_not_json(validator: Validator) -> None:
    report = validator.validate(payload(page_view(cx="bm90IGpzb24"), page_view(co="")))
    first, second = report.failures
    assert isinstance(first, NotJsonFailure)
    assert (first.location, first.field, first.value) == ("$.data[0].cx", "cx", "bm90IGpzb24")
    assert "invalid JSON" in first.error
    assert isinstance(second, NotJsonFailure)
    assert second.location == "$.data[1].co"


def test_cx_holding_the_wrong_wrapper_is_a_criterion_mismatch(validator: Validator) -> None:
    failure = only(validator.validate(payload(page_view(cx=b64(GOOD_EVENT)))))
    assert isinstance(failure, CriterionMismatchFailure)
    assert failure.location == "$.data[0].cx"
    assert failure.criterion == CONTEXTS
    assert failure.badrow_message() == {
        "schemaKey": UNSTRUCT_URI,
        "schemaCriterion": f"iglu:{SP}/contexts/jsonschema/1-0-*",
    }
    wrong_event = {"schema": CONTEXTS_URI, "data": []}
    failure = only(validator.validate(payload({**page_view(), "ue_pr": json.dumps(wrong_event)})))
    assert isinstance(failure, CriterionMismatchFailure)
    assert failure.criterion == UNSTRUCT_EVENT


def test_an_unknown_schema_is_a_resolution_failure(validator: Validator) -> None:
    contexts = {
        "schema": CONTEXTS_URI,
        "data": [{"schema": "iglu:com.acme/nope/jsonschema/1-0-0", "data": {}}],
    }
    report = validator.validate(payload(page_view(cx=b64(contexts))))
    failure = only(report)
    assert isinstance(failure, ResolutionFailure)
    assert failure.location == "$.data[0].cx.data[0]"
    assert failure.error.lookup_history["fixtures"].errors == (SchemaNotFoundError(),)
    message = failure.badrow_message()
    assert message["schemaKey"] == "iglu:com.acme/nope/jsonschema/1-0-0"
    assert message["error"]["error"] == "ResolutionError"
    assert message["error"]["lookupHistory"][0]["errors"] == [{"error": "NotFound"}]
    assert "fixtures: NotFound (1 attempt(s))" in str(report)


def test_an_invalid_iglu_uri_is_not_iglu(validator: Validator) -> None:
    contexts = {
        "schema": CONTEXTS_URI,
        "data": [{"schema": "iglu:com.acme/x/jsonschema/1-0", "data": {}}],
    }
    report = validator.validate(payload(page_view(cx=b64(contexts))))
    kinds = {type(f): f for f in report.failures}
    not_iglu = kinds[NotIgluFailure]
    assert isinstance(not_iglu, NotIgluFailure)
    assert (not_iglu.location, not_iglu.code) == ("$.data[0].cx.data[0]", "INVALID_IGLUURI")
    assert "invalid Iglu URI" in not_iglu.error
    assert not_iglu.badrow_message() == {
        "json": {"schema": "iglu:com.acme/x/jsonschema/1-0", "data": {}},
        "error": "INVALID_IGLUURI",
    }
    # The contexts schema's own pattern also reports it.
    assert kinds[ValidationFailure].location == "$.data[0].cx"


def test_items_that_are_not_objects_are_reported_once(validator: Validator) -> None:
    report = validator.validate(json.dumps({"schema": PAYLOAD, "data": [5, page_view()]}))
    failure = only(report)
    assert failure.reports[0].path == "$.data[0]"
    assert failure.reports[0].keyword == "type"


# --- guard rails ------------------------------------------------------------------------------


def test_malformed_json(validator: Validator) -> None:
    failure = only(validator.validate('{"schema": '))
    assert isinstance(failure, NotJsonFailure)
    assert (failure.location, failure.field, failure.value) == ("$", None, '{"schema": ')
    assert failure.badrow_message() == {
        "field": None,
        "value": '{"schema": ',
        "error": failure.error,
    }
    assert only(validator.validate(b"\xff")).location == "$"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "must be an object, not array"),
        ({"data": {}}, "needs a 'schema' property"),
        ({"schema": "web_page", "data": {}}, "must start with 'iglu:'"),
    ],
)
def test_not_self_describing(validator: Validator, document: Any, reason: str) -> None:
    failure = only(validator.validate(json.dumps(document)))
    assert isinstance(failure, NotIgluFailure)
    assert reason in failure.error
    assert failure.to_json()["error"] == failure.error


def test_depth_limit_default_and_configurable(validator: Validator) -> None:
    deep = {"schema": CLICK, "data": {"label": "x", "deep": json.loads("[" * 38 + "]" * 38)}}
    assert validator.validate(json.dumps(deep)).valid  # 40 levels in all
    deeper = {"schema": CLICK, "data": {"label": "x", "deep": json.loads("[" * 39 + "]" * 39)}}
    failure = only(validator.validate(json.dumps(deeper)))
    assert isinstance(failure, NotJsonFailure)
    assert "maximum depth of 40" in failure.error
    assert make_validator(limits=Limits(max_depth=41)).validate(json.dumps(deeper)).valid
    assert not make_validator(limits=Limits(max_depth=5)).validate(json.dumps(deep)).valid


def test_deep_json_inside_cx_is_limited_too(validator: Validator) -> None:
    report = validator.validate(payload(page_view(cx=b64(json.loads("[" * 60 + "]" * 60)))))
    failure = only(report)
    assert (type(failure), failure.location) == (NotJsonFailure, "$.data[0].cx")


def test_absurd_nesting_never_crashes(validator: Validator) -> None:
    assert not validator.validate("[" * 200_000 + "]" * 200_000).valid
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert not validator.validate_parsed({"schema": CLICK, "data": deep}).valid
    loop: dict[str, Any] = {"schema": CLICK}
    loop["data"] = loop
    assert not validator.validate_parsed(loop).valid


def test_size_limit(validator: Validator) -> None:
    small = make_validator(limits=Limits(max_bytes=2000))
    big = payload(page_view(page="x" * 3000))
    failure = only(small.validate(big))
    assert "more than the maximum of 2000 bytes" in failure.error
    assert len(failure.value) < len(big)  # quoted, not copied whole
    # A decoded field cannot outgrow the text it came in, but an already decoded document can
    # carry one: the field is limited on its own.
    contexts = {"schema": CONTEXTS_URI, "data": [{"schema": CLICK, "data": {"label": "x" * 3000}}]}
    document = {"schema": PAYLOAD, "data": [page_view(cx=b64(contexts))]}
    report = small.validate_parsed(document)
    assert only(report).location == "$.data[0].cx"
    assert "more than the maximum of 2000 bytes" in only(report).error


def test_a_schema_with_a_ref_cycle_is_an_invalid_schema() -> None:
    looping = schema("iglu:com.acme/loop/jsonschema/1-0-0", {"allOf": [{"$ref": "#"}]})
    v = make_validator(InMemoryRegistry("bad", [looping]))
    report = v.validate(json.dumps({"schema": "iglu:com.acme/loop/jsonschema/1-0-0", "data": {}}))
    failure = only(report)
    assert isinstance(failure, InvalidSchemaFailure)
    assert "reference loop" in failure.issues[0][1]
    assert iglu_error_json(failure) == {
        "error": "ValidationError",
        "schemaIssues": [{"path": failure.issues[0][0], "message": failure.issues[0][1]}],
    }
    assert "is not usable" in str(report)
    # The broken schema is compiled once and reported every time.
    assert not v.validate(
        json.dumps({"schema": "iglu:com.acme/loop/jsonschema/1-0-0", "data": 1})
    ).valid
    for _ in range(3):  # served from the cache, as a fresh error of the same kind each time
        with pytest.raises(SchemaRefCycleError) as caught:
            v.compiled(SchemaKey.parse("iglu:com.acme/loop/jsonschema/1-0-0"))
        assert isinstance(caught.value, InvalidSchemaError)


def test_unsupported_python_values_are_reported_not_raised(validator: Validator) -> None:
    report = validator.validate_parsed({"schema": CLICK, "data": {"label": object()}})
    assert isinstance(only(report), InvalidSchemaFailure)
    assert "validator failed" in only(report).issues[0][1]


def test_reports_are_bounded(validator: Validator) -> None:
    items = [{"tv": "x", "p": "web"} for _ in range(500)]
    failure = only(make_validator(max_reports=7).validate(payload(*items)))
    assert len(failure.reports) == 7


def test_long_messages_are_cut(validator: Validator) -> None:
    failure = only(validator.validate(json.dumps({"schema": CLICK, "data": ["y" * 5000]})))
    assert len(failure.reports[0].message) < 600


def test_expected_top_level_schema(validator: Validator) -> None:
    page = json.dumps({"schema": WEB_PAGE, "data": {"id": PAGE_ID}})
    failure = only(validator.validate(page, expect=PAYLOAD_DATA))
    assert isinstance(failure, CriterionMismatchFailure)
    assert failure.location == "$"
    custom = SchemaCriterion.parse(f"iglu:{SP}/web_page/jsonschema/1-*-*")
    assert validator.validate(page, expect=custom).valid
    assert validator.validate_parsed(json.loads(page), expect=custom).valid


# --- rendering --------------------------------------------------------------------------------


def test_bad_row_messages_match_schema_violations(validator: Validator) -> None:
    item = page_view()
    del item["e"]
    report = validator.validate(payload(item))
    assert report.badrow_messages() == [
        {
            "schemaKey": PAYLOAD,
            "error": {
                "error": "ValidationError",
                "dataReports": [
                    {
                        "message": '$[0]: "e" is a required property',
                        "path": "$[0]",
                        "keyword": "required",
                        "targets": ["e"],
                    }
                ],
            },
        }
    ]
    rendered = report.to_json()
    assert rendered["valid"] is False
    (failure,) = rendered["failures"]
    assert failure["kind"] == "ValidationError"
    assert failure["location"] == "$"
    assert failure["reports"][0]["path"] == "$.data[0]"
    assert failure["badRowMessage"] == report.badrow_messages()[0]
    assert iglu_error_json(report.failures[0]) == report.badrow_messages()[0]["error"]
    assert iglu_error_json(NotJsonFailure("$", None, None, "x")) is None


# --- API pieces and caching -------------------------------------------------------------------


def test_validate_data_and_is_valid_data(validator: Validator) -> None:
    key = SchemaKey.parse(PRODUCT)
    assert validator.validate_data(key, {"sku": "a", "price": 1}) == ()
    assert validator.is_valid_data(key, {"sku": "a", "price": 1})
    (report,) = validator.validate_data(key, {"sku": "a"}, location="$.x")
    assert (report.path, report.data_path, report.targets) == ("$.x.data", "$", ("price",))
    assert not validator.is_valid_data(key, {})
    with pytest.raises(ResolutionError):
        validator.validate_data(SchemaKey.parse("iglu:com.acme/none/jsonschema/1-0-0"), {})


class CountingRegistry(InMemoryRegistry):
    def __init__(self) -> None:
        super().__init__("counting", SCHEMAS)
        self.calls = 0

    def lookup(self, key: SchemaKey) -> dict[str, Any]:
        self.calls += 1
        return dict(super().lookup(key))  # a new object each time, like a fresh fetch


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_validators_are_compiled_once_and_refreshed_after_the_ttl() -> None:
    clock = FakeClock()
    registry = CountingRegistry()
    resolver = Resolver([registry], include_spec_schemas=False, cache_ttl=60, clock=clock)
    v = Validator(resolver)
    key = SchemaKey.parse(PRODUCT)
    first = v.compiled(key)
    for _ in range(5):
        assert v.compiled(key) is first
    assert registry.calls == 1
    clock.now += 61
    second = v.compiled(key)
    assert second is not first  # a new schema object was served: compiled again
    assert registry.calls == 2
    assert v.compiled(key) is second


def test_compiled_cache_is_bounded() -> None:
    v = make_validator(compiled_cache_size=2)
    for uri in (PRODUCT, CLICK, WEB_PAGE, PRODUCT):
        v.compiled(SchemaKey.parse(uri))
    assert len(v._compiled) == 2


def test_default_validator_uses_the_spec_schemas() -> None:
    v = Validator()
    assert v.resolver.registries[0].name == "Plowline spec (embedded)"
    assert v.limits == Limits()


# --- never crash ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["schema", "data", "e", "p", "tv", "cx", "co", "ue_pr", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
uris = st.sampled_from([PAYLOAD, CONTEXTS_URI, UNSTRUCT_URI, WEB_PAGE, PRODUCT, CLICK, "iglu:x"])


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_report(raw: bytes) -> None:
    report = make_validator().validate(raw)
    assert isinstance(report, ValidationReport)


@settings(max_examples=300)
@given(uris, json_values)
def test_any_sdj_gives_a_report(uri: str, data: Any) -> None:
    report = make_validator().validate(json.dumps({"schema": uri, "data": data}))
    assert isinstance(report, ValidationReport)
    for failure in report.failures:
        json.dumps(failure.to_json())  # every failure renders as JSON


@settings(max_examples=200)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([*JSON_PARAMS.split(), "e", "p", "tv"]), st.text(max_size=30)
        )
    )
)
def test_any_payload_items_give_a_report(items: list[dict[str, str]]) -> None:
    report = make_validator().validate(json.dumps({"schema": PAYLOAD, "data": items}))
    assert isinstance(report, ValidationReport)
    assert report.lines() or report.valid


def test_one_validator_serves_many_threads() -> None:
    v = make_validator(compiled_cache_size=3)
    good = payload(page_view(cx=b64(GOOD_CONTEXTS)))
    item = page_view()
    del item["e"]
    bad = payload(item)

    def work(i: int) -> tuple[bool, bool]:
        if i % 7 == 0:
            v.resolver.clear_cache()
        return v.validate(good).valid, v.validate(bad).valid

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(400)))
    assert results == [(True, False)] * 400
