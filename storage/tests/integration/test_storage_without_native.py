"""`plowline-load postgres` into real PostgreSQL with the native encoder absent (as after
`pip install plowline-storage` without the `native` extra): every line on the Python path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from plowline.storage.testing.events import enriched_lines

# A fresh interpreter where `import plowline.copytext` fails.
WITHOUT_NATIVE = (
    "import sys; sys.modules['plowline.copytext'] = None\n"
    "from plowline.storage.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.postgres
def test_plowline_load_without_the_extra(pg_database: Any, tmp_path: Path) -> None:
    data = tmp_path / "enriched.tsv"
    data.write_bytes(b"\n".join([*enriched_lines(1200), b"bad"]) + b"\n")
    bad = tmp_path / "bad.json"
    args = ["postgres", "--from", str(data), "--dsn", pg_database.dsn, "--workers", "2",
            "--batch-size", "500", "--bad", f"file://{bad}", "--idle-exit", "0.5"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_NATIVE, *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "COPY encoder python (plowline.copytext not installed)" in done.stderr
    assert "loaded=1200 bad=1" in done.stderr
    with psycopg.connect(pg_database.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM atomic.events").fetchone()
        entities = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'atomic'"
        ).fetchone()
    assert row == (1200,)
    assert entities is not None
    assert entities[0] > 2  # events, the manifest and entity tables
    assert len(bad.read_bytes().splitlines()) == 1
