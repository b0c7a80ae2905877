"""`plowline up`: the whole pipeline in one process, for development and tracker tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from plowline.conformance.up.pipeline import OutputFormat

DESCRIPTION = """\
Run collector, enricher and the embedded SQLite store in one process, with an inspection API
compatible with Snowplow Micro's (/micro/all, /micro/good, /micro/bad, /micro/reset,
/micro/iglu/..., /micro/events) and a web UI at /micro/ui. Snowplow Micro's own files work:
--collector-config micro.conf (the collector's HOCON config) and --iglu iglu.json (an Iglu
resolver config).

Point a tracker at the collector URL it prints (same paths as a Snowplow collector:
/com.snowplowanalytics.snowplow/tp2, /i, ...). The collector cookie is called `micro` unless
--collector-config or --cookie-name names another. Ctrl-C or SIGTERM stops it cleanly:
accepted requests are enriched and stored before it exits.

What is kept:
  --persist PATH  every request answered 200 is first written to the store's journal, so it
                  survives a crash or kill -9 (not a power cut) and is processed at the next
                  start; events stay in PATH across restarts.
  without it      the store is a temporary file, removed when plowline up exits: nothing is
                  kept after a stop, and a crash or kill -9 loses everything.
When enriching falls behind, the queue is bounded: the collector answers 503 (trackers send
again) rather than growing without limit. /micro/reset forgets every event accepted before it.
"""

EPILOG = """\
examples:
  plowline up
  plowline up --port 9191 --persist ./events.sqlite --schemas ./schemas
  plowline up --collector-config micro.conf --iglu iglu.json     (Micro's files)
  plowline up --output-json | jq .event_name
  curl -s localhost:9090/micro/all
"""


def add_parser(subparsers: Any) -> None:
    """Register `up` on the top-level `plowline` parser."""
    up = subparsers.add_parser(
        "up",
        help="collector + enrich + embedded store in one process, Micro-compatible API and UI",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument(
        "--host",
        help="address to listen on (default: the collector config's `interface`, else 127.0.0.1)",
    )
    up.add_argument(
        "--port",
        type=_port,
        help="port for the collector, API and UI (default: the collector config's `port`, "
        "else 9090 like Micro; 0 picks a free one)",
    )
    micro = up.add_argument_group("Snowplow Micro's options")
    micro.add_argument(
        "--collector-config",
        "--config",
        dest="collector_config",
        type=Path,
        metavar="FILE",
        help="Micro's collector config (HOCON, e.g. micro.conf): cookie (name, domains, "
        "fallbackDomain, expiration, secure, httpOnly, sameSite), doNotTrackCookie, paths, cors, "
        "rootResponse, crossDomain, redirects; deployment keys (streams, ssl, ...) are ignored "
        "and named at start",
    )
    micro.add_argument(
        "--iglu",
        type=Path,
        metavar="FILE",
        help="Iglu resolver config (JSON, e.g. iglu.json) whose registries are asked for schemas "
        "plowline up does not embed (default: embedded schemas and --schemas folders only)",
    )
    micro.add_argument(
        "--destination",
        metavar="URL",
        help="Micro's forwarding of events to a URL: not supported, refused",
    )
    micro.add_argument(
        "--no-storage",
        action="store_true",
        help="Micro's run without keeping events: not supported, refused",
    )
    micro.add_argument(
        "--yauaa",
        action="store_true",
        help="Micro's YAUAA enrichment: not supported, refused (the ua_parser enrichment "
        "is available through --enrichments)",
    )
    up.add_argument(
        "--persist",
        type=Path,
        metavar="PATH",
        help="SQLite file that keeps events across restarts, each answered request journaled "
        "before the answer (default: a temporary file, removed at exit); "
        "a damaged store is moved aside to PATH.corrupt-<timestamp>; a folder, a file that is "
        "not SQLite or another program's database is refused and left alone",
    )
    up.add_argument(
        "--schemas",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="folder of extra Iglu schemas laid out vendor/name/jsonschema/M-R-A (repeatable); "
        "checked file by file (bad files are reported and skipped) and reloaded on change",
    )
    up.add_argument(
        "--enrichments",
        type=Path,
        metavar="DIR",
        help="folder of enrichment configuration JSON files (as Snowplow enrich reads them)",
    )
    out = up.add_mutually_exclusive_group()
    out.add_argument(
        "--output-tsv",
        dest="output",
        action="store_const",
        const="tsv",
        help="print every enriched event to stdout as a 131-field TSV line",
    )
    out.add_argument(
        "--output-json",
        dest="output",
        action="store_const",
        const="json",
        help="print every enriched event to stdout as analytics-SDK JSON (one per line)",
    )
    up.add_argument(
        "--cookie-name",
        help="collector cookie name (default: the collector config's, else micro)",
    )
    up.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def run(args: argparse.Namespace) -> int:
    from plowline.conformance.up.micro_config import MicroConfigError, load
    from plowline.conformance.up.server import ListenError, UpOptions, UpServer
    from plowline.conformance.up.store import StoreError
    from plowline.enrich.enrichments.config import EnrichmentConfigError
    from plowline.spec.errors import ResolverConfigError
    from pydantic import ValidationError

    output: OutputFormat | None = args.output
    refused = [
        (args.destination is not None, "--destination (forwarding events to a URL)"),
        (args.no_storage, "--no-storage (plowline up always keeps the events for its API)"),
        (args.yauaa, "--yauaa (use the ua_parser enrichment through --enrichments)"),
    ]
    for asked, what in refused:
        if asked:
            print(f"plowline up: {what} is not supported", file=sys.stderr)
            return 2
    if args.iglu is not None and not args.iglu.is_file():
        print(f"plowline up: --iglu: {args.iglu} is not a file", file=sys.stderr)
        return 2
    overrides: dict[str, object] = {}
    host, port, cookie_name = args.host, args.port, args.cookie_name
    if args.collector_config is not None:
        try:
            micro = load(args.collector_config)
        except MicroConfigError as exc:
            print(f"plowline up: --collector-config: {exc}", file=sys.stderr)
            return 2
        for key in micro.ignored:
            print(f"plowline up: --collector-config: {key} has no effect here", file=sys.stderr)
        overrides = micro.overrides
        host = host if host is not None else micro.host
        port = port if port is not None else micro.port
        configured = overrides.get("cookie")
        if cookie_name is None and isinstance(configured, dict) and "name" in configured:
            cookie_name = configured["name"]
    if cookie_name is not None:
        overrides.setdefault("cookie", {})
        cookie = overrides["cookie"]
        assert isinstance(cookie, dict)
        cookie["name"] = cookie_name
    for folder in [*args.schemas, *([args.enrichments] if args.enrichments else [])]:
        if not folder.is_dir():
            print(f"plowline up: {folder} is not a folder", file=sys.stderr)
            return 2
    options = UpOptions(
        host=host if host is not None else "127.0.0.1",
        port=port if port is not None else 9090,
        persist=args.persist,
        schemas=tuple(args.schemas),
        enrichments=args.enrichments,
        output=output,
        resolver_config=args.iglu,
        collector_overrides=overrides,
    )
    try:
        server = UpServer(options)
    except EnrichmentConfigError as exc:
        print(f"plowline up: enrichment configuration: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"plowline up: --persist: {exc}", file=sys.stderr)
        return 2
    except ResolverConfigError as exc:
        print(f"plowline up: --iglu: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"plowline up: collector configuration: {exc}", file=sys.stderr)
        return 2
    except ListenError as exc:
        print(f"plowline up: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"plowline up: cannot start: {exc}", file=sys.stderr)
        return 1
    # stdout carries the events with --output-*: the banner then goes to stderr.
    print(server.banner(), file=sys.stderr if output else sys.stdout, flush=True)
    server.serve()
    print("plowline up: stopped; events stored", file=sys.stderr, flush=True)
    return 0
