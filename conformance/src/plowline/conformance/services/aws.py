"""S3, Kinesis and SQS at one endpoint: LocalStack in host mode, moto's server as the fallback.

Each runs from its own virtualenv under <cache>/aws, built with uv (pip where uv is absent)
from PyPI, so neither drags its large dependency tree into the project's environment.
LocalStack 2026.x imports `warnings.deprecated`, which exists from Python 3.13 on, so its
venv is built on a Python >= 3.13 found on the machine (pyenv installs included).
"""

from __future__ import annotations

import fcntl
import glob
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from plowline.conformance.services.botocore_errors import boto_errors
from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.endpoints import AwsEndpoint
from plowline.conformance.services.errors import DownloadError, MissingDependencyError
from plowline.conformance.services.health import aws_problem, localstack_problem
from plowline.conformance.services.local import LocalProcessService
from plowline.conformance.services.ports import LOOPBACK, pick_free_port
from plowline.conformance.services.state import StateStore

AWS_SERVICES = ("s3", "kinesis", "sqs")
LOCALSTACK_MIN_PYTHON = (3, 13)
# Pins LocalStack 2026.3.0 needs on a fresh resolver (newer majors of these break it).
LOCALSTACK_PINS = ("cbor2<6", "pyopenssl<26", "cryptography<47", "service_identity")
_COMPLETE = ".complete"


# -- finding a Python for LocalStack -----------------------------------------------------------


def python_version(python: Path) -> tuple[int, int] | None:
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.fullmatch(r"(\d+)\.(\d+)", result.stdout.strip())
    return (int(match.group(1)), int(match.group(2))) if match and result.returncode == 0 else None


def python_candidates(home: Path | None = None) -> list[Path]:
    """Interpreters that may be Python >= 3.13: pyenv versions, then python3.1x on PATH."""
    root = home if home is not None else Path.home()
    found: list[Path] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", str(root / ".pyenv")))
    for path in sorted(glob.glob(str(pyenv_root / "versions" / "3.*" / "bin" / "python3.*"))):
        if re.search(r"python3\.\d+$", path):
            found.append(Path(path))
    for minor in range(LOCALSTACK_MIN_PYTHON[1], 20):
        on_path = shutil.which(f"python3.{minor}")
        if on_path and "/shims/" not in on_path:  # pyenv shims fail when not selected
            found.append(Path(on_path))
    return found


def find_localstack_python(settings: Settings) -> Path:
    """The oldest Python >= 3.13 on the machine (the one LocalStack has been tested most on)."""
    if settings.localstack_python is not None:
        version = python_version(settings.localstack_python)
        if version is None or version < LOCALSTACK_MIN_PYTHON:
            raise MissingDependencyError(
                f"Python >= 3.13 (PLOWLINE_LOCALSTACK_PYTHON={settings.localstack_python} "
                f"is {version})",
                "python3.13",
                "LocalStack 2026 needs Python 3.13 or newer",
            )
        return settings.localstack_python
    usable: list[tuple[tuple[int, int], Path]] = []
    for candidate in python_candidates():
        version = python_version(candidate)
        if version is not None and version >= LOCALSTACK_MIN_PYTHON:
            usable.append((version, candidate))
    if not usable:
        raise MissingDependencyError(
            "Python >= 3.13",
            "python3.13",
            "LocalStack 2026 needs Python 3.13 or newer (pyenv install 3.13, or set "
            "PLOWLINE_LOCALSTACK_PYTHON); moto's server is used meanwhile",
        )
    usable.sort(key=lambda item: item[0])
    return usable[0][1]


