"""plowline.spec.checks: the real spec is consistent, and every rule catches its failure."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from plowline.spec import checks
from plowline.spec.data import data_root

WEB_PAGE = Path("schemas/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
META = Path("schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0")
PAYLOAD_104 = Path("schemas/com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4")
PARAMS = Path("protocol/parameters.yaml")
FIELDS = Path("enriched/fields.yaml")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    for folder in ("protocol", "enriched", "delivery", "vectors", "schemas"):
        shutil.copytree(data_root() / folder, root / folder)
    return root


@pytest.fixture
def spec(pristine: Path, tmp_path: Path) -> Path:
    """A private, mutable copy of the spec data."""
    root = tmp_path / "spec"
    shutil.copytree(pristine, root)
    return root


def _edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _param(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["parameters"] if p["name"] == name)


def _field(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["fields"] if f["name"] == name)


def _only(problems: list[str], *needles: str) -> None:
    """At least one problem mentions every needle."""
    assert problems, "expected a problem"
    assert any(all(n in p for n in needles) for p in problems), problems


# --- the real data ------------------------------------------------------------------------------


def test_the_spec_is_consistent() -> None:
    assert checks.run_all() == []


def test_copy_is_consistent(spec: Path) -> None:
    assert checks.run_all(spec) == []


def test_main_reports_ok(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert checks.main(["--root", str(spec)]) == 0
    assert "spec OK" in capsys.readouterr().err


def test_main_prints_problems_and_fails(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (spec / "enriched" / "fields.md").unlink()
    assert checks.main(["--root", str(spec)]) == 1
    captured = capsys.readouterr()
    assert "fields.md: missing" in captured.out
    assert "1 problem(s)" in captured.err


# --- schemas ----------------------------------------------------------------------------------


def test_schemas_folder_missing(spec: Path) -> None:
    shutil.rmtree(spec / "schemas")
    _only(checks.check_schemas(spec), "schemas/: missing")


def test_schemas_folder_empty(spec: Path) -> None:
    shutil.rmtree(spec / "schemas")
    (spec / "schemas").mkdir()
    _only(checks.check_schemas(spec), "holds no schema files")


def test_schema_not_json(spec: Path) -> None:
    (spec / WEB_PAGE).write_text("{not json")
    _only(checks.check_schemas(spec), "web_page/jsonschema/1-0-0", "not valid JSON")


def test_schema_with_duplicate_keys(spec: Path) -> None:
    (spec / WEB_PAGE).write_text('{"type": "object", "type": "string"}')
    _only(checks.check_schemas(spec), "web_page", "duplicate key 'type'")


def test_schema_not_an_object(spec: Path) -> None:
    (spec / WEB_PAGE).write_text("[1, 2]")
    _only(checks.check_schemas(spec), "web_page", "must be a JSON object")


def test_schema_not_draft4(spec: Path) -> None:
    _edit_json(spec / WEB_PAGE, lambda d: d.update(type=5))
    problems = checks.check_schemas(spec)
    _only(problems, "web_page", "not a valid draft-04 JSON Schema")
    _only(problems, "web_page", "fails the self-describing meta-schema")


def test_schema_without_self_fails_meta_schema(spec: Path) -> None:
    _edit_json(spec / WEB_PAGE, lambda d: d.pop("self"))
    problems = checks.check_schemas(spec)
    _only(problems, "web_page", "fails the self-describing meta-schema", "'self' is a required")
    _only(problems, "web_page", "'self' is None")


def test_schema_self_must_equal_its_path(spec: Path) -> None:
    _edit_json(spec / WEB_PAGE, lambda d: d["self"].update(version="1-0-1"))
    _only(checks.check_schemas(spec), "web_page/jsonschema/1-0-0", "'self' is")


def test_schema_needs_self_desc_dollar_schema(spec: Path) -> None:
    _edit_json(
        spec / WEB_PAGE, lambda d: d.update({"$schema": "http://json-schema.org/draft-04/schema#"})
    )
    _only(checks.check_schemas(spec), "web_page", "'$schema' must be")


def test_schema_outside_the_iglu_layout(spec: Path) -> None:
    stray = spec / "schemas" / "com.acme" / "stray.json"
    stray.parent.mkdir()
    stray.write_text("{}")
    _only(checks.check_schemas(spec), "schemas/com.acme/stray.json", "not in the Iglu layout")


def test_top_level_readme_is_allowed(spec: Path) -> None:
    (spec / "schemas" / "NOTES.md").write_text("# notes\n")
    assert checks.check_schemas(spec) == []


def test_meta_schema_missing_still_checks_the_rest(spec: Path) -> None:
    (spec / META).unlink()
    _edit_json(spec / WEB_PAGE, lambda d: d.update(type=5))
    problems = checks.check_schemas(spec)
    _only(problems, "self-desc/schema/jsonschema/1-0-0", "missing")
    _only(problems, "web_page", "not a valid draft-04")


def test_meta_schema_unusable(spec: Path) -> None:
    (spec / META).write_text("nope")
    _only(checks.check_schemas(spec), "the meta-schema is unusable")


# --- tables -----------------------------------------------------------------------------------


def test_malformed_parameters_file(spec: Path) -> None:
    (spec / PARAMS).write_text("parameters: [\n")
    problems = checks.check_tables(spec)
    _only(problems, "protocol/parameters.yaml", "not valid YAML")
    assert not any(str(spec) in p for p in problems), "paths are shown relative to the root"


def test_parameter_with_unknown_event_type(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "se_ca").update(event_types=["zz"]))
    _only(checks.check_tables(spec), "parameters.yaml", "unknown event type code(s) zz")


def test_fields_count_must_be_131(spec: Path) -> None:
    _edit_yaml(spec / FIELDS, lambda d: d["fields"].pop())
    problems = checks.check_tables(spec)
    _only(problems, "enriched/fields.yaml", "130 fields")
    _only(problems, "field 130 must be 'true_tstamp'")


def test_fields_order_anchor(spec: Path) -> None:
    def swap(doc: dict[str, Any]) -> None:
        f = doc["fields"]
        f[52], f[53] = f[53], f[52]
        f[52]["index"], f[53]["index"] = 52, 53

    _edit_yaml(spec / FIELDS, swap)
    _only(checks.check_tables(spec), "field 52 must be 'contexts', found 'se_category'")


def test_parameter_names_unknown_field(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "aid").update(fields=["application"]))
    problems = checks.check_tables(spec)
    _only(problems, "parameter 'aid' names unknown enriched field 'application'")
    _only(problems, "parameter 'aid' does not list field 'app_id'")


def test_field_names_unknown_parameter(spec: Path) -> None:
    _edit_yaml(spec / FIELDS, lambda d: _field(d, "app_id").update(params=["aid", "appid"]))
    _only(checks.check_tables(spec), "field 'app_id' names unknown parameter 'appid'")


def test_field_missing_back_reference(spec: Path) -> None:
    _edit_yaml(spec / FIELDS, lambda d: _field(d, "se_category").update(params=["se_ca"]))
    _only(checks.check_tables(spec), "field 'se_category' does not list parameter 'ev_ca'")


def test_max_length_mismatch(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "tv").update(max_length=99))
    _only(checks.check_tables(spec), "parameter 'tv' max_length 99 differs")


def test_alias_must_match_its_target(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "ev_va").update(type="string"))
    _only(checks.check_tables(spec), "alias 'ev_va' must set the same fields")


def test_since_must_match_payload_data(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "ua").update(since="1-0-0"))
    _only(checks.check_tables(spec), "'ua' claims payload_data 1-0-0, which lacks it")


def test_payload_data_property_without_parameter(spec: Path) -> None:
    _edit_json(
        spec / PAYLOAD_104,
        lambda d: d["items"]["properties"].update(zz={"type": "string"}),
    )
    _only(checks.check_tables(spec), "payload_data 1-0-4 declares 'zz'")


def test_required_must_match_payload_data(spec: Path) -> None:
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "eid").update(requirement="required"))
    _only(checks.check_tables(spec), "required parameters", "differ from payload_data 1-0-4")


def test_unreadable_payload_data(spec: Path) -> None:
    (spec / PAYLOAD_104).write_text('{"items": 3}')
    _only(checks.check_tables(spec), "payload_data/jsonschema/1-0-4", "cannot read its item")


# --- vectors ----------------------------------------------------------------------------------

TRACKER = Path("vectors/tracker/tracker-page-view-get-plain.yaml")
ENRICH = Path("vectors/enrich/enrich-tp2-post-page-view.yaml")
BAD = Path("vectors/bad/bad-post-missing-e.yaml")


def test_vector_invalid_against_schema(spec: Path) -> None:
    _edit_yaml(spec / TRACKER, lambda d: d.update(colour="red"))
    _only(checks.check_vectors(spec), TRACKER.as_posix(), "Additional properties")


def test_vector_id_must_equal_stem(spec: Path) -> None:
    _edit_yaml(spec / TRACKER, lambda d: d.update(id="other-id"))
    _only(checks.check_vectors(spec), TRACKER.as_posix(), "differs from the file name")


def test_vector_ids_unique(spec: Path) -> None:
    shutil.copy(spec / BAD, spec / "vectors" / "enrich" / BAD.name)
    problems = checks.check_vectors(spec)
    _only(problems, "belongs in vectors/bad/")
    _only(problems, "is also used by")


def test_vector_yaml_error(spec: Path) -> None:
    (spec / TRACKER).write_text("id: [\n")
    _only(checks.check_vectors(spec), TRACKER.as_posix(), "not valid YAML")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("parameters#nope", "no tracker parameter named 'nope'"),
        ("enriched#nope", "no enriched field named 'nope'"),
        ("badrows#nope", "no such schema under schemas/"),
        ("schemas#com.acme/nope/1-0-0", "no such schema under schemas/"),
    ],
)
def test_vector_covers_must_resolve(spec: Path, ref: str, message: str) -> None:
    _edit_yaml(spec / TRACKER, lambda d: d["covers"].append(ref))
    _only(checks.check_vectors(spec), TRACKER.as_posix(), message)


def test_unresolvable_schema_refs_are_summarised_without_schemas(spec: Path) -> None:
    shutil.rmtree(spec / "schemas")
    problems = checks.check_vectors(spec)
    assert len(problems) == 1
    _only(problems, "schemas/: empty", "schema reference(s)")


def test_vector_names_unknown_parameter(spec: Path) -> None:
    _edit_yaml(spec / TRACKER, lambda d: d["expect"]["params"].update(zz="1"))
    _only(checks.check_vectors(spec), "expect names unknown parameter 'zz'")


def test_vector_names_unknown_field(spec: Path) -> None:
    _edit_yaml(spec / ENRICH, lambda d: d["expect"]["events"][0].update(page_host="a.example"))
    _only(checks.check_vectors(spec), "expect names unknown field 'page_host'")


def test_raw_request_sends_unknown_parameter(spec: Path) -> None:
    _edit_yaml(spec / ENRICH, lambda d: d["request"].update(query="colour=red"))
    _only(checks.check_vectors(spec), "request sends unknown parameter 'colour'")


def test_tracker_event_ids_match_wire_events(spec: Path) -> None:
    path = spec / "vectors/tracker/tracker-ecommerce-transaction-post.yaml"
    _edit_yaml(path, lambda d: d["event_ids"].pop())
    _only(checks.check_vectors(spec), "2 event id(s) for 3 expected wire event(s)")


def test_transaction_needs_one_wire_event_per_item(spec: Path) -> None:
    path = spec / "vectors/tracker/tracker-ecommerce-transaction-post.yaml"
    _edit_yaml(path, lambda d: d["event"]["items"].pop())
    _only(checks.check_vectors(spec), "one tr event plus one ti event per item")


def test_bad_row_schema_must_match_type(spec: Path) -> None:
    uri = "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1"
    _edit_yaml(spec / BAD, lambda d: d["expect"].update(schema=uri))
    _only(checks.check_vectors(spec), "is not a tracker_protocol_violations schema")


def test_bad_row_schema_must_exist(spec: Path) -> None:
    uri = "iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/9-0-0"
    _edit_yaml(spec / BAD, lambda d: d["expect"].update(schema=uri))
    _only(checks.check_vectors(spec), "bad-row schema", "is not under schemas/")


def test_raw_request_carries_invalid_entity(spec: Path) -> None:
    def break_entity(doc: dict[str, Any]) -> None:
        body = json.loads(doc["request"]["body"])
        contexts = json.loads(body["data"][0]["co"])
        contexts["data"][0]["data"]["id"] = "not-a-uuid"
        body["data"][0]["co"] = json.dumps(contexts)
        doc["request"]["body"] = json.dumps(body)

    _edit_yaml(spec / "vectors/enrich/enrich-contexts-co-rewritten-to-1-0-1.yaml", break_entity)
    _only(checks.check_vectors(spec), "co: iglu:com.snowplowanalytics.snowplow/web_page")


def test_raw_request_base64_not_json(spec: Path) -> None:
    path = spec / "vectors/enrich/enrich-contexts-cx-base64url-padding-get.yaml"
    _edit_yaml(path, lambda d: d["request"].update(query=d["request"]["query"] + "&ue_px=bm9wZQ"))
    _only(checks.check_vectors(spec), "ue_px is not JSON")


def test_tracker_decoded_json_must_validate(spec: Path) -> None:
    path = spec / "vectors/tracker/tracker-page-view-get-contexts-plain.yaml"
    _edit_yaml(path, lambda d: d["expect"]["decoded"]["co"]["data"][0]["data"].update(extra=1))
    _only(checks.check_vectors(spec), "co: iglu:com.snowplowanalytics.snowplow/web_page")


def test_tracker_decoded_unknown_schema(spec: Path) -> None:
    path = spec / "vectors/tracker/tracker-page-view-get-contexts-plain.yaml"
    _edit_yaml(
        path,
        lambda d: d["expect"]["decoded"]["co"]["data"][0].update(
            schema="iglu:com.acme/thing/jsonschema/1-0-0"
        ),
    )
    _only(checks.check_vectors(spec), "iglu:com.acme/thing/jsonschema/1-0-0: no such schema")


def test_invalid_request_vectors_may_carry_invalid_json(spec: Path) -> None:
    # bad-contexts-invalid-entity is meant to fail validation: the check must not flag it.
    assert checks.check_vectors(spec) == []


def test_unexpected_files_in_vectors(spec: Path) -> None:
    (spec / "vectors" / "notes.txt").write_text("x")
    (spec / "vectors" / "tracker" / "draft.yml").write_text("x")
    problems = checks.check_vectors(spec)
    _only(problems, "vectors/notes.txt: unexpected file")
    _only(problems, "vectors/tracker/draft.yml: vector files end in .yaml")


def test_every_kind_needs_vectors(spec: Path) -> None:
    shutil.rmtree(spec / "vectors" / "bad")
    _only(checks.check_vectors(spec), "vectors/bad/: holds no invalid_request vectors")


def test_vector_schema_missing(spec: Path) -> None:
    (spec / "vectors" / "vectors.schema.json").unlink()
    _only(checks.check_vectors(spec), "vectors.schema.json", "cannot read the vector schema")


# --- generated ----------------------------------------------------------------------------------


def test_editing_parameters_yaml_without_regenerating_fails(spec: Path) -> None:
    (spec / "protocol" / "parameters.md").write_text(
        (data_root() / "protocol" / "parameters.md").read_text()
    )
    _edit_yaml(spec / PARAMS, lambda d: _param(d, "aid").update(description="Renamed."))
    problems = checks.run_all(spec)
    assert problems == [
        "protocol/parameters.md: out of date with its YAML source; regenerate with "
        "`uv run python -m plowline.spec.generate`"
    ]


def test_generated_check_survives_a_broken_source(spec: Path) -> None:
    (spec / FIELDS).write_text("fields: 3\n")
    _only(checks.check_generated(spec), "generated files not checked", "fields.yaml")
