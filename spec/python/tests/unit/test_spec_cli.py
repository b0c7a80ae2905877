"""`plowline-spec` command line: validate, resolve, check; exit codes 0 / 1 / 2."""

from __future__ import annotations

import base64
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from plowline.spec import cli
from plowline.spec.data import data_path

SP = "com.snowplowanalytics.snowplow"
PAYLOAD = f"iglu:{SP}/payload_data/jsonschema/1-0-4"
CONTEXTS = f"iglu:{SP}/contexts/jsonschema/1-0-1"
WEB_PAGE = f"iglu:{SP}/web_page/jsonschema/1-0-0"
PARAMS = ["e", "p", "tv", "aid", "eid", "dtm", "stm", "url", "page", "cx", "co", "ue_px", "ue_pr"]
SDJ_SHAPE = {
    "type": "object",
    "properties": {"schema": {"type": "string"}, "data": {}},
    "required": ["schema", "data"],
    "additionalProperties": False,
}
SCHEMA_BODIES: dict[str, dict[str, Any]] = {
    PAYLOAD: {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "properties": {p: {"type": "string"} for p in PARAMS},
            "required": ["tv", "p", "e"],
            "additionalProperties": False,
        },
    },
    CONTEXTS: {"type": "array", "items": SDJ_SHAPE},
    WEB_PAGE: {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "uuid"}},
        "required": ["id"],
        "additionalProperties": False,
    },
}


def write_schemas(root: Path) -> Path:
    for uri, body in SCHEMA_BODIES.items():
        vendor, name, fmt, version = uri.removeprefix("iglu:").split("/")
        path = root / vendor / name / fmt / version
        path.parent.mkdir(parents=True, exist_ok=True)
        self_block = {"vendor": vendor, "name": name, "format": fmt, "version": version}
        path.write_text(json.dumps({"self": self_block, **body}))
    return root