# -- virtualenvs -------------------------------------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(
    target: Path,
    python: Path,
    requirements: list[str],
    timeout: float,
    request_timeout: float = 60.0,
) -> Path:
    """target/venv with requirements installed (idempotent; a half-built venv is rebuilt)."""
    venv = target / "venv"
    if (target / _COMPLETE).exists() and venv_python(venv).exists():
        return venv
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if (target / _COMPLETE).exists() and venv_python(venv).exists():
            return venv
        partial = target / "venv.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(venv, ignore_errors=True)
        log = target / "install.log"
        uv = shutil.which("uv")
        env = {
            **os.environ,
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_HTTP_TIMEOUT": str(int(request_timeout)),
        }
        env.pop("VIRTUAL_ENV", None)
        if uv:
            steps = [
                [uv, "venv", "--quiet", "--python", str(python), str(partial)],
                # Bytecode now, not on the first (timed) service start.
                [
                    uv,
                    "pip",
                    "install",
                    "--compile-bytecode",
                    "--python",
                    str(venv_python(partial)),
                    *requirements,
                ],
            ]
        else:
            steps = [
                [str(python), "-m", "venv", str(partial)],
                [
                    str(venv_python(partial)),
                    "-m",
                    "pip",
                    "install",
                    "--timeout",
                    str(int(request_timeout)),
                    *requirements,
                ],
            ]
        deadline = time.monotonic() + timeout
        with log.open("wb") as out:
            for step in steps:
                remaining = deadline - time.monotonic()
                try:
                    result = subprocess.run(
                        step,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=env,
                        timeout=max(remaining, 1.0),
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    raise DownloadError(
                        f"installing {' '.join(requirements)} took over {timeout:.0f} s "
                        f"(PLOWLINE_DOWNLOAD_TIMEOUT); is PyPI reachable? Log: {log}"
                    ) from None
                if result.returncode != 0:
                    from plowline.conformance.services.procs import tail

                    raise DownloadError(
                        f"`{' '.join(step[:3])} ...` failed (exit {result.returncode}) "
                        "while installing "
                        f"{' '.join(requirements)}. Log: {log}\n{tail(log, 25)}"
                    )
        partial.replace(venv)
        (target / _COMPLETE).write_text(
            f"built {time.strftime('%Y-%m-%dT%H:%M:%S')} with {python}\n"
        )
        return venv


def localstack_home(settings: Settings) -> Path:
    return settings.cache_dir / "aws" / f"localstack-{settings.localstack_version}"


def moto_home(settings: Settings) -> Path:
    return settings.cache_dir / "aws" / f"moto-{settings.moto_version}"


def _cached_venv(home: Path) -> Path | None:
    venv = home / "venv"
    return venv if (home / _COMPLETE).exists() and venv_python(venv).exists() else None


def ensure_localstack(settings: Settings) -> Path:
    cached = _cached_venv(localstack_home(settings))
    if cached is not None:
        return cached  # no interpreter hunt on the warm path
    python = find_localstack_python(settings)
    requirements = [f"localstack-core[runtime]=={settings.localstack_version}", *LOCALSTACK_PINS]
    return ensure_venv(
        localstack_home(settings),
        python,
        requirements,
        settings.download_timeout,
        settings.request_timeout,
    )


def ensure_moto(settings: Settings) -> Path:
    # moto supports every Python we run on: build its venv on the base of the running one.
    import sys

    base = Path(getattr(sys, "_base_executable", sys.executable))
    requirements = [f"moto[server]=={settings.moto_version}"]
    cached = _cached_venv(moto_home(settings))
    if cached is not None:
        return cached
    return ensure_venv(
        moto_home(settings), base, requirements, settings.download_timeout, settings.request_timeout
    )


# -- the services ------------------------------------------------------------------------------


class LocalStackService(LocalProcessService[AwsEndpoint]):
    """LocalStack's runtime in host mode (no container), S3, Kinesis and SQS only.

    Its Kinesis emulator (kinesis-local, from the npm registry) is installed on first use into
    <cache>/aws/localstack-<v>/lib, which every instance shares through a symlink; everything
    else LocalStack writes stays in the instance's temp dir.
    """

    kind = ServiceKind.AWS

    def __init__(
        self, settings: Settings, store: StateStore, tmpdir: Path, *, detached: bool = False
    ) -> None:
        self.venv = ensure_localstack(settings)
        self.backend = f"LocalStack {settings.localstack_version}"
        self.port = pick_free_port()
        super().__init__(
            AwsEndpoint(f"http://{LOOPBACK}:{self.port}"),
            store=store,
            tmpdir=tmpdir,
            start_timeout=settings.start_timeout,
            detached=detached,
        )
        self.shared_lib = localstack_home(settings) / "lib"
        self._kinesis_ok = False

    def prepare(self) -> None:
        var_lib = self.tmpdir / "fs" / "var" / "lib" / "localstack"
        var_lib.mkdir(parents=True, exist_ok=True)
        self.shared_lib.mkdir(parents=True, exist_ok=True)
        link = var_lib / "lib"
        if not link.is_symlink():
            link.symlink_to(self.shared_lib, target_is_directory=True)

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))}
        env.update(
            {
                "OVERRIDE_IN_DOCKER": "0",  # this machine may itself be a container: host mode
                "FILESYSTEM_ROOT": str(self.tmpdir / "fs"),
                "GATEWAY_LISTEN": f"{LOOPBACK}:{self.port}",
                "LOCALSTACK_HOST": f"{LOOPBACK}:{self.port}",
                "SERVICES": ",".join(AWS_SERVICES),
                "EAGER_SERVICE_LOADING": "0",
                "SQS_ENDPOINT_STRATEGY": "path",
                "DNS_ADDRESS": "0",
                "DISABLE_EVENTS": "1",
                "SKIP_SSL_CERT_DOWNLOAD": "1",
                "PERSISTENCE": "0",
                "VIRTUAL_ENV": str(self.venv),
            }
        )
        return env

    def argv(self) -> list[str]:
        return [str(venv_python(self.venv)), "-m", "localstack.runtime.main"]

    def _spawn(self) -> None:
        self._kinesis_ok = False
        super()._spawn()

    def repick_ports(self) -> None:
        self.port = pick_free_port(exclude={self.port})
        self.endpoint = AwsEndpoint(f"http://{LOOPBACK}:{self.port}")

    def problem(self) -> str | None:
        problem = localstack_problem(self.endpoint, AWS_SERVICES)
        if problem is not None:
            return problem
        if not self._kinesis_ok:
            # Kinesis answers through a lazily started emulator: ready means it answers too.
            try:
                kinesis = self.endpoint.client(
                    "kinesis", read_timeout=self.start_timeout, retries={"max_attempts": 1}
                )
                kinesis.list_streams(Limit=1)
            except boto_errors() as exc:
                return f"Kinesis does not answer yet: {exc}"
            self._kinesis_ok = True
        return None


