"""Benchmark: full refresh vs an incremental run of 1% new events, on PostgreSQL and SQLite.

    nox -s bench -- models
    python models/benchmarks/bench_models.py --events 1000000 --engines postgres,embedded

N generated events (about 30 days of web traffic) are loaded and fully refreshed; then 1% more
events (the next ones in load order, some of them late) are loaded and an incremental run
processes them. The figure is the seconds of each run; the ratio incremental/full is the
baseline comparison (goal: under 10%). PostgreSQL comes from PLOWLINE_POSTGRES_DSN or is
started locally by the Plowline services layer.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
from plowline.models.config import ModelConfig
from plowline.models.engines import Engine, PostgresEngine, SqliteEngine
from plowline.models.runner import run, run_data_tests, setup
from plowline.models.testing import web_events
from plowline.storage.embedded import EmbeddedLoader
from plowline.storage.postgres import PostgresLoader
from plowline.storage.schemas import DirectorySchemas
from psycopg import sql

BATCH = 50_000


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
        print(f"# {handle.describe()}", flush=True)
        yield str(handle.endpoint.dsn)
    finally:
        handle.close()


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    name = f"bench_models_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(admin, dbname=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def load_in_batches(load: Callable[[Sequence[bytes]], object], lines: list[bytes]) -> float:
    started = time.perf_counter()
    for i in range(0, len(lines), BATCH):
        load(lines[i : i + BATCH])
    return time.perf_counter() - started


def measure(
    name: str,
    load: Callable[[Sequence[bytes]], object],
    connect: Callable[[], Engine],
    base: list[bytes],
    new: list[bytes],
) -> tuple[float, float]:
    loaded = load_in_batches(load, base)
    print(f"{name}: loaded {len(base):,} events in {loaded:.1f}s", flush=True)
    with connect() as engine:
        t0 = time.perf_counter()
        setup(engine, ModelConfig())
        print(f"{name}: indexes built in {time.perf_counter() - t0:.1f}s", flush=True)
        full = run(engine, full_refresh=True)
    print(
        f"{name}: full refresh {full.seconds:.2f}s "
        f"({full.sessions_in_scope:,} sessions, {full.counts['page_views']:,} page views)",
        flush=True,
    )
    load_in_batches(load, new)
    with connect() as engine:
        inc = run(engine)
        failed = [r.name for r in run_data_tests(engine) if not r.passed]
    print(
        f"{name}: incremental ({len(new):,} new events) {inc.seconds:.2f}s "
        f"({inc.sessions_in_scope:,} sessions rebuilt)",
        flush=True,
    )
    if failed:
        print(f"{name}: DATA TESTS FAILED: {failed}", flush=True)
    ratio = inc.seconds / full.seconds
    verdict = "meets" if ratio < 0.10 else "MISSES"
    print(f"{name}: ratio incremental/full = {ratio:.3f} ({verdict} the < 0.10 goal)", flush=True)
    return full.seconds, inc.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events before the 1%%")
    parser.add_argument("--new-fraction", type=float, default=0.01)
    parser.add_argument("--days", type=float, default=30.0, help="time span of the traffic")
    parser.add_argument("--engines", default="postgres,embedded")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"postgres", "embedded"} or args.events < 100:
        parser.error("--engines takes postgres and/or embedded; --events at least 100")
    total = int(args.events * (1 + args.new_fraction))
    t0 = time.perf_counter()
    lines = web_events(
        total, seed=3, span=timedelta(days=args.days * (1 + args.new_fraction)), late_fraction=0.02
    )
    cut = int(len(lines) / (1 + args.new_fraction))
    base, new = lines[:cut], lines[cut:]
    print(
        f"# generated {len(lines):,} events in {time.perf_counter() - t0:.1f}s: "
        f"{len(base):,} + {len(new):,} new",
        flush=True,
    )
    schemas = DirectorySchemas()
    if "postgres" in engines:
        with (
            postgres_dsn() as admin,
            fresh_database(admin) as dsn,
            PostgresLoader(dsn, schemas=schemas) as pg,
        ):
            pg.setup()
            measure("postgres", pg.load, lambda: PostgresEngine(dsn), base, new)
    if "embedded" in engines:
        with tempfile.TemporaryDirectory(prefix="plowline-bench-") as tmp:
            store = Path(tmp) / "events.sqlite"
            with EmbeddedLoader(store, schemas=schemas) as embedded:
                embedded.setup()
                measure("embedded", embedded.load, lambda: SqliteEngine(store), base, new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
