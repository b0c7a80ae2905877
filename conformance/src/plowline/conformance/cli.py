"""The `plowline` command line: one argparse tree, one module per command group.

A group module offers `add_parser(subparsers)`, which registers its subcommand and sets the
`run` default to a function taking the parsed arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
import sys

from plowline.conformance import __version__
from plowline.conformance.harness import cli as harness_cli
from plowline.conformance.services import cli as services_cli
from plowline.conformance.up import cli as up_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plowline",
        description="Plowline: an open pipeline and conformance suite for the Snowplow "
        "tracker protocol.",
    )
    parser.add_argument("--version", action="version", version=f"plowline {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    services_cli.add_parser(commands)
    harness_cli.register(commands)
    up_cli.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    # Groups set `run` (services) or `handler` (conformance): both take the parsed arguments.
    command = getattr(args, "run", None) or args.handler
    status: int = command(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
