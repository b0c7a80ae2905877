"""Seconds from nothing to ready, and memory, for each local service.

    python conformance/benchmarks/bench_services.py            # warm caches, 3 starts each
    python conformance/benchmarks/bench_services.py --cold     # also: empty caches first

"Ready" is the provisioner's own readiness: a real protocol round trip (SELECT 1; an
AdminClient metadata + describe_cluster; LocalStack's health plus a Kinesis call). Cold runs
use a fresh PLOWLINE_CACHE_DIR *and* a fresh UV_CACHE_DIR, so they include resolving Kafka's
jars from Maven Central, building the LocalStack/moto virtualenvs from PyPI and installing
LocalStack's Kinesis emulator from npm; Debian packages and the JDK are taken as installed.

The baseline, measured in the same run, is the bare runtime launch each service pays before
doing any work of its own (`postgres --version`, `java -version`, the venv's `python -c pass`):
"x floor" says how many times that floor the whole start costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from plowline.conformance.services.config import AwsBackend, ServiceKind, Settings
from plowline.conformance.services.handle import ServiceHandle
from plowline.conformance.services.local import LocalProcessService
from plowline.conformance.services.provision import Provisioner

GOALS = {"postgres": 3.0, "kafka": 20.0, "localstack": 15.0, "moto": 15.0}


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    pss_mib: float
    backend: str


def start_once(kind: ServiceKind, settings: Settings) -> Sample:
    provisioner = Provisioner(settings, env={}, docker_probe=_no_docker)
    handle: ServiceHandle[Any] = provisioner.provision(kind, allow_attach=False, allow_docker=False)
    try:
        seconds = handle.startup_seconds or 0.0
        rss = pss = 0
        if isinstance(handle, LocalProcessService):
            rss, pss = handle.memory_kib()
        return Sample(seconds, rss / 1024, pss / 1024, handle.backend)
    finally:
        handle.close()


def _no_docker() -> Any:
    from plowline.conformance.services.docker import DockerProbe

    return DockerProbe(False, "-", "not used by the benchmark")


def floor_seconds(command: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.monotonic()
        subprocess.run(command, capture_output=True, check=False, timeout=120)
        times.append(time.monotonic() - began)
    return statistics.median(times)


def floor_for(name: str, settings: Settings) -> float:
    if name == "postgres":
        from plowline.conformance.services.postgres import find_pg_bin

        return floor_seconds([str(find_pg_bin(settings.pg_bin) / "postgres"), "--version"])
    if name == "kafka":
        from plowline.conformance.services.kafka import find_java

        return floor_seconds([str(find_java()), "-version"])
    from plowline.conformance.services import aws

    venv = aws.ensure_localstack(settings) if name == "localstack" else aws.ensure_moto(settings)
    return floor_seconds([str(aws.venv_python(venv)), "-c", "pass"])


def targets(names: list[str]) -> list[tuple[str, ServiceKind, AwsBackend]]:
    table = {
        "postgres": (ServiceKind.POSTGRES, AwsBackend.AUTO),
        "kafka": (ServiceKind.KAFKA, AwsBackend.AUTO),
        "localstack": (ServiceKind.AWS, AwsBackend.LOCALSTACK),
        "moto": (ServiceKind.AWS, AwsBackend.MOTO),
    }
    return [(n, *table[n]) for n in names]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("services", nargs="*", default=["postgres", "kafka", "localstack", "moto"])
    parser.add_argument("--cold", action="store_true", help="also measure starts from empty caches")
    parser.add_argument(
        "--runs", type=int, default=3, help="warm starts per service (median reported)"
    )
    args = parser.parse_args()
    base = Settings.from_env()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}; cache {base.cache_dir}")
    rows: list[tuple[str, str, Sample | None, float, float, Sample]] = []
    for name, kind, backend in targets(args.services):
        settings = replace(base, aws_backend=backend, use_docker=False)
        cold: Sample | None = None
        if args.cold:
            with tempfile.TemporaryDirectory(prefix="plowline-bench-cache-") as empty:
                os.environ["UV_CACHE_DIR"] = str(Path(empty) / "uv")
                try:
                    cold = start_once(kind, replace(settings, cache_dir=Path(empty) / "plowline"))
                finally:
                    del os.environ["UV_CACHE_DIR"]
                shutil.rmtree(empty, ignore_errors=True)
        start_once(kind, settings)  # make sure the real cache is warm before timing warm starts
        warm = [start_once(kind, settings) for _ in range(args.runs)]
        floor = floor_for(name, settings)
        median = statistics.median(s.seconds for s in warm)
        rows.append((name, warm[-1].backend, cold, median, floor, warm[-1]))
        print(f"  measured {name}: warm starts {[round(s.seconds, 2) for s in warm]}", flush=True)

    print()
    header = (
        f"{'service':<11}{'backend':<22}{'cold s':>8}{'warm s':>8}{'goal s':>8}{'warm/goal':>10}"
    )
    header += f"{'floor s':>9}{'x floor':>9}{'RSS MiB':>9}{'PSS MiB':>9}"
    print(header)
    for name, label, cold, median, floor, last in rows:
        cold_text = f"{cold.seconds:8.1f}" if cold else f"{'-':>8}"
        print(
            f"{name:<11}{label:<22}{cold_text}{median:8.2f}{GOALS[name]:8.1f}"
            f"{median / GOALS[name]:10.2f}{floor:9.2f}{median / floor:9.1f}"
            f"{last.rss_mib:9.0f}{last.pss_mib:9.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
