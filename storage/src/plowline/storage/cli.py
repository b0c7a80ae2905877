"""`plowline-load`: load enriched events from a stream into PostgreSQL, S3 or the embedded store."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from plowline.storage import runner
from plowline.storage.copyplans import NATIVE_AVAILABLE, NATIVE_MISSING, encoder_name, native_wanted
from plowline.storage.schemas import DirectorySchemas
from plowline.storage.streams import Sink, Source, StreamError, open_sink, open_source

EPILOG = """\
sources (--from): kafka://<bootstrap>/<topic>?group=<g>, kinesis://<stream>?endpoint_url=...,
  sqs://<queue>, s3://<bucket>/<prefix>, file:///abs/path (a file or a folder of part files),
  stdin:, memory://<name>; a bare path means a file.
bad rows (--bad): any sink URL, e.g. file:///var/plowline/bad/ or kafka://host:9092/bad.

examples:
  plowline-load postgres --from kafka://localhost:9092/enriched?group=pg --dsn postgresql://...
  plowline-load embedded --from /data/enriched.tsv --db plowline.sqlite
  plowline-load s3 --from kinesis://enriched --bucket lake --prefix enriched --max-age 60
"""


def _source_url(value: str) -> str:
    if "://" in value or value in ("stdin:", "-"):
        return "stdin:" if value == "-" else value
    return "file://" + str(Path(value).resolve())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="plowline-load",
        description="Load Plowline/Snowplow enriched events (131-field TSV) from a stream.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="target", required=True, metavar="{postgres,embedded,s3}")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--from", dest="source", required=True, help="source stream URL or path")
        sp.add_argument("--group", help="consumer group (kafka) when not in the URL")
        sp.add_argument(
            "--idle-exit",
            type=float,
            default=None,
            help="stop after this many seconds without input (default: 2 for files/stdin, "
            "never for streams)",
        )
        sp.add_argument("--progress-every", type=float, default=5.0, metavar="SECONDS")
        sp.add_argument("-v", "--verbose", action="store_true")

    def tables(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--bad", help="sink URL for loader bad rows (default: stdout:)")
        sp.add_argument("--batch-size", type=int, default=10_000)
        sp.add_argument("--max-wait", type=float, default=5.0, help="seconds to fill a batch")
        sp.add_argument(
            "--entities",
            choices=("columns", "jsonb"),
            default="columns",
            help="entity tables: one column per schema property, or a single JSON column",
        )
        sp.add_argument(
            "--schemas",
            action="append",
            type=Path,
            default=[],
            help="extra Iglu schema folder (<vendor>/<name>/jsonschema/<version>); repeatable",
        )

    pg = sub.add_parser("postgres", help="atomic.events + per-schema tables in PostgreSQL")
    common(pg)
    tables(pg)
    pg.add_argument(
        "--dsn",
        default=os.environ.get("PLOWLINE_POSTGRES_DSN"),
        help="postgresql:// URL (default: $PLOWLINE_POSTGRES_DSN)",
    )
    pg.add_argument("--schema", default="atomic", help="database schema (default: atomic)")
    pg.add_argument("--retry-for", type=float, default=120.0, help="seconds to ride out outages")
    pg.add_argument(
        "--workers",
        type=int,
        default=2,
        help="connections loading batches in parallel (threads with the native encoder, "
        "processes without it); source commits stay in order (default: 2)",
    )
    pg.add_argument(
        "--encoder",
        choices=("auto", "native", "python"),
        default="auto",
        help="COPY encoder: native (plowline.copytext, the `native` extra), python (the "
        "reference), or auto: native when installed, unless PLOWLINE_STORAGE_NATIVE=0 "
        "(default: auto)",
    )

    em = sub.add_parser("embedded", help="the same tables in a local SQLite file")
    common(em)
    tables(em)
    em.add_argument("--db", required=True, type=Path, help="SQLite database file")

    s3 = sub.add_parser("s3", help="gzip TSV objects partitioned by date and hour")
    common(s3)
    s3.add_argument("--bucket", required=True)
    s3.add_argument("--prefix", default="")
    s3.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    s3.add_argument("--region", default=None)
    s3.add_argument("--input", choices=("enriched", "badrows"), default="enriched")
    s3.add_argument("--partition-by-schema", action="store_true")
    s3.add_argument("--max-bytes", type=int, default=64 * 1024 * 1024, help="rotate at this size")
    s3.add_argument("--max-age", type=float, default=300.0, help="rotate after these seconds")
    return p


def _open_source(args: argparse.Namespace) -> tuple[Source, float | None]:
    url = _source_url(args.source)
    options = {"group": args.group} if args.group else {}
    idle = args.idle_exit
    if idle is None and (url.startswith("file:") or url.startswith("stdin:")):
        idle = 2.0
    return open_source(url, **options), idle


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = runner.Stopper()
    stop.install()
    with contextlib.ExitStack() as closing:
        return _run(args, stop, closing)


def _run(args: argparse.Namespace, stop: runner.Stopper, closing: contextlib.ExitStack) -> int:
    try:
        source, idle = _open_source(args)
        closing.callback(source.close)
        if args.target == "s3":
            from plowline.storage.s3loader import S3Loader

            s3 = S3Loader(
                args.bucket,
                args.prefix,
                endpoint_url=args.endpoint_url,
                region=args.region,
                input_kind=args.input,
                partition_by_schema=args.partition_by_schema,
                max_bytes=args.max_bytes,
                max_age=args.max_age,
            )
            runner.run_s3(source, s3, idle_exit=idle, progress_every=args.progress_every, stop=stop)
            return 0
        bad: Sink = open_sink(args.bad or "stdout:")
        closing.callback(bad.close)
        schemas = DirectorySchemas([*args.schemas, *DirectorySchemas().roots])
        loader: runner.BatchLoader
        if args.target == "postgres":
            if not args.dsn:
                print("plowline-load: --dsn or PLOWLINE_POSTGRES_DSN is required", file=sys.stderr)
                return 2
            if args.encoder == "native" and not NATIVE_AVAILABLE:
                print(f"plowline-load: --encoder native: {NATIVE_MISSING}", file=sys.stderr)
                return 2
            native = native_wanted({"auto": None, "native": True, "python": False}[args.encoder])
            print(f"plowline-load: COPY encoder {encoder_name(native)}", file=sys.stderr)
            if args.workers > 1:
                from plowline.storage.parallel import ParallelLoader, run_parallel

                parallel = ParallelLoader(
                    args.dsn,
                    workers=args.workers,
                    schema=args.schema,
                    entity_mode=args.entities,
                    schemas=schemas,
                    retry_for=args.retry_for,
                    native=native,
                )
                closing.callback(parallel.close)
                run_parallel(
                    source,
                    parallel,
                    bad_sink=bad,
                    batch_size=args.batch_size,
                    max_wait=args.max_wait,
                    idle_exit=idle,
                    progress_every=args.progress_every,
                    stop=stop,
                )
                return 0
            from plowline.storage.postgres import PostgresLoader

            pg = PostgresLoader(
                args.dsn,
                schema=args.schema,
                entity_mode=args.entities,
                schemas=schemas,
                retry_for=args.retry_for,
                native=native,
            )
            closing.callback(pg.close)
            pg.setup()
            loader = pg
        else:
            from plowline.storage.embedded import EmbeddedLoader

            em = EmbeddedLoader(args.db, entity_mode=args.entities, schemas=schemas)
            closing.callback(em.close)
            em.setup()
            loader = em
        runner.run_batches(
            source,
            loader,
            bad_sink=bad,
            batch_size=args.batch_size,
            max_wait=args.max_wait,
            idle_exit=idle,
            progress_every=args.progress_every,
            stop=stop,
        )
        return 0
    except StreamError as exc:
        print(f"plowline-load: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a database that stayed away, a bad DSN: say so, no traceback
        if args.verbose:
            raise
        print(f"plowline-load: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
