"""Manifests: the spec schema, the harness's check/build keys, known failures beside the file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.conformance.harness.errors import DriverStartError, FileProblemsError
from plowline.conformance.harness.manifest import load_manifest, manifest_from_command

GOOD = """
name: acme-tracker
language: python
protocol: 1
command: ["{python}", "driver.py"]
env: {ACME: "1"}
known_failures:
  - {case: a-case, reason: not yet}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "driver.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_manifest(tmp_path: Path) -> None:
    manifest = load_manifest(_write(tmp_path, GOOD))
    assert manifest.name == "acme-tracker"
    assert manifest.argv() == [sys.executable, "driver.py"]
    assert manifest.directory == tmp_path.resolve()
    assert manifest.env == {"ACME": "1"}
    known = manifest.known_failure("a-case")
    assert known is not None
    assert known.reason == "not yet"
    assert manifest.known_failure("other") is None


def test_folder_means_its_driver_yaml(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    assert load_manifest(tmp_path).name == "acme-tracker"


def test_known_failures_file_beside(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    (tmp_path / "known-failures.yaml").write_text(
        "- {case: b-case, reason: flaky wire, issue: https://example.invalid/1}\n", encoding="utf-8"
    )
    manifest = load_manifest(tmp_path)
    assert [k.case for k in manifest.known_failures] == ["a-case", "b-case"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: Bad Name\nlanguage: x\nprotocol: 1\ncommand: [x]\n", "$.name"),
        ("name: ok\nlanguage: x\nprotocol: 2\ncommand: [x]\n", "$.protocol"),
        ("name: ok\nlanguage: x\nprotocol: 1\n", "'command' is a required property"),
        ("name: ok\nlanguage: x\nprotocol: 1\ncommand: [x]\nbuild: []\n", "$.build"),
        ("name: ok\nlanguage: x\nprotocol: 1\ncommand: [x]\nsurprise: 1\n", "surprise"),
        ("- a list\n", "a manifest is a mapping"),
        ("name: [unclosed\n", "cannot read"),
    ],
)
def test_bad_manifests(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(FileProblemsError) as info:
        load_manifest(_write(tmp_path, text))
    assert problem in str(info.value)


def test_check_and_build_run_in_the_folder(tmp_path: Path) -> None:
    text = (
        GOOD
        + 'check: ["{python}", "-c", "pass"]\nbuild: ["{python}", "-c", "open(\'built\', \'w\')"]\n'
    )
    manifest = load_manifest(_write(tmp_path, text))
    manifest.prepare()
    assert (tmp_path / "built").is_file()


def test_failing_build_says_why(tmp_path: Path) -> None:
    text = GOOD + 'build: ["{python}", "-c", "import sys; sys.exit(\'no compiler\')"]\n'
    with pytest.raises(DriverStartError, match="no compiler"):
        load_manifest(_write(tmp_path, text)).prepare()


def test_missing_toolchain(tmp_path: Path) -> None:
    text = GOOD + "check: [no-such-toolchain-binary, --version]\n"
    with pytest.raises(DriverStartError, match="toolchain check"):
        load_manifest(_write(tmp_path, text)).prepare()


def test_command_line_driver() -> None:
    manifest = manifest_from_command("go run ./driver --flag 'two words'")
    assert manifest.command == ("go", "run", "./driver", "--flag", "two words")
    with pytest.raises(DriverStartError):
        manifest_from_command("   ")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    ["name", "language", "protocol", "command", "env", "known_failures", "check", "build"]
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_KEYS, _JSON, max_size=8) | _JSON)
def test_any_document_loads_or_fails_cleanly(tmp_path: Path, doc: object) -> None:
    path = _write(tmp_path, yaml.safe_dump(doc))
    try:
        manifest = load_manifest(path)
    except FileProblemsError as error:
        problems = error.problems
    else:
        problems = list(manifest.command)
    assert problems