def page_view(**params: str) -> dict[str, Any]:
    contexts = {
        "schema": CONTEXTS,
        "data": [{"schema": WEB_PAGE, "data": {"id": "6f2c1f2a-7e2b-4b7a-9d0e-2a1f3c4d5e6f"}}],
    }
    cx = base64.urlsafe_b64encode(json.dumps(contexts).encode()).decode().rstrip("=")
    item = {"e": "pv", "p": "web", "tv": "js-3.5.0", "url": "https://example.com/", "cx": cx}
    item.update(params)
    return {"schema": PAYLOAD, "data": [item]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    schemas = write_schemas(tmp_path / "schemas-root")
    valid = tmp_path / "page_view.json"
    valid.write_text(json.dumps(page_view()))
    missing_e = page_view()
    del missing_e["data"][0]["e"]
    invalid = tmp_path / "page_view_missing_e.json"
    invalid.write_text(json.dumps(missing_e))
    return {"schemas": schemas, "valid": valid, "invalid": invalid, "tmp": tmp_path}


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# --- validate ---------------------------------------------------------------------------------


def test_validate_a_valid_page_view(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    code, out, err = run(capsys, "validate", files["valid"], "--schemas", files["schemas"])
    assert code == 0, out + err
    assert out == f"{files['valid']}: valid ({PAYLOAD}; 3 self-describing document(s) checked)\n"


def test_validate_names_the_missing_field(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    code, out, _ = run(capsys, "validate", files["invalid"], "--schemas", files["schemas"])
    assert code == 1
    assert f"{files['invalid']}: INVALID ({PAYLOAD}; 1 failure(s))" in out
    assert '$.data[0]: "e" is a required property [required]' in out


def test_validate_json_output(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, out, _ = run(
        capsys,
        "validate",
        files["valid"],
        files["invalid"],
        "--json",
        "--schemas",
        files["schemas"],
    )
    assert code == 1
    valid, invalid = (json.loads(line) for line in out.splitlines())
    assert (valid["file"], valid["valid"], valid["schema"], valid["failures"]) == (
        str(files["valid"]),
        True,
        PAYLOAD,
        [],
    )
    (failure,) = invalid["failures"]
    assert failure["kind"] == "ValidationError"
    assert failure["reports"][0]["targets"] == ["e"]
    assert failure["badRowMessage"]["error"]["dataReports"][0]["path"] == "$[0]"


def test_validate_from_stdin(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(files["invalid"].read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = run(capsys, "validate", "-", "--schemas", files["schemas"])
    assert code == 1
    assert out.startswith("-: INVALID")


def test_validate_reports_unreadable_files(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    missing = files["tmp"] / "nope.json"
    code, out, err = run(capsys, "validate", files["valid"], missing, "--schemas", files["schemas"])
    assert code == 2
    assert "valid" in out
    assert f"cannot read {missing}" in err
    code, out, _ = run(capsys, "validate", missing, "--json", "--schemas", files["schemas"])
    assert code == 2
    assert json.loads(out)["error"].startswith("cannot read")


def test_validate_malformed_and_oversize_documents(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    broken = files["tmp"] / "broken.json"
    broken.write_text('{"schema": ')
    code, out, _ = run(capsys, "validate", broken, "--schemas", files["schemas"])
    assert code == 1
    assert "$: not JSON: invalid JSON" in out
    code, out, _ = run(capsys, "validate", files["valid"], "--max-bytes", "100")
    assert code == 1
    assert "more than the maximum of 100 bytes" in out


def test_validate_depth_option(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, out, _ = run(
        capsys, "validate", files["valid"], "--max-depth", "2", "--schemas", files["schemas"]
    )
    assert code == 1
    assert "maximum depth of 2" in out


def test_unknown_schema_is_invalid(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    doc = files["tmp"] / "unknown.json"
    doc.write_text(json.dumps({"schema": "iglu:com.acme/unknown/jsonschema/1-0-0", "data": {}}))
    code, out, _ = run(capsys, "validate", doc, "--schemas", files["schemas"])
    assert code == 1
    assert "schema iglu:com.acme/unknown/jsonschema/1-0-0 cannot be resolved" in out
    assert "NotFound" in out


def test_schemas_folder_may_hold_a_schemas_subfolder(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    iglu_layout = files["tmp"] / "iglu"
    write_schemas(iglu_layout / "schemas")
    code, _, _ = run(capsys, "validate", files["valid"], "--schemas", iglu_layout)
    assert code == 0


def test_bad_schemas_option(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    code, _, err = run(capsys, "validate", files["valid"], "--schemas", files["tmp"] / "none")
    assert code == 2
    assert "not a directory" in err


def test_resolver_config(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    write_schemas(files["tmp"] / "iglu" / "schemas")
    config = files["tmp"] / "resolver.json"
    config.write_text(
        json.dumps(
            {
                "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
                "data": {
                    "cacheSize": 100,
                    "cacheTtl": 600,
                    "repositories": [
                        {
                            "name": "local",
                            "priority": -5,
                            "vendorPrefixes": ["com.snowplowanalytics"],
                            "connection": {"embedded": {"path": "iglu"}},
                        }
                    ],
                },
            }
        )
    )
    code, out, err = run(capsys, "validate", files["invalid"], "--resolver", config)
    assert code == 1, err
    assert '"e" is a required property' in out
    config.write_text("{}")
    code, _, err = run(capsys, "validate", files["valid"], "--resolver", config)
    assert code == 2
    assert "--resolver" in err


# --- resolve ----------------------------------------------------------------------------------


def test_resolve_prints_the_schema(
    capsys: pytest.CaptureFixture[str], files: dict[str, Path]
) -> None:
    code, out, _ = run(capsys, "resolve", WEB_PAGE, "--schemas", files["schemas"])
    assert code == 0
    assert json.loads(out)["self"]["name"] == "web_page"


def test_resolve_unknown_schema(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    uri = "iglu:com.acme/unknown/jsonschema/1-0-0"
    code, out, err = run(capsys, "resolve", uri, "--schemas", files["schemas"])
    assert (code, out) == (1, "")
    assert f"{uri} cannot be resolved" in err
    code, out, _ = run(capsys, "resolve", uri, "--schemas", files["schemas"], "--json")
    assert code == 1
    rendered = json.loads(out)
    assert rendered["error"] == "ResolutionError"
    assert {"error": "NotFound"} in rendered["lookupHistory"][0]["errors"]


def test_resolve_invalid_uri(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "resolve", "iglu:not/a/uri")
    assert code == 2
    assert "invalid Iglu URI" in err


# --- check and usage --------------------------------------------------------------------------


def test_check_runs_the_spec_checks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_main(*args: Any) -> int:
        calls.append(args)
        return 3

    fake = types.ModuleType("plowline.spec.checks")
    fake.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plowline.spec.checks", fake)
    assert run(capsys, "check")[0] == 3
    assert run(capsys, "check", "--fix", "x")[0] == 3
    assert calls == [([],), (["--fix", "x"],)]


def test_check_without_the_checks_module(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plowline.spec.checks", None)
    code, _, err = run(capsys, "check")
    assert code == 2
    assert "spec checks are not available" in err


def test_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for word in ("validate", "resolve", "check", "exit codes"):
        assert word in out
    with pytest.raises(SystemExit) as caught:
        cli.main(["validate", "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for option in ("--resolver", "--schemas", "--json", "--max-depth", "--max-bytes"):
        assert option in out
    for argv in ([], ["validate"], ["frobnicate"], ["validate", "x", "--max-depth", "0"]):
        with pytest.raises(SystemExit) as caught:
            cli.main(argv)
        assert caught.value.code == 2
    capsys.readouterr()


# --- the spec's own examples (the acceptance check) -------------------------------------------

EXAMPLES = data_path("examples")


def test_spec_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", EXAMPLES / "page_view.json")
    assert code == 0, out + err
    code, out, _ = run(capsys, "validate", EXAMPLES / "page_view_missing_e.json")
    assert code == 1
    assert '$.data[0]: "e" is a required property' in out
