"""`plowline-spec`: validate documents, resolve schemas, check the spec folder.

Exit codes: 0 valid / found, 1 invalid / not found, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from plowline.spec.decoding import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, Limits
from plowline.spec.errors import InvalidIgluUriError, ResolutionError, ResolverConfigError
from plowline.spec.iglu import SchemaKey
from plowline.spec.mirror import IGLU_CENTRAL, MirrorError, keys_in, mirror
from plowline.spec.registries import EmbeddedRegistry, Registry, dump_schema
from plowline.spec.reports import NotJsonFailure, ValidationReport
from plowline.spec.resolver import Resolver, resolution_error_json
from plowline.spec.validation import Validator

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Plowline's spec tool: validate self-describing JSON and Snowplow tracker payloads against Iglu
schemas, print a schema, or check the spec folder.

Schemas come from Plowline's own spec (always), then any --schemas folders (asked first), then
the repositories of a --resolver config (Iglu resolver-config 1-0-0..1-0-3).

exit codes: 0 valid/found, 1 invalid/not found, 2 usage or I/O error"""

_VALIDATE_EPILOG = """\
A payload_data document (a tracker POST body) is checked item by item, including the contexts
and self-describing events inside cx/co/ue_px/ue_pr. Paths in messages go through decoded
fields: $.data[0].cx.data[1] is the second entity in item 0's cx.

examples:
  plowline-spec validate spec/examples/page_view.json
  curl -s ... | plowline-spec validate - --json
  plowline-spec validate event.json --schemas ./my-schemas --resolver iglu_resolver.json"""


