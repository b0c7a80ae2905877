"""`plowline services up | down | status | env | install` for development and CI."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import Any, TextIO

from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.errors import ServiceError
from plowline.conformance.services.handle import endpoint_problem
from plowline.conformance.services.procs import is_alive
from plowline.conformance.services.provision import Provisioner, attach_endpoint
from plowline.conformance.services.state import InstanceRecord, StateStore, clean_stale, stop_record

KIND_NAMES = [k.value for k in ServiceKind]


def add_parser(subparsers: Any) -> None:
    """Register `services` and its subcommands on the top-level `plowline` parser."""
    services = subparsers.add_parser(
        "services",
        help="start, stop and inspect PostgreSQL, Kafka and LocalStack/moto on 127.0.0.1",
        description=(
            "Real services without containers. `up` starts them as detached local processes "
            "(state in $PLOWLINE_CACHE_DIR/services/state.json, default ~/.cache/plowline) and "
            "prints `export PLOWLINE_...=` lines for tests to attach; `down` stops them."
        ),
    )
    services.set_defaults(run=run)
    sub = services.add_subparsers(dest="action", required=True, metavar="ACTION")

    def kinds_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "kinds",
            nargs="*",
            type=_service_kind,
            metavar="SERVICE",
            help=f"any of {', '.join(KIND_NAMES)} (default: all)",
        )

    up = sub.add_parser(
        "up",
        help="start services in the background and print their endpoints",
        description="Start services as detached processes; stdout gets `export` lines, "
        'so `eval "$(plowline services up)"` attaches this shell.',
    )
    kinds_arg(up)
    up.set_defaults(handler=_up)

    down = sub.add_parser("down", help="stop services started by `up` and clean leftovers")
    kinds_arg(down)
    down.add_argument(
        "--all", action="store_true", help="also stop services owned by running test sessions"
    )
    down.set_defaults(handler=_down)

    status = sub.add_parser(
        "status", help="list recorded services and check their health (exit 1 if one is unhealthy)"
    )
    status.set_defaults(handler=_status)

    env = sub.add_parser("env", help="print `export` lines for the services started by `up`")
    env.set_defaults(handler=_env)

    install = sub.add_parser(
        "install",
        help="install what local services need (idempotent; reuses caches)",
        description="Installs missing system packages with apt-get (postgresql, "
        "openjdk-17-jre-headless, maven; only when missing, as root), resolves Kafka's jars "
        "from Maven Central, builds the LocalStack and moto virtualenvs and warms LocalStack's "
        "Kinesis emulator. Exit status 1 when a required step failed.",
    )
    kinds_arg(install)
    install.add_argument(
        "--no-system", action="store_true", help="never run apt-get; report what is missing"
    )
    install.add_argument(
        "--no-warm", action="store_true", help="skip starting LocalStack to warm Kinesis"
    )
    install.set_defaults(handler=_install)


def _service_kind(text: str) -> ServiceKind:
    try:
        return ServiceKind(text.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown service {text!r} (choose from {', '.join(KIND_NAMES)})"
        ) from None


def _kinds(args: argparse.Namespace) -> list[ServiceKind]:
    kinds: list[ServiceKind] = args.kinds or list(ServiceKind)
    return list(dict.fromkeys(kinds))


def _detached_running(store: StateStore, kind: ServiceKind) -> InstanceRecord | None:
    for record in store.load():
        if record.kind == kind.value and record.detached and is_alive(record.leader):
            return record
    return None


def _record_problem(record: InstanceRecord) -> str | None:
    if not is_alive(record.leader):
        return "paused by its test session" if record.paused else "process is gone"
    variable, value = next(
        ((k, v) for k, v in record.env.items() if k.startswith("PLOWLINE_")), ("", "")
    )
    try:
        endpoint = attach_endpoint(ServiceKind(record.kind), value)
    except ValueError as exc:
        return f"unreadable endpoint {variable}={value!r}: {exc}"
    return endpoint_problem(endpoint)


def _settled_problem(record: InstanceRecord, attempts: int = 3, pause: float = 1.0) -> str | None:
    """Like _record_problem, but a live service must fail several checks in a row.

    On a loaded machine one health probe can time out; replacing a healthy service for that
    would break everyone attached to it.
    """
    problem = _record_problem(record)
    for _ in range(attempts - 1):
        if problem is None or not is_alive(record.leader):
            break
        time.sleep(pause)
        problem = _record_problem(record)
    return problem


def _exports(env: dict[str, str]) -> list[str]:
    return [f"export {key}={shlex.quote(value)}" for key, value in env.items()]


def _up(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    provisioner = Provisioner(settings)
    store = provisioner.store
    for line in clean_stale(store):
        print(f"cleaned: {line}", file=err)
    exports: list[str] = []
    status = 0
    for kind in _kinds(args):
        existing = _detached_running(store, kind)
        problem = None if existing is None else _settled_problem(existing)
        if existing is not None and problem is None:
            print(
                f"{kind.value}: already running ({existing.backend}, pid {existing.pid})", file=err
            )
            exports += _exports(existing.env)
            continue
        if existing is not None:
            print(
                f"{kind.value}: replacing unhealthy {existing.backend} "
                f"(pid {existing.pid}: {problem})",
                file=err,
            )
            stop_record(existing)
            store.remove(existing.id)
        try:
            handle = provisioner.provision(
                kind, detached=True, allow_attach=False, allow_docker=False
            )
        except ServiceError as exc:
            print(f"{kind.value}: FAILED: {exc}", file=err)
            status = 1
            continue
        print(handle.describe(), file=err)
        for note in handle.notes:
            print(f"  - {note}", file=err)
        exports += _exports(handle.env())
    for line in exports:
        print(line, file=out)
    return status


def _down(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    store = StateStore(settings.state_file)
    wanted = {k.value for k in _kinds(args)}
    stopped = 0
    for record in store.load():
        if record.kind not in wanted or not (
            record.detached or args.all or not record.owner_alive()
        ):
            continue
        stop_record(record)
        store.remove(record.id)
        print(f"stopped {record.kind}: {record.backend} (pid {record.pid})", file=out)
        stopped += 1
    for line in clean_stale(store):
        print(f"cleaned: {line}", file=out)
    if not stopped:
        print("nothing to stop", file=out)
    return 0


def _status(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    records = StateStore(settings.state_file).load()
    if not records:
        print("no services recorded (start some with `plowline services up`)", file=out)
        return 0
    unhealthy = 0
    for record in records:
        problem = _record_problem(record)
        owner = "detached" if record.detached else f"test session pid {record.owner_pid}"
        if not record.owner_alive():
            owner += " (exited: stale)"
        health = "healthy" if problem is None else f"UNHEALTHY: {problem}"
        address = next((v for k, v in record.env.items() if k.startswith("PLOWLINE_")), "?")
        print(
            f"{record.kind:<8} {record.backend:<24} pid {record.pid:<7} {owner:<28} "
            f"{address}  {health}",
            file=out,
        )
        unhealthy += problem is not None and record.detached
    return 1 if unhealthy else 0


def _env(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    store = StateStore(settings.state_file)
    for kind in ServiceKind:
        record = _detached_running(store, kind)
        if record is not None:
            for line in _exports(record.env):
                print(line, file=out)
    return 0


def _install(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    from plowline.conformance.services.install import run_install

    ok = run_install(
        _kinds(args), settings, system=not args.no_system, warm=not args.no_warm, out=out
    )
    return 0 if ok else 1


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out  # looked up now: pytest's capsys replaces them
    err = sys.stderr if err is None else err
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"plowline services: {exc}", file=err)
        return 2
    handler = args.handler
    result: int = handler(args, settings, out, err)
    return result
