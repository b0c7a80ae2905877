"""The pytest plugin's rules, checked by running pytest on generated test files.

None of these reaches a service: the marker gate fires before provisioning, and the
attach variable given is malformed, which fails at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run_pytest(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers -p no:cacheprovider\n"
    )
    test_file = tmp_path / "test_generated.py"
    test_file.write_text(textwrap.dedent(source))
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("PLOWLINE_") and k != "CI"
    }
    environment.update({"PLOWLINE_CACHE_DIR": str(tmp_path / "cache"), **env})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-c", str(tmp_path / "pytest.ini"), str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


UNMARKED = """
    def test_sneaky(postgres):
        pass

    def test_sneaky_database(pg_database):
        pass
"""


def test_service_fixture_without_marker_is_an_error(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, UNMARKED)
    assert result.returncode == 1, result.stdout
    assert "2 errors" in result.stdout
    assert (
        "uses the 'postgres' service fixture but is not marked: add @pytest.mark.postgres"
        in result.stdout
    )


MARKED_UNREACHABLE = """
    import pytest

    @pytest.mark.kafka
    def test_needs_kafka(kafka):
        pass
"""


def test_unavailable_service_skips_outside_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, MARKED_UNREACHABLE, PLOWLINE_KAFKA_BOOTSTRAP="nonsense")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "PLOWLINE_KAFKA_BOOTSTRAP=nonsense is set but" in result.stdout


def test_unavailable_service_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path, MARKED_UNREACHABLE, PLOWLINE_KAFKA_BOOTSTRAP="nonsense", CI="true"
    )
    assert result.returncode == 1, result.stdout
    assert "skipped" not in result.stdout
    assert "CI=true: a test that needs a service fails without it" in result.stdout


@pytest.mark.parametrize("marker", ["postgres", "kafka", "aws"])
def test_markers_are_registered_by_the_plugin(tmp_path: Path, marker: str) -> None:
    result = run_pytest(
        tmp_path,
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_marked_without_fixture():
            pass
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
