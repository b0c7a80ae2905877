"""``plowline-enrich``: run the streaming enricher, replay bad rows, enrich a file once.

plowline-enrich run --input URL --good URL --bad URL [--pii URL] [--enrichments DIR]
                    [--resolver FILE] [--schemas DIR ...] [--workers N]
plowline-enrich replay --input FILE --good URL --bad URL [--pii URL] [--enrichments DIR]
                       [--resolver FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from plowline.enrich import __version__
from plowline.enrich.app import EnrichApp, write_all
from plowline.enrich.bounds import DEFAULT_MAX_BAD_ROWS_PER_RECORD
from plowline.enrich.enrichments.config import EnrichmentConfigError
from plowline.enrich.enrichments.pii import PiiPseudonymizer
from plowline.enrich.outputs import to_outputs
from plowline.enrich.replay import passthrough, replay_line
from plowline.enrich.worker import DEFAULT_IGLU_BATCH_BUDGET, WorkerConfig, build_context
from plowline.spec.registries import DEFAULT_HTTP_TIMEOUT
from plowline.streams import Record, StreamError, open_sink, open_source

log = logging.getLogger("plowline.enrich")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--good", required=True, help="sink URL for enriched TSV events")
    parser.add_argument("--bad", required=True, help="sink URL for bad rows (JSON lines)")
    parser.add_argument("--pii", help="sink URL for PII transformation events")
    parser.add_argument("--enrichments", type=Path, help="directory of enrichment SDJ configs")
    parser.add_argument("--resolver", type=Path, help="Iglu resolver-config JSON file")
    parser.add_argument(
        "--schemas", type=Path, action="append", default=[],
        help="extra folder of schemas (vendor/name/format/version), repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--iglu-timeout", type=_seconds, default=DEFAULT_HTTP_TIMEOUT, metavar="SECONDS",
        help="time for one lookup at an HTTP Iglu registry "
        f"(default {DEFAULT_HTTP_TIMEOUT:g})",
    )  # fmt: skip
    parser.add_argument(
        "--max-bad-rows-per-record", type=int, default=DEFAULT_MAX_BAD_ROWS_PER_RECORD,
        metavar="N", help="bad rows one raw record may produce; past N, one summary row "
        f"carrying the whole record (default {DEFAULT_MAX_BAD_ROWS_PER_RECORD}; -1: no bound)",
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plowline-enrich", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"plowline-enrich {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="enrich a raw stream into good/bad(/pii) streams")
    run.add_argument("--input", required=True, help="source URL of CollectorPayload records")
    _common(run)
    run.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    run.add_argument("--batch-size", type=int, default=500)
    run.add_argument(
        "--iglu-batch-budget", type=_seconds, default=DEFAULT_IGLU_BATCH_BUDGET,
        metavar="SECONDS", help="total time the Iglu HTTP lookups of one batch may wait; then "
        f"lookups fail at once until the next batch (default {DEFAULT_IGLU_BATCH_BUDGET:g})",
    )  # fmt: skip
    run.add_argument(
        "--commit-interval", type=_seconds_or_zero, default=1.0, metavar="SECONDS",
        help="flush the sinks and commit the input at most this often (0: after every batch; "
        "a crash re-reads what was not committed; default 1)",
    )  # fmt: skip
    run.add_argument(
        "--exit-when-idle", type=float, default=None,
        help="stop after the input has been empty this many seconds (batch jobs, tests)",
    )  # fmt: skip
    replay = sub.add_parser("replay", help="re-process a file of bad rows (JSON lines)")
    replay.add_argument("--input", required=True, type=Path, help="file of bad rows")
    _common(replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if args.command == "run":
            return _run(args)
        return _replay(args)
    except (EnrichmentConfigError, StreamError, OSError, ValueError) as exc:
        print(f"plowline-enrich: {exc}", file=sys.stderr)
        return 2


def _seconds_or_zero(text: str) -> float:
    return 0.0 if text.strip() in ("0", "0.0") else _seconds(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 seconds")
    return value


def _config(args: argparse.Namespace, good_limit: int, bad_limit: int) -> WorkerConfig:
    return WorkerConfig(
        resolver=args.resolver, enrichments=args.enrichments, schema_dirs=tuple(args.schemas),
        max_good_bytes=good_limit, max_bad_bytes=bad_limit,
        max_bad_rows_per_record=args.max_bad_rows_per_record, iglu_timeout=args.iglu_timeout,
        iglu_batch_budget=getattr(args, "iglu_batch_budget", None),
    )  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    source = open_source(args.input)
    good, bad = open_sink(args.good), open_sink(args.bad)
    pii = open_sink(args.pii) if args.pii else None
    config = _config(args, good.max_record_bytes, bad.max_record_bytes)
    enrichments = build_context(config).enrichments  # fail fast on a bad config
    for enrichment in enrichments:
        enrichment.close()
    if pii is None and any(isinstance(e, PiiPseudonymizer) and e.emit_event for e in enrichments):
        log.warning(
            "the PII enrichment has emitEvent on but no --pii sink is given: its "
            "pii_transformation events (which hold the original values) will be dropped"
        )
    app = EnrichApp(source, good, bad, pii, config, workers=max(1, args.workers),
                    batch_size=args.batch_size, commit_interval=args.commit_interval)  # fmt: skip
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        counters = app.run(stop, idle_exit=args.exit_when_idle)
    finally:
        app.close()
    dropped = f", {counters.pii_dropped} pii_transformation events dropped (no --pii)"
    print(
        f"plowline-enrich: {counters.records} records -> {counters.good} good, "
        f"{counters.bad} bad, {counters.pii} pii{dropped if counters.pii_dropped else ''}",
        file=sys.stderr,
    )
    return 0


def _replay(args: argparse.Namespace) -> int:
    good, bad = open_sink(args.good), open_sink(args.bad)
    pii = open_sink(args.pii) if args.pii else None
    ctx = build_context(_config(args, good.max_record_bytes, bad.max_record_bytes))
    counts = {"rows": 0, "recovered": 0, "still_bad": 0, "kept": 0, "skipped": 0,
              "pii_dropped": 0}  # fmt: skip
    outputs: dict[str, list[Record]] = {"good": [], "bad": [], "pii": []}
    with args.input.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            counts["rows"] += 1
            results = replay_line(line, ctx)
            if results is None:
                kept = passthrough(line)
                if kept is None:
                    counts["skipped"] += 1
                else:
                    counts["kept"] += 1
                    outputs["bad"].append(Record(kept.to_json().encode()))
                continue
            channels = to_outputs(results, ctx.processor, ctx.clock_ms(),
                                  good.max_record_bytes, bad.max_record_bytes)  # fmt: skip
            counts["still_bad" if any(c == "bad" for c, _ in channels) else "recovered"] += 1
            for channel, value in channels:
                if channel == "pii" and pii is None:  # holds clear values: never good output
                    counts["pii_dropped"] += 1
                    continue
                outputs[channel].append(Record(value))
    for enrichment in ctx.enrichments:
        enrichment.close()
    for sink, channel in ((good, "good"), (bad, "bad"), (pii, "pii")):
        if sink is not None:
            write_all(sink, outputs[channel])
            sink.close()
    print("plowline-enrich replay: " + ", ".join(f"{k}={v}" for k, v in counts.items()),
          file=sys.stderr)  # fmt: skip
    if counts["pii_dropped"]:
        print(f"plowline-enrich replay: {counts['pii_dropped']} pii_transformation events "
              "dropped: they hold the original PII values and no --pii sink is given",
              file=sys.stderr)  # fmt: skip
    return 0
