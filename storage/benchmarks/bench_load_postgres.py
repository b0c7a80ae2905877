"""Load enriched events with entities into PostgreSQL; compare with `psql \\copy`.

    nox -s bench -- storage            # 1,000,000 events
    python storage/benchmarks/bench_load_postgres.py --events 100000

Uses PLOWLINE_POSTGRES_DSN when set, else starts a PostgreSQL via plowline.conformance.services.
Baseline, measured in the same run on the same server: `psql \\copy` of the same events'
atomic.events TSV (128 columns, no entities) into an identical empty table. Ours loads the
131-field TSV into atomic.events AND the entity tables (about 3.3 entity rows per event),
read from a file:// stream by the same runner `plowline-load` uses: first on the pure-Python
path (PLOWLINE_STORAGE_NATIVE=0, worker processes), then with the native encoder on one
connection and on two (the CLI default).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from plowline.storage.atomic import index_of
from plowline.storage.parallel import ParallelLoader, run_parallel
from plowline.storage.postgres import PostgresLoader, atomic_row
from plowline.storage.runner import run_batches
from plowline.storage.testing.events import ENTITY_TABLES, enriched_lines
from plowline.streams import open_source
from psycopg import sql

TEMPLATES = 997  # distinct generated events; each copy gets a fresh event_id


@contextlib.contextmanager
def postgres_dsn() -> Iterator[str]:
    env = os.environ.get("PLOWLINE_POSTGRES_DSN")
    if env:
        yield env
        return
    from plowline.conformance.services.config import ServiceKind, Settings
    from plowline.conformance.services.provision import Provisioner

    handle = Provisioner(Settings.from_env()).provision(ServiceKind.POSTGRES)
    try:
        print(f"# {handle.describe()}")
        yield str(handle.endpoint.dsn)
    finally:
        handle.close()


def write_inputs(count: int, folder: Path) -> tuple[Path, Path]:
    """The enriched TSV (131 fields) and its atomic.events TSV (128 columns) for the baseline."""
    eid = index_of("event_id")
    templates = [line.decode().split("\t") for line in enriched_lines(TEMPLATES)]
    enriched = folder / "enriched.tsv"
    atomic = folder / "atomic.tsv"
    with enriched.open("w", encoding="utf-8") as full, atomic.open("w", encoding="utf-8") as base:
        for n in range(count):
            parts = templates[n % TEMPLATES]
            parts[eid] = f"{n:08x}-0000-4000-8000-{n % TEMPLATES:012x}"
            full.write("\t".join(parts) + "\n")
            base.write(atomic_row(parts) + "\n")
    return enriched, atomic


def fresh_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **info)


def load(
    dsn: str, enriched: Path, batch_size: int, workers: int, native: bool
) -> tuple[float, float]:
    """Wall and this process's CPU seconds to load the file through the plowline-load runner."""
    source = open_source(f"file://{enriched}")
    started, cpu_started = time.perf_counter(), time.process_time()
    if workers == 1:
        with PostgresLoader(dsn, native=native) as loader:
            loader.setup()
            progress = run_batches(
                source,
                loader,
                batch_size=batch_size,
                max_wait=0.2,
                idle_exit=0.0,
                out=io.StringIO(),
            )
    else:
        with ParallelLoader(dsn, workers=workers, native=native) as parallel:
            progress = run_parallel(
                source,
                parallel,
                batch_size=batch_size,
                max_wait=0.2,
                idle_exit=0.0,
                out=io.StringIO(),
            )
    if progress.bad:
        raise SystemExit(f"unexpected bad rows: {progress.bad}")
    return time.perf_counter() - started, time.process_time() - cpu_started


def scalar(dsn: str, query: sql.SQL | sql.Composed) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=10_000, help="as plowline-load's default")
    parser.add_argument("--workers", type=int, default=2, help="connections of the last run")
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip the pure-Python run (PLOWLINE_STORAGE_NATIVE=0)",
    )
    args = parser.parse_args()
    psql = shutil.which("psql")
    if psql is None:
        print("psql not found on PATH: the baseline needs it", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="plowline-bench-") as tmp, postgres_dsn() as admin:
        enriched, atomic = write_inputs(args.events, Path(tmp))
        # Baseline: psql \copy of the atomic TSV into atomic.events of a fresh database.
        base_dsn = fresh_database(admin, "bench_psql")
        with PostgresLoader(base_dsn) as setup_only:
            setup_only.setup()
        started = time.perf_counter()
        subprocess.run(
            [
                psql,
                base_dsn,
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f"\\copy atomic.events FROM '{atomic}' WITH (FORMAT text, NULL '')",
            ],
            check=True,
        )
        psql_seconds = time.perf_counter() - started

        figures: list[tuple[str, float, float]] = []
        runs = [
            ("Python reference, 2 processes", 2, False),
            ("native, 1 connection", 1, True),
            (f"native, {args.workers} connections (default)", args.workers, True),
        ]
        for label, workers, native in runs[0 if args.reference else 1 :]:
            dsn = fresh_database(admin, f"bench_plowline_{workers}_{int(native)}")
            seconds, cpu = load(dsn, enriched, args.batch_size, workers, native)
            figures.append((label, seconds, cpu))
            entity_rows = sum(
                int(
                    scalar(dsn, sql.SQL("SELECT count(*) FROM atomic.{}").format(sql.Identifier(t)))
                )
                for t in ENTITY_TABLES
            )
            check = scalar(dsn, sql.SQL("SELECT count(*) FROM atomic.events"))
            if check != args.events:
                print(f"load incomplete: {check} rows of {args.events}", file=sys.stderr)
                return 1

    psql_rate = args.events / psql_seconds
    print(f"events: {args.events:,} (+{entity_rows:,} entity rows in {len(ENTITY_TABLES)} tables)")
    base = f"{psql_rate:9,.0f} rows/s ({psql_seconds:.1f} s)"
    print(f"baseline, psql \\copy of atomic.events only: {base}")
    for label, seconds, cpu in figures:
        rate = args.events / seconds
        print(
            f"plowline-load with entities, {label}: {rate:9,.0f} events/s ({seconds:.1f} s, "
            f"CPU here {cpu / args.events * 1e6:.0f} us/event); "
            f"ratio to psql {rate / psql_rate:.2f} (goal >= 0.50)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