class MotoService(LocalProcessService[AwsEndpoint]):
    """moto's standalone server: every AWS API in one process, starts in about a second."""

    kind = ServiceKind.AWS

    def __init__(
        self, settings: Settings, store: StateStore, tmpdir: Path, *, detached: bool = False
    ) -> None:
        self.venv = ensure_moto(settings)
        self.backend = f"moto {settings.moto_version}"
        self.port = pick_free_port()
        super().__init__(
            AwsEndpoint(f"http://{LOOPBACK}:{self.port}"),
            store=store,
            tmpdir=tmpdir,
            start_timeout=min(settings.start_timeout, 60.0),
            detached=detached,
        )

    def prepare(self) -> None:
        """Nothing to prepare: moto keeps its state in memory."""

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["VIRTUAL_ENV"] = str(self.venv)
        return env

    def argv(self) -> list[str]:
        return [
            str(venv_python(self.venv)),
            "-m",
            "moto.server",
            "-H",
            LOOPBACK,
            "-p",
            str(self.port),
        ]

    def repick_ports(self) -> None:
        self.port = pick_free_port(exclude={self.port})
        self.endpoint = AwsEndpoint(f"http://{LOOPBACK}:{self.port}")

    def problem(self) -> str | None:
        return aws_problem(self.endpoint, timeout=2.0)
