"""`plowline services install`: put on this machine what the local provisioners need. Idempotent.

System packages (postgresql, openjdk-17-jre-headless, maven) are installed with apt-get only
when missing and only when we are root on a Debian-like system; everything else lands in the
cache dir (Kafka's jars, the LocalStack and moto virtualenvs, LocalStack's Kinesis emulator).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from plowline.conformance.services.config import AwsBackend, ServiceKind, Settings
from plowline.conformance.services.errors import MissingDependencyError, ServiceError

CREATECLUSTER_DROPIN = Path("/etc/postgresql-common/createcluster.d/plowline.conf")


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str
    required: bool = True

    def line(self) -> str:
        mark = "ok " if self.ok else ("FAIL" if self.required else "warn")
        return f"[{mark}] {self.name:<32} {self.seconds:6.1f} s  {self.detail}"


class AptInstaller:
    """apt-get install for missing system packages; runs `apt-get update` at most once."""

    def __init__(self, allowed: bool, timeout: float = 900.0) -> None:
        self.allowed = allowed
        self.timeout = timeout
        self._updated = False

    def available(self) -> bool:
        return self.allowed and os.geteuid() == 0 and shutil.which("apt-get") is not None

    def install(self, packages: list[str]) -> None:
        if not self.available():
            raise ServiceError(
                f"cannot install {' '.join(packages)} here (needs root and apt-get, "
                f"or was disabled with --no-system): run `apt-get install -y {' '.join(packages)}`"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        commands = [] if self._updated else [["apt-get", "update"]]
        commands.append(["apt-get", "install", "-y", "--no-install-recommends", *packages])
        for command in commands:
            result = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=self.timeout, check=False
            )
            if result.returncode != 0:
                raise ServiceError(
                    f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
                    f"{(result.stdout + result.stderr)[-3000:]}"
                )
        self._updated = True


def _timed(name: str, action: Callable[[], str], *, required: bool = True) -> StepResult:
    began = time.monotonic()
    try:
        detail = action()
    except (ServiceError, OSError, subprocess.SubprocessError) as exc:
        return StepResult(name, False, time.monotonic() - began, str(exc), required)
    return StepResult(name, True, time.monotonic() - began, detail, required)


def _postgres(apt: AptInstaller, settings: Settings) -> str:
    from plowline.conformance.services.postgres import PACKAGE, find_pg_bin, server_version

    try:
        bin_dir = find_pg_bin(settings.pg_bin)
        return f"PostgreSQL {server_version(bin_dir)} at {bin_dir}"
    except MissingDependencyError:
        if not apt.available():
            raise
    # Debian would create and start a system cluster on 5432 that nobody asked for.
    CREATECLUSTER_DROPIN.parent.mkdir(parents=True, exist_ok=True)
    CREATECLUSTER_DROPIN.write_text(
        "# plowline: throw-away clusters only\ncreate_main_cluster = false\n"
    )
    apt.install([PACKAGE])
    bin_dir = find_pg_bin(settings.pg_bin)
    return f"installed {PACKAGE}: PostgreSQL {server_version(bin_dir)} at {bin_dir}"


def _java(apt: AptInstaller) -> str:
    from plowline.conformance.services.kafka import JDK_PACKAGE, check_java, find_java

    try:
        java = find_java()
        return f"Java {check_java(java)} at {java}"
    except MissingDependencyError:
        if not apt.available():
            raise
    apt.install([JDK_PACKAGE])
    java = find_java()
    return f"installed {JDK_PACKAGE}: Java {check_java(java)} at {java}"


def _maven(apt: AptInstaller) -> str:
    from plowline.conformance.services.kafka import MAVEN_PACKAGE

    found = shutil.which("mvn")
    if found:
        return f"mvn at {found}"
    if not apt.available():
        raise MissingDependencyError("mvn", MAVEN_PACKAGE, "Kafka's jars are resolved with Maven")
    apt.install([MAVEN_PACKAGE])
    return f"installed {MAVEN_PACKAGE}"


def _kafka_jars(settings: Settings) -> str:
    from plowline.conformance.services.kafka import ensure_jars, jars_ready

    cached = jars_ready(settings)
    libs = ensure_jars(settings)
    count = len(list(libs.glob("*.jar")))
    return f"{'cached' if cached else 'resolved'}: {count} jars in {libs}"


def _venv(name: str, settings: Settings) -> str:
    from plowline.conformance.services import aws

    home = aws.localstack_home(settings) if name == "localstack" else aws.moto_home(settings)
    cached = (home / ".complete").exists()
    venv = aws.ensure_localstack(settings) if name == "localstack" else aws.ensure_moto(settings)
    return f"{'cached' if cached else 'built'}: {venv}"


def _warm_kinesis(settings: Settings) -> str:
    """Start LocalStack once and create a stream, so its Kinesis emulator gets installed now."""
    from plowline.conformance.services.aws import LocalStackService, localstack_home
    from plowline.conformance.services.state import StateStore, new_tempdir

    marker = localstack_home(settings) / "lib" / ".kinesis-warm"
    if marker.exists() and any(marker.parent.glob("kinesis-local/*/node_modules")):
        return f"cached: Kinesis emulator in {marker.parent}"
    service = LocalStackService(settings, StateStore(settings.state_file), new_tempdir("aws"))
    try:
        service.prepare()
        service.launch()  # its readiness probe already calls Kinesis once
        kinesis = service.endpoint.client("kinesis")
        name = f"plowline-warm-{uuid.uuid4().hex[:8]}"
        kinesis.create_stream(StreamName=name, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        kinesis.delete_stream(StreamName=name)
    finally:
        service.close()
    marker.write_text(f"warmed {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    return f"Kinesis emulator ready in {service.shared_lib}"


def run_install(
    kinds: Iterable[ServiceKind],
    settings: Settings,
    *,
    system: bool = True,
    warm: bool = True,
    out: TextIO,
) -> bool:
    """Install what each kind needs; print one line per step; True when nothing required failed."""
    apt = AptInstaller(allowed=system)
    results: list[StepResult] = []

    def step(name: str, action: Callable[[], str], *, required: bool = True) -> StepResult:
        result = _timed(name, action, required=required)
        print(result.line(), file=out, flush=True)
        results.append(result)
        return result

    wanted = list(kinds)
    if ServiceKind.POSTGRES in wanted:
        step("postgres: server binaries", lambda: _postgres(apt, settings))
    if ServiceKind.KAFKA in wanted:
        step("kafka: Java 17+ runtime", lambda: _java(apt))
        if step("kafka: Maven", lambda: _maven(apt)).ok:
            step(f"kafka: jars {settings.kafka_version}", lambda: _kafka_jars(settings))
    if ServiceKind.AWS in wanted:
        localstack_wanted = settings.aws_backend is not AwsBackend.MOTO
        moto_wanted = settings.aws_backend is not AwsBackend.LOCALSTACK
        localstack_ok = False
        if localstack_wanted:
            localstack_ok = step(
                "aws: LocalStack venv",
                lambda: _venv("localstack", settings),
                required=settings.aws_backend is AwsBackend.LOCALSTACK,
            ).ok
        moto_ok = False
        if moto_wanted:
            moto_ok = step(
                "aws: moto venv", lambda: _venv("moto", settings), required=not localstack_ok
            ).ok
        if localstack_ok and warm:
            step(
                "aws: LocalStack Kinesis warm-up",
                lambda: _warm_kinesis(settings),
                required=settings.aws_backend is AwsBackend.LOCALSTACK or not moto_ok,
            )
    failed = [r for r in results if not r.ok and r.required]
    total = sum(r.seconds for r in results)
    verdict = "ready" if not failed else f"{len(failed)} required step(s) failed"
    print(f"plowline services install: {verdict} ({total:.1f} s)", file=out, flush=True)
    return not failed
