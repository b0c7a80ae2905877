"""plowline.spec.tables: accessors over the real tables and every rejection rule on copies."""

from __future__ import annotations

import copy
import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.spec import tables
from plowline.spec.data import data_root
from plowline.spec.errors import SpecError
from plowline.spec.tables import SpecTableError, UnknownEntryError

PARAMS = Path("protocol", "parameters.yaml")
FIELDS = Path("enriched", "fields.yaml")


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A private copy of the two table files, safe to mutate."""
    for rel in (PARAMS, FIELDS):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_root() / rel, tmp_path / rel)
    return tmp_path


def _edit(root: Path, rel: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = root / rel
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _param(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["parameters"] if p["name"] == name)


# --- the real tables --------------------------------------------------------------------------


def test_counts_of_the_real_tables() -> None:
    assert len(tables.parameters()) == 87
    assert len(tables.event_types()) == 8
    assert len(tables.enriched_fields()) == tables.ENRICHED_FIELD_COUNT == 131


def test_event_types_in_order_with_their_schemas() -> None:
    codes = [e.code for e in tables.event_types()]
    assert codes == ["pv", "pp", "se", "ev", "ue", "tr", "ti", "ad"]
    assert tables.event_type("se").schema_uri == "iglu:com.google.analytics/event/jsonschema/1-0-0"
    assert tables.event_type("ev").event == "struct"
    assert tables.event_type("ev").legacy
    assert tables.event_type("ue").schema_uri is None
    assert tables.event_type("ad").schema_uri is None
    tr = tables.event_type("tr")
    assert tr.schema_uri == "iglu:com.snowplowanalytics.snowplow/transaction/jsonschema/1-0-0"


def test_parameter_lookup() -> None:
    cx = tables.parameter("cx")
    assert cx.fields == ("contexts",)
    assert cx.type == "base64url_json"
    assert cx.encoding == "base64url_json"
    assert cx.schema_criterion == "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*"
    assert cx.applies_to_all
    assert cx.event_types == ("pv", "pp", "se", "ev", "ue", "tr", "ti", "ad")
    assert tables.parameter("res").fields == ("dvce_screenwidth", "dvce_screenheight")
    assert tables.parameter("tv").max_length == 100
    assert tables.parameter("ue_pr").event_types == ("ue",)


def test_unknown_names_raise_lookup_errors() -> None:
    for call in (
        lambda: tables.parameter("nope"),
        lambda: tables.event_type("xx"),
        lambda: tables.enriched_field("nope"),
        lambda: tables.field_index("nope"),
    ):
        with pytest.raises(UnknownEntryError) as info:
            call()
        assert isinstance(info.value, LookupError)
        assert isinstance(info.value, SpecError)


def test_requirements_follow_the_protocol() -> None:
    by_requirement: dict[str, set[str]] = {}
    for p in tables.parameters():
        by_requirement.setdefault(p.requirement, set()).add(p.name)
    assert by_requirement["required"] == {"e", "tv", "p"}
    assert by_requirement["querystring-only"] == {"cv", "u"}
    assert by_requirement["ignored"] == {
        "ue_na", "ctype", "mac", "sa", "sn", "st", "sp", "ad_ba", "ad_ca", "ad_ad", "ad_uid",
    }  # fmt: skip
    features = {"f_pdf", "f_fla", "f_java", "f_dir", "f_qt", "f_realp", "f_wma", "f_gears", "f_ag"}
    assert features <= by_requirement["deprecated"]
    assert all(tables.parameter(f).type == "bool_byte" for f in features)


def test_legacy_aliases_point_at_current_names() -> None:
    for legacy in ("ca", "ac", "la", "pr", "va"):
        p = tables.parameter(f"ev_{legacy}")
        assert p.alias_of == f"se_{legacy}"
        assert p.since is None
        assert not p.in_payload_data
        assert p.event_types == ("ev",)
    assert tables.parameter("ti_na").alias_of == "ti_nm"
    assert tables.parameter("ti_na").in_payload_data


def test_payload_data_versions() -> None:
    assert tables.parameter("ttm").since == "1-0-4"
    assert not tables.parameter("ttm").in_payload_data_version("1-0-3")
    assert tables.parameter("ttm").in_payload_data_version("1-0-4")
    assert tables.parameter("tnuid").in_payload_data_version("1-0-2")
    assert not tables.parameter("ua").in_payload_data_version("1-0-0")
    assert not tables.parameter("cv").in_payload_data_version("1-0-4")
    in_104 = [p.name for p in tables.parameters() if p.in_payload_data_version("1-0-4")]
    assert len(in_104) == 80


def test_enriched_field_accessors() -> None:
    assert tables.field_names()[:3] == ("app_id", "platform", "etl_tstamp")
    assert tables.field_names()[-1] == "true_tstamp"
    assert tables.field_index("contexts") == 52
    assert tables.field_index("derived_contexts") == 122
    se_value = tables.enriched_field("se_value")
    assert (se_value.type, se_value.analytics_sdk, se_value.params) == (
        "decimal",
        "Double",
        ("se_va", "ev_va"),
    )
    page_url = tables.enriched_field("page_url")
    assert (page_url.max_length, page_url.enrich_limit, page_url.length_limit) == (
        4096,
        10000,
        10000,
    )
    assert tables.enriched_field("app_id").length_limit == 255
    assert tables.enriched_field("geo_city").enrichment == "ip_lookups"
    assert tables.enriched_field("contexts").postgres is None
    assert tables.enriched_field("event_id").postgres == "UUID NOT NULL"


def test_only_four_fields_are_not_nullable() -> None:
    required = {f.name for f in tables.enriched_fields() if not f.nullable}
    assert required == {"collector_tstamp", "event_id", "v_collector", "v_etl"}


def test_every_index_equals_its_position() -> None:
    assert [f.index for f in tables.enriched_fields()] == list(range(131))


def test_dataclasses_are_frozen() -> None:
    p = tables.parameter("e")
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


# --- rejection rules on copies ------------------------------------------------------------------


def test_copy_loads_like_the_original(spec_copy: Path) -> None:
    assert tables.parameters(spec_copy) == tables.parameters()
    assert tables.enriched_fields(spec_copy) == tables.enriched_fields()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecTableError, match="cannot read"):
        tables.parameters(tmp_path)
    with pytest.raises(SpecTableError, match="cannot read"):
        tables.enriched_fields(tmp_path)


def test_not_yaml(spec_copy: Path) -> None:
    (spec_copy / PARAMS).write_text("parameters: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecTableError, match="not valid YAML"):
        tables.parameters(spec_copy)


def test_top_level_must_be_a_mapping(spec_copy: Path) -> None:
    (spec_copy / FIELDS).write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecTableError, match="top level must be a mapping"):
        tables.enriched_fields(spec_copy)


def test_duplicate_yaml_keys_are_refused(spec_copy: Path) -> None:
    path = spec_copy / PARAMS
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - name: eid\n", "  - name: eid\n    name: eid2\n", 1))
    with pytest.raises(SpecTableError, match="duplicate mapping key 'name'"):
        tables.parameters(spec_copy)


def _set(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _param(doc, name)[key] = value

    return change


def _drop(name: str, key: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        del _param(doc, name)[key]

    return change


def _duplicate_param(doc: dict[str, Any]) -> None:
    doc["parameters"].append(dict(_param(doc, "aid")))


def _unknown_code(doc: dict[str, Any]) -> None:
    _param(doc, "se_ca")["event_types"] = ["se", "zz"]


def _partial_schema(doc: dict[str, Any]) -> None:
    doc["event_types"][0]["vendor"] = None


def _unknown_type(doc: dict[str, Any]) -> None:
    doc["types"]["mystery"] = "what"


def _undescribed_type(doc: dict[str, Any]) -> None:
    del doc["types"]["dims"]


def _no_parameters(doc: dict[str, Any]) -> None:
    doc["parameters"] = []


def _extra_top_key(doc: dict[str, Any]) -> None:
    doc["extra"] = 1


PARAMETER_MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown key": (_set("aid", "colour", "red"), "unknown key"),
    "missing key": (_drop("aid", "description"), "missing key 'description'"),
    "max_length not an int": (_set("aid", "max_length", "ten"), "'max_length' must be"),
    "max_length negative": (_set("aid", "max_length", -1), "'max_length' must be"),
    "bool is not an int": (_set("aid", "max_length", True), "'max_length' must be"),
    "bad type": (_set("aid", "type", "text"), "'type' must be one of"),
    "bad requirement": (_set("aid", "requirement", "maybe"), "'requirement' must be one of"),
    "bad since": (_set("aid", "since", "1-0-9"), "'since' must be"),
    "fields not a list": (_set("aid", "fields", "app_id"), "'fields' must be a list"),
    "field listed twice": (_set("res", "fields", ["doc_width", "doc_width"]), "lists a name twice"),
    "empty name": (_set("aid", "name", ""), "'name' must be a non-empty string"),
    "unknown event code": (_unknown_code, "unknown event type code"),
    "code listed twice": (_set("se_ca", "event_types", ["se", "se"]), "lists a code twice"),
    "event_types not all": (_set("aid", "event_types", "every"), "'event_types' must be"),
    "duplicate parameter": (_duplicate_param, "parameter 'aid' appears twice"),
    "unknown alias target": (_set("ev_ca", "alias_of", "zz_ca"), "alias_of names unknown"),
    "plain json": (_set("cx", "encoding", "plain"), "does not match type"),
    "json encoding of base64": (_set("cx", "encoding", "json"), "does not match type"),
    "encoded string": (_set("aid", "encoding", "json"), "does not match type"),
    "criterion missing": (_drop("co", "schema_criterion"), "schema_criterion is required"),
    "criterion on plain": (_set("aid", "schema_criterion", "iglu:a/b/jsonschema/1-*-*"), "only"),
    "querystring-only with since": (_set("cv", "since", "1-0-0"), "querystring-only"),
    "partial event schema": (_partial_schema, "all set or all null"),
    "unknown type": (_unknown_type, "unknown type 'mystery'"),
    "undescribed type": (_undescribed_type, "no description for dims"),
    "empty parameters": (_no_parameters, "'parameters' must be a non-empty list"),
    "extra top-level key": (_extra_top_key, "unknown key"),
}


@pytest.mark.parametrize("case", sorted(PARAMETER_MUTATIONS))
def test_malformed_parameters_are_rejected(spec_copy: Path, case: str) -> None:
    change, message = PARAMETER_MUTATIONS[case]
    _edit(spec_copy, PARAMS, change)
    with pytest.raises(SpecTableError, match=message) as info:
        tables.parameters(spec_copy)
    assert str(spec_copy / PARAMS) in str(info.value)


def _field(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["fields"] if f["name"] == name)


def _swap_first_two(doc: dict[str, Any]) -> None:
    doc["fields"][0], doc["fields"][1] = doc["fields"][1], doc["fields"][0]


def _duplicate_field(doc: dict[str, Any]) -> None:
    copy = dict(doc["fields"][0])
    copy["index"] = len(doc["fields"])
    doc["fields"].append(copy)


def _set_field(name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        _field(doc, name)[key] = value

    return change


FIELD_MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "index out of order": (_swap_first_two, "has index 1 but is at position 0"),
    "duplicate field": (_duplicate_field, "field 'app_id' appears twice"),
    "bad type": (_set_field("app_id", "type", "text"), "'type' must be one of"),
    "max_length on an int": (_set_field("txn_id", "max_length", 10), "only applies to strings"),
    "enrich_limit alone": (_set_field("txn_id", "enrich_limit", 10), "enrich_limit needs"),
    "enrichment on tracker field": (_set_field("app_id", "enrichment", "x"), "only for fields"),
    "bad source": (_set_field("app_id", "source", "magic"), "'source' must be one of"),
    "nullable not bool": (_set_field("app_id", "nullable", "yes"), "'nullable' must be"),
    "index not int": (_set_field("app_id", "index", "0"), "'index' must be"),
    "unknown key": (_set_field("app_id", "colour", "red"), "unknown key"),
}


@pytest.mark.parametrize("case", sorted(FIELD_MUTATIONS))
def test_malformed_fields_are_rejected(spec_copy: Path, case: str) -> None:
    change, message = FIELD_MUTATIONS[case]
    _edit(spec_copy, FIELDS, change)
    with pytest.raises(SpecTableError, match=message):
        tables.enriched_fields(spec_copy)


def test_an_edited_file_is_read_again(spec_copy: Path) -> None:
    assert tables.parameter("aid", spec_copy).description == "Application id."
    path = spec_copy / PARAMS
    path.write_text(path.read_text().replace("Application id.", "The app."), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert tables.parameter("aid", spec_copy).description == "The app."


# --- property: any document either loads or raises SpecTableError ---------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["name", "group", "fields", "type", "max_length", "encoding", "event_types", "since"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder reused by every hypothesis example (caches are cleared per example)."""
    root = tmp_path_factory.mktemp("scratch")
    for rel in (PARAMS, FIELDS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    return root


_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _base_parameters() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((data_root() / PARAMS).read_text(encoding="utf-8"))
    return doc


def _fresh() -> None:
    tables._load_protocol.cache_clear()
    tables._load_fields.cache_clear()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from([*KEYS, "requirement", "alias_of", "x"]), value=json_values)
def test_property_parameter_values_never_crash(scratch: Path, key: str, value: Any) -> None:
    doc = copy.deepcopy(_base_parameters())
    doc["parameters"][3][key] = value
    (scratch / PARAMS).write_text(yaml.dump(doc, Dumper=_DUMPER), encoding="utf-8")
    _fresh()
    try:
        result = tables.parameters(scratch)
    except SpecTableError:
        return
    assert len(result) == 87


@settings(max_examples=60, deadline=None)
@given(document=json_values)
def test_property_any_yaml_document_never_crashes(scratch: Path, document: Any) -> None:
    for rel in (PARAMS, FIELDS):
        (scratch / rel).write_text(yaml.safe_dump(document), encoding="utf-8")
    _fresh()
    with pytest.raises(SpecTableError):
        tables.parameters(scratch)
    with pytest.raises(SpecTableError):
        tables.enriched_fields(scratch)
