"""`--schemas` folders: file checks, staging that skips bad files, change detection."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.conformance.up.schemas import (
    SchemaProblem,
    SchemaStaging,
    check_schema_file,
    fingerprint,
)

SELF_DESC = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)


def _schema(name: str) -> dict[str, object]:
    return {
        "$schema": SELF_DESC,
        "self": {"vendor": "com.acme", "name": name, "format": "jsonschema", "version": "1-0-0"},
        "type": "object",
    }


def _write(root: Path, name: str, content: str) -> Path:
    path = root / "com.acme" / name / "jsonschema" / "1-0-0"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def test_good_file_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok", json.dumps(_schema("ok")))
    checked = check_schema_file(tmp_path, path)
    assert not isinstance(checked, SchemaProblem)
    assert checked[0].uri == "iglu:com.acme/ok/jsonschema/1-0-0"


def test_problems_are_named(tmp_path: Path) -> None:
    cases = {
        "notjson": "{",
        "array": "[]",
        "wrongself": json.dumps(_schema("other")),
        "badschema": json.dumps({**_schema("badschema"), "type": 12}),
    }
    reasons = {}
    for name, content in cases.items():
        checked = check_schema_file(tmp_path, _write(tmp_path, name, content))
        assert isinstance(checked, SchemaProblem), name
        reasons[name] = checked.reason
    assert reasons["notjson"].startswith("not JSON")
    assert "JSON object" in reasons["array"]
    assert "its `self` names com.acme/other" in reasons["wrongself"]
    assert "JSON Schema" in reasons["badschema"]
    misplaced = tmp_path / "loose.json"
    misplaced.write_text("{}")
    problem = check_schema_file(tmp_path, misplaced)
    assert isinstance(problem, SchemaProblem)
    assert "vendor" in problem.reason


def test_staging_skips_bad_files_and_keeps_good(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    _write(root, "ok", json.dumps(_schema("ok")))
    _write(root, "broken", "{ nope")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    staging = SchemaStaging([root, tmp_path / "missing"])
    try:
        staged, result = staging.rebuild()
        assert result.accepted == ["iglu:com.acme/ok/jsonschema/1-0-0"]
        assert sorted(p.reason.split(":")[0] for p in result.problems) == [
            "not JSON",
            "not a folder",
        ]
        assert (staged / "com.acme/ok/jsonschema/1-0-0").is_file()
        assert not (staged / "com.acme/broken").exists()
        again, _ = staging.rebuild()
        assert again != staged
        assert not staged.exists()  # the previous generation is removed
    finally:
        staging.close()
    assert not again.exists()


def test_fingerprint_changes_on_edit_add_and_remove(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    path = _write(root, "ok", json.dumps(_schema("ok")))
    first = fingerprint([root])
    assert fingerprint([root]) == first
    path.write_text(json.dumps(_schema("ok")) + "\n")
    second = fingerprint([root])
    assert second != first
    extra = _write(root, "more", json.dumps(_schema("more")))
    third = fingerprint([root])
    assert third != second
    extra.unlink()
    assert fingerprint([root]) != third


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_check(tmp_path_factory: object, content: bytes) -> None:
    root = Path(tmp_path_factory.mktemp("fuzz"))  # type: ignore[attr-defined]
    path = root / "com.acme" / "x" / "jsonschema" / "1-0-0"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    checked = check_schema_file(root, path)
    assert isinstance(checked, (SchemaProblem, tuple))
