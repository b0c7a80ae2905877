"""The built plowline-spec wheel works on its own: installed into a fresh virtualenv, it finds
its packaged spec data, every packaged file loads, and the CLI validates a packaged example.

Nothing here imports from the checkout: the checks run in the new virtualenv's interpreter,
from a temporary working folder, with no PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MEMBER = Path(__file__).resolve().parents[2]  # spec/python

CHECK_SCRIPT = r"""
import json, sys
from pathlib import Path

import yaml

import plowline.spec
from plowline.spec.compiler import compile_schema
from plowline.spec.data import data_root
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import EmbeddedRegistry

root = data_root()
package = Path(plowline.spec.__file__).resolve().parent
assert root.resolve() == package / "data", (root, package)
assert "site-packages" in root.resolve().parts, root

counts = {"schemas": 0, "json": 0, "yaml": 0, "text": 0, "other": 0}
registry = EmbeddedRegistry("packaged", root / "schemas")
for path in sorted(p for p in root.rglob("*") if p.is_file()):
    rel = path.relative_to(root)
    if rel.parts[0] == "schemas" and len(rel.parts) == 5:
        key = SchemaKey.parse("iglu:" + "/".join(rel.parts[1:]))
        schema = registry.lookup(key)  # parses, and checks "self" against the path
        compile_schema(key, schema)  # usable for validation
        counts["schemas"] += 1
    elif path.suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
        counts["json"] += 1
    elif path.suffix in (".yaml", ".yml"):
        yaml.safe_load(path.read_text(encoding="utf-8"))
        counts["yaml"] += 1
    elif path.suffix in (".md", ".txt", ".tsv", ".csv", ".sql", ".thrift"):
        path.read_text(encoding="utf-8")
        counts["text"] += 1
    else:
        path.read_bytes()
        counts["other"] += 1
print(json.dumps({"root": str(root), "counts": counts}))
"""


def clean_env() -> dict[str, str]:
    """The environment without anything pointing back at the checkout's virtualenv."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    return env


def run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtualenv with only the built wheel (and its deps)."""
    uv = shutil.which("uv")
    assert uv is not None, "uv must be on PATH to build and install the wheel"
    work = tmp_path_factory.mktemp("wheel")
    built = run([uv, "build", "--wheel", "--out-dir", work / "dist", MEMBER], cwd=work)
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("plowline_spec-*.whl")
    venv = work / "venv"
    created = run([uv, "venv", "--python", sys.executable, venv], cwd=work)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    installed = run([uv, "pip", "install", "--python", python, wheel], cwd=work)
    assert installed.returncode == 0, installed.stderr
    return venv / "bin"


def test_every_packaged_file_loads(installed: Path, tmp_path: Path) -> None:
    result = run([installed / "python", "-c", CHECK_SCRIPT], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["counts"]["schemas"] > 0
    assert Path(summary["root"]).is_relative_to(installed.parent)


def test_cli_validates_packaged_examples(installed: Path, tmp_path: Path) -> None:
    find_root = run(
        [
            installed / "python",
            "-c",
            "from plowline.spec.data import data_root; print(data_root())",
        ],
        cwd=tmp_path,
    )
    assert find_root.returncode == 0, find_root.stderr
    examples = Path(find_root.stdout.strip()) / "examples"
    valid = run(
        [installed / "plowline-spec", "validate", examples / "page_view.json"], cwd=tmp_path
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "valid" in valid.stdout
    invalid = run(
        [installed / "plowline-spec", "validate", examples / "page_view_missing_e.json"],
        cwd=tmp_path,
    )
    assert invalid.returncode == 1, invalid.stdout + invalid.stderr
    assert '"e" is a required property' in invalid.stdout
    resolved = run(
        [
            installed / "plowline-spec",
            "resolve",
            "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        ],
        cwd=tmp_path,
    )
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["self"]["name"] == "payload_data"
