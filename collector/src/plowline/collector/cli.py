"""``plowline-collector``: run the Snowplow-compatible collector."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from plowline.collector import __version__
from plowline.collector.config import ENV_PREFIX, ConfigError, load_config

DESCRIPTION = """\
Snowplow-compatible event collector. Receives tracker requests (GET /i, POST
/com.snowplowanalytics.snowplow/tp2, webhooks on /{vendor}/{version}), records each as a
CollectorPayload Thrift record and writes it to the configured good sink (stdout, file,
kafka, kinesis, sqs, s3, memory); oversized payloads go to the bad sink as size_violation
bad rows. A 200 means the record is in the sink or in a bounded buffer; a full buffer is
answered 503 so trackers retry. SIGTERM drains the buffers before exit.
"""

EPILOG = f"""\
configuration:
  Without --config every setting has its default (stdout sinks, 127.0.0.1:8080).
  Environment variables override the file: {ENV_PREFIX}<SECTION>__<KEY>, e.g.
    {ENV_PREFIX}HTTP__PORT=9090
    {ENV_PREFIX}SINKS__GOOD__TYPE=kafka
    {ENV_PREFIX}SINKS__GOOD__BOOTSTRAP_SERVERS=127.0.0.1:9092
    {ENV_PREFIX}SINKS__GOOD__TOPIC=raw
  Values are parsed as TOML when possible (true, 8080, ["a","b"]), else taken as strings.
  See collector/README.md and collector/examples/collector.toml for every key.

endpoints:
  GET|HEAD /i, /ice.png          pixel tracking (43-byte GIF)
  GET|HEAD|POST /VENDOR/VERSION  tracker protocol v2 and webhooks
  /r/tp2                         click redirect (off unless [redirect] enabled)
  OPTIONS *                      CORS preflight
  /health /sink-health /metrics /robots.txt /crossdomain.xml
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plowline-collector",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML configuration file")
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the configuration, print it as JSON and exit",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"plowline-collector: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(config.model_dump_json(indent=2))
        return 0
    from plowline.collector.server import serve

    serve(config, args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
