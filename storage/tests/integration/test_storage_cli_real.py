"""`plowline-load` end to end: Kafka -> PostgreSQL, file -> PostgreSQL with bad rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from plowline.storage.cli import main
from plowline.storage.copyplans import NATIVE_ENV
from plowline.storage.streams import Record, open_sink
from plowline.storage.testing.events import enriched_lines
from plowline.storage.testing.evolution import EVO_SCHEMAS, evo_lines


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM atomic.events").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.kafka
@pytest.mark.postgres
def test_kafka_to_postgres(kafka: Any, kafka_topic: str, pg_database: Any, tmp_path: Path) -> None:
    url = f"kafka://{kafka.endpoint.bootstrap_servers}/{kafka_topic}"
    sink = open_sink(url)
    sink.write([Record(v) for v in enriched_lines(1500)] + [Record(b"garbage")])
    sink.close()
    bad = tmp_path / "bad.json"
    code = main(
        [
            "postgres",
            "--from",
            f"{url}?group=cli",
            "--dsn",
            pg_database.dsn,
            "--bad",
            f"file://{bad}",
            "--batch-size",
            "500",
            "--max-wait",
            "1",
            "--idle-exit",
            "6",
        ]
    )
    assert code == 0
    assert _count(pg_database.dsn) == 1500
    assert len(bad.read_bytes().splitlines()) == 1


@pytest.mark.postgres
def test_file_to_postgres_twice_is_idempotent(pg_database: Any, tmp_path: Path) -> None:
    data = tmp_path / "enriched.tsv"
    data.write_bytes(b"\n".join(enriched_lines(700)) + b"\n")
    args = ["postgres", "--from", str(data), "--dsn", pg_database.dsn, "--bad", "stdout:"]
    assert main(args) == 0
    assert main(args) == 0
    assert _count(pg_database.dsn) == 700


@pytest.mark.postgres
def test_unreachable_database_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "e.tsv"
    data.write_bytes(b"\n".join(enriched_lines(2)))
    code = main(
        [
            "postgres",
            "--from",
            str(data),
            "--dsn",
            "postgresql://nobody@127.0.0.1:1/x",
            "--retry-for",
            "0",
        ]
    )
    assert code == 1
    assert "OperationalError" in capsys.readouterr().err


@pytest.mark.postgres
@pytest.mark.parametrize("native", ["1", "0"], ids=["threads+native", "processes+python"])
def test_parallel_workers_load_everything_once(
    pg_database: Any, tmp_path: Path, native: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The native encoder runs workers as threads; the pure-Python path as processes.
    monkeypatch.setenv(NATIVE_ENV, native)
    data = tmp_path / "enriched.tsv"
    data.write_bytes(b"\n".join([*enriched_lines(3000), b"bad"]) + b"\n")
    bad = tmp_path / "bad.json"
    args = ["postgres", "--from", str(data), "--dsn", pg_database.dsn, "--workers", "2",
            "--batch-size", "400", "--bad", f"file://{bad}", "--idle-exit", "0.5"]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 0  # the same batches again: all skipped by the manifest
    assert _count(pg_database.dsn) == 3000
    with psycopg.connect(pg_database.dsn) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT root_id) FROM "
            "atomic.com_snowplowanalytics_snowplow_client_session_1"
        ).fetchone()
    assert row == (3000, 3000)
    assert len(bad.read_bytes().splitlines()) == 1


@pytest.mark.postgres
def test_an_incompatible_type_change_is_bad_rows_and_the_load_goes_on(
    pg_database: Any, tmp_path: Path
) -> None:
    """Issue 15 item 2 through the command: integer -> string in a later run made PostgreSQL
    answer ProtocolViolation on the native path; plowline-load retried it as an outage and
    exited 1, and every restart met the same batch."""
    schemas = tmp_path / "schemas"
    for uri, doc in EVO_SCHEMAS.items():
        path = schemas.joinpath(*uri.removeprefix("iglu:").split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    first, later = tmp_path / "first.tsv", tmp_path / "later.tsv"
    first.write_bytes(b"\n".join(evo_lines("1-0-0", {"code": "a", "amount": 1}, 5, seed=1)) + b"\n")
    batch = evo_lines("1-1-0", {"code": "b", "amount": "abc"}, 3, seed=2)
    batch += evo_lines("1-0-0", {"code": "c", "amount": 2}, 4, seed=3)
    later.write_bytes(b"\n".join(batch) + b"\n")
    bad = tmp_path / "bad.json"
    common = ["--dsn", pg_database.dsn, "--schemas", str(schemas), "--retry-for", "2"]
    common += ["--bad", f"file://{bad}", "--idle-exit", "1", "--batch-size", "3"]
    assert main(["postgres", "--from", str(first), *common]) == 0
    # A new process; its first batch holds only the new version (the case).
    assert main(["postgres", "--from", str(later), *common]) == 0
    assert _count(pg_database.dsn) == 9
    assert len(bad.read_bytes().splitlines()) == 3
    assert main(["postgres", "--from", str(later), *common]) == 0  # again: loaded already
    assert _count(pg_database.dsn) == 9