class UsageError(Exception):
    """Bad arguments or unreadable inputs: exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plowline-spec",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="validate self-describing JSON / tracker payloads",
        description="Validate self-describing JSON documents and tracker payloads (payload_data).",
        epilog=_VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="JSON file, or - for stdin")
    _resolver_options(validate)
    validate.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per file (valid, schema, failures with bad-row messages)",
    )
    validate.add_argument(
        "--max-depth",
        type=_positive_int,
        default=DEFAULT_MAX_DEPTH,
        metavar="N",
        help=f"deepest JSON nesting accepted (default {DEFAULT_MAX_DEPTH}, as Snowplow enrich)",
    )
    validate.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"largest document (and decoded field) accepted (default {DEFAULT_MAX_BYTES})",
    )

    resolve = commands.add_parser(
        "resolve",
        help="print the schema of an Iglu URI",
        description="Resolve an Iglu URI (iglu:vendor/name/format/M-R-A) and print the schema.",
    )
    resolve.add_argument("uri", metavar="IGLU_URI")
    _resolver_options(resolve)
    resolve.add_argument(
        "--json", action="store_true", help="on failure, print the Iglu ResolutionError JSON"
    )

    check = commands.add_parser(
        "check",
        help="check spec/: schemas, vectors, tables, generated files",
        description="Run plowline.spec.checks (schemas vs meta-schemas, vectors, tables).",
        add_help=False,
    )
    check.add_argument("args", nargs=argparse.REMAINDER, help="passed on to the checks")

    mirror = commands.add_parser(
        "mirror",
        help="copy an Iglu registry into a local folder for offline use",
        description="Copy the schemas of a static registry or an Iglu Server into DEST "
        "(DEST/schemas/<vendor>/<name>/<format>/<version>, an embedded registry). An Iglu "
        "Server lists its schemas; for a static one (Iglu Central) name them with --schema or "
        "--keys-from. Prints one progress line per schema.",
    )
    mirror.add_argument("dest", type=Path, metavar="DEST")
    mirror.add_argument(
        "--from", dest="source", default=IGLU_CENTRAL, metavar="URI",
        help=f"registry URI, as in a resolver config (default {IGLU_CENTRAL}; an Iglu Server "
        "is https://host/api)",
    )  # fmt: skip
    mirror.add_argument("--apikey", help="Iglu Server API key (sent as the apikey header)")
    mirror.add_argument(
        "--schema", action="append", default=[], metavar="IGLU_URI", help="a schema to copy"
    )
    mirror.add_argument(
        "--keys-from", type=Path, action="append", default=[], metavar="DIR",
        help="copy the schemas whose keys this embedded folder holds (e.g. an older mirror)",
    )  # fmt: skip
    mirror.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return parser


def _resolver_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--resolver",
        type=Path,
        metavar="CONFIG.json",
        help="Iglu resolver-config file (cacheSize, cacheTtl, repositories)",
    )
    parser.add_argument(
        "--schemas",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="extra local schemas, laid out DIR/<vendor>/<name>/jsonschema/<M-R-A> "
        "(or DIR/schemas/...); repeatable; asked before the built-in ones",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def make_resolver(config: Path | None, schema_dirs: Sequence[Path]) -> Resolver:
    """The resolver the CLI uses: spec schemas, ``--schemas`` folders, ``--resolver`` config."""
    local: list[Registry] = []
    for i, folder in enumerate(schema_dirs):
        if not folder.is_dir():
            raise UsageError(f"--schemas {folder}: not a directory")
        root = folder / "schemas" if (folder / "schemas").is_dir() else folder
        # Priority -1: asked before the built-in spec schemas, so a folder can override them.
        local.append(EmbeddedRegistry(f"local schemas #{i + 1} ({folder})", root, priority=-1))
    if config is None:
        return Resolver(local)
    try:
        return Resolver.from_config(config, extra_registries=local)
    except ResolverConfigError as exc:
        raise UsageError(f"--resolver: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["check"]:
        # Everything after "check" belongs to the checks (argparse would claim "--options").
        return _check(args_list[1:], sys.stderr)
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        if args.command == "validate":
            return _validate(args, sys.stdout, sys.stderr)
        if args.command == "mirror":
            return _mirror(args, sys.stdout, sys.stderr)
        return _resolve(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        print(f"plowline-spec: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _mirror(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    keys: list[SchemaKey] | None = None
    if args.schema or args.keys_from:
        try:
            keys = [SchemaKey.parse(uri) for uri in args.schema]
        except InvalidIgluUriError as exc:
            raise UsageError(f"--schema: {exc}") from None
        for folder in args.keys_from:
            if not folder.is_dir():
                raise UsageError(f"--keys-from {folder}: not a directory")
            keys += keys_in(folder)
    try:
        report = mirror(
            args.source, args.dest, apikey=args.apikey, keys=keys, timeout=args.timeout,
            progress=lambda line: print(line, file=out, flush=True),
        )  # fmt: skip
    except (MirrorError, ValueError) as exc:
        print(f"plowline-spec mirror: {exc}", file=err)
        return EXIT_USAGE
    return 1 if report.failed else 0


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    resolver = make_resolver(args.resolver, args.schemas)
    validator = Validator(
        resolver, limits=Limits(max_depth=args.max_depth, max_bytes=args.max_bytes)
    )
    worst = EXIT_OK
    for name in args.files:
        try:
            raw = _read_input(name, args.max_bytes)
        except OSError as exc:
            message = f"cannot read {name}: {exc.strerror or exc}"
            if args.json:
                print(json.dumps({"file": name, "error": message}), file=out)
            print(f"plowline-spec: {message}", file=err)
            worst = EXIT_USAGE
            continue
        if raw is None:
            reason = f"document is more than the maximum of {args.max_bytes} bytes"
            report = ValidationReport((NotJsonFailure("$", None, None, reason),), None, 0)
        else:
            report = validator.validate(raw)
        _print_report(name, report, args.json, out)
        if not report.valid and worst == EXIT_OK:
            worst = EXIT_INVALID
    return worst


def _read_input(name: str, max_bytes: int) -> bytes | None:
    """The bytes of a file (or stdin for ``-``), or None when it is over ``max_bytes``."""
    if name == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        with Path(name).open("rb") as handle:
            data = handle.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def _print_report(name: str, report: ValidationReport, as_json: bool, out: TextIO) -> None:
    if as_json:
        payload: dict[str, Any] = {"file": name, **report.to_json()}
        print(json.dumps(payload, ensure_ascii=False), file=out)
        return
    schema = report.schema_key.uri if report.schema_key is not None else "no schema"
    if report.valid:
        print(
            f"{name}: valid ({schema}; {report.checked} self-describing document(s) checked)",
            file=out,
        )
        return
    count = len(report.failures)
    print(f"{name}: INVALID ({schema}; {count} failure(s))", file=out)
    for line in report.lines():
        print(f"  {line}", file=out)


def _resolve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        key = SchemaKey.parse(args.uri)
    except InvalidIgluUriError as exc:
        raise UsageError(str(exc)) from None
    resolver = make_resolver(args.resolver, args.schemas)
    try:
        schema = resolver.lookup(key)
    except ResolutionError as exc:
        if args.json:
            print(json.dumps(resolution_error_json(exc)), file=out)
        print(f"plowline-spec: {exc}", file=err)
        return EXIT_INVALID
    print(dump_schema(schema), file=out)
    return EXIT_OK


def _check(extra: list[str], err: TextIO) -> int:
    try:
        # Written separately and imported only when asked for, so validate/resolve never
        # depend on it.
        checks: Any = importlib.import_module("plowline.spec.checks")
    except ImportError as exc:
        print(f"plowline-spec: the spec checks are not available ({exc})", file=err)
        return EXIT_USAGE
    # Always pass the arguments: main(None) would read sys.argv, which starts with "check".
    result = checks.main(list(extra))
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
