"""`plowline-models`: build and check the web model (page views, sessions, users)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from plowline.models.config import ConfigError, ModelConfig
from plowline.models.engines import Engine, ModelError, PostgresEngine, SqliteEngine
from plowline.models.runner import run, run_data_tests

EPILOG = """\
commands:
  run           incremental: only sessions with events newer than the high-water mark minus
                the lookback window are rebuilt (the first run is a full refresh)
  full-refresh  rebuild every table from all of atomic.events
  test          data tests: unique and not-null keys, page_views -> sessions -> users

engines:
  postgres  --dsn postgresql://user@host:5432/db (or PLOWLINE_POSTGRES_DSN); tables go to
            the `derived` schema beside `atomic`
  embedded  --path events.sqlite (the file plowline-load embedded wrote); tables go to
            --derived-path (default: events.derived.sqlite beside it)

examples:
  plowline-models run --engine postgres --dsn postgresql://postgres@localhost/snowplow
  plowline-models full-refresh --engine embedded --path plowline.sqlite
  plowline-models test --engine embedded --path plowline.sqlite
"""


def _positive_hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {value!r}") from None
    if not 0 <= hours <= 24 * 366:
        raise argparse.ArgumentTypeError("lookback must be between 0 and 8784 hours")
    return hours


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="plowline-models",
        description="Incremental SQL data models over Plowline/Snowplow enriched events.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("command", choices=("run", "full-refresh", "test"), help="what to do")
    p.add_argument("--engine", choices=("postgres", "embedded"), required=True)
    p.add_argument(
        "--dsn",
        default=os.environ.get("PLOWLINE_POSTGRES_DSN"),
        help="PostgreSQL URL (postgres engine; default: $PLOWLINE_POSTGRES_DSN)",
    )
    p.add_argument("--path", type=Path, help="embedded store file (embedded engine)")
    p.add_argument("--derived-path", type=Path, help="file for the model tables (embedded)")
    p.add_argument(
        "--lookback-hours",
        type=_positive_hours,
        default=6.0,
        help="late events up to this far behind the high-water mark are picked up (default 6)",
    )
    p.add_argument("--heartbeat", type=int, default=10, help="page ping interval, s (10)")
    p.add_argument(
        "--min-visit-length", type=int, default=5, help="delay of the first page ping, s (5)"
    )
    p.add_argument(
        "--app-id",
        action="append",
        default=[],
        help="model only events of this app_id (repeat for several; default: every app_id)",
    )
    p.add_argument(
        "--entities",
        choices=("auto", "columns", "jsonb"),
        default="auto",
        help="how the loader stored entities (plowline-load --entities); default: look at "
        "the web_page table",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


def _engine(args: argparse.Namespace, p: argparse.ArgumentParser) -> Engine:
    if args.engine == "postgres":
        if not args.dsn:
            p.error("--engine postgres needs --dsn (or PLOWLINE_POSTGRES_DSN)")
        return PostgresEngine(args.dsn)
    if args.path is None:
        p.error("--engine embedded needs --path")
    return SqliteEngine(args.path, args.derived_path)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    started = time.monotonic()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - started:7.2f}s] {message}", file=sys.stderr, flush=True)

    try:
        config = ModelConfig(
            lookback=timedelta(hours=args.lookback_hours),
            heartbeat_s=args.heartbeat,
            min_visit_length_s=args.min_visit_length,
            entities=args.entities,
            app_ids=tuple(args.app_id),
        )
    except ConfigError as exc:
        p.error(str(exc))
    try:
        with _engine(args, p) as engine:
            if args.command == "test":
                results = run_data_tests(engine, progress)
                failed = [r for r in results if not r.passed]
                print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
                return 1 if failed else 0
            report = run(
                engine, config, full_refresh=args.command == "full-refresh", progress=progress
            )
            print(
                f"{report.mode}: {report.sessions_in_scope} sessions rebuilt, "
                f"{report.counts['page_views']} page views, {report.counts['apply']} users "
                f"in {report.seconds:.2f}s; high-water mark {report.high_water}"
            )
            return 0
    except ModelError as exc:
        print(f"plowline-models: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
