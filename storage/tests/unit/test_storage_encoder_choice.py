"""The native COPY encoder is an extra: without it the loader takes the Python path and says so;
with it (and always under CI=true, where the extra must be installed) `auto` picks it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from plowline.storage.cli import main
from plowline.storage.copyplans import NATIVE_AVAILABLE, native_wanted
from plowline.storage.testing.events import enriched_lines

# Runs plowline-load in a fresh interpreter where `import plowline.copytext` fails, as it does
# after `pip install plowline-storage` without the `native` extra.
WITHOUT_NATIVE = (
    "import sys; sys.modules['plowline.copytext'] = None\n"
    "from plowline.storage.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _without_native(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_NATIVE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_extra_the_loader_uses_the_python_path() -> None:
    probe = (
        "import sys; sys.modules['plowline.copytext'] = None\n"
        "from plowline.storage.copyplans import NATIVE_AVAILABLE, native_wanted\n"
        "from plowline.storage.postgres import PostgresLoader\n"
        "assert not NATIVE_AVAILABLE and not native_wanted()\n"
        "assert not PostgresLoader('postgresql://unused').native\n"
        "try:\n"
        "    PostgresLoader('postgresql://unused', native=True)\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'plowline-storage[native]'" in done.stdout


def test_without_the_extra_plowline_load_says_python_and_refuses_native(tmp_path: Path) -> None:
    data = tmp_path / "in.tsv"
    data.write_bytes(b"\n".join(enriched_lines(3)) + b"\n")
    # An address nothing listens on: the load fails fast, after the encoder line.
    common = ["postgres", "--from", str(data), "--dsn", "postgresql://127.0.0.1:9/x"]
    auto = _without_native(*common, "--retry-for", "0", "--workers", "1")
    assert "COPY encoder python (plowline.copytext not installed)" in auto.stderr
    refused = _without_native(*common, "--encoder", "native")
    assert refused.returncode == 2
    assert "--encoder native" in refused.stderr
    assert "plowline-storage[native]" in refused.stderr


def test_the_embedded_store_loads_without_the_extra(tmp_path: Path) -> None:
    data = tmp_path / "in.tsv"
    data.write_bytes(b"\n".join([*enriched_lines(40), b"broken"]) + b"\n")
    bad = tmp_path / "bad.json"
    args = ["embedded", "--from", str(data), "--db", str(tmp_path / "db.sqlite"),
            "--bad", f"file://{bad}", "--idle-exit", "0.2"]  # fmt: skip
    done = _without_native(*args)
    assert done.returncode == 0, done.stderr
    assert "loaded=40 bad=1" in done.stderr


@pytest.mark.skipif(
    not NATIVE_AVAILABLE and os.environ.get("CI") != "true",
    reason="plowline-storage[native] is not installed",
)
def test_with_the_extra_auto_picks_native(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Under CI=true this runs whatever is installed: CI must build and test the encoder.
    assert NATIVE_AVAILABLE, "CI=true: the `native` extra (plowline-copytext) must be installed"
    monkeypatch.delenv("PLOWLINE_STORAGE_NATIVE", raising=False)
    assert native_wanted()
    monkeypatch.setenv("PLOWLINE_STORAGE_NATIVE", "0")
    assert not native_wanted()
    data = tmp_path / "in.tsv"
    data.write_bytes(b"")
    for encoder, said in (("auto", "python (PLOWLINE_STORAGE_NATIVE=0"), ("native", "native")):
        args = ["postgres", "--from", str(data), "--dsn", "postgresql://127.0.0.1:9/x",
                "--retry-for", "0", "--workers", "1", "--encoder", encoder]  # fmt: skip
        main(args)
        assert f"COPY encoder {said}" in capsys.readouterr().err
