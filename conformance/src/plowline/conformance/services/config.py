"""Settings of the service layer, read once from the environment (every knob has a default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class ServiceKind(StrEnum):
    POSTGRES = "postgres"
    KAFKA = "kafka"
    AWS = "aws"


# The environment variable that attaches each kind to an existing endpoint.
ATTACH_VARIABLES: dict[ServiceKind, str] = {
    ServiceKind.POSTGRES: "PLOWLINE_POSTGRES_DSN",
    ServiceKind.KAFKA: "PLOWLINE_KAFKA_BOOTSTRAP",
    ServiceKind.AWS: "PLOWLINE_AWS_ENDPOINT_URL",
}

DEFAULT_KAFKA_VERSION = "4.1.1"
DEFAULT_LOCALSTACK_VERSION = "2026.3.0"
DEFAULT_MOTO_VERSION = "5.2.5"
DEFAULT_MAVEN_REPO_URL = "https://repo.maven.apache.org/maven2"


class AwsBackend(StrEnum):
    AUTO = "auto"  # LocalStack, moto's server where LocalStack cannot start
    LOCALSTACK = "localstack"  # LocalStack or an error
    MOTO = "moto"  # moto's server only (starts in about a second)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def running_under_ci(env: Mapping[str, str] | None = None) -> bool:
    """CI=true (any truthy spelling): a test that needs a service must get it or fail."""
    return _truthy((os.environ if env is None else env).get("CI"))


def default_cache_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("PLOWLINE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "plowline"


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    kafka_version: str = DEFAULT_KAFKA_VERSION
    localstack_version: str = DEFAULT_LOCALSTACK_VERSION
    moto_version: str = DEFAULT_MOTO_VERSION
    aws_backend: AwsBackend = AwsBackend.AUTO
    use_docker: bool = True
    maven_repo_url: str = DEFAULT_MAVEN_REPO_URL
    download_timeout: float = 600.0  # a whole mvn / uv run
    request_timeout: float = 60.0  # one HTTP request to a registry: unreachable fails fast
    attach_timeout: float = 15.0  # how long an endpoint from the environment may take to answer
    start_timeout: float = 90.0  # process launch to ready (warm caches are far quicker)
    pg_bin: Path | None = None
    localstack_python: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        backend = e.get("PLOWLINE_AWS_BACKEND", AwsBackend.AUTO.value).strip().lower()
        try:
            aws_backend = AwsBackend(backend)
        except ValueError:
            choices = ", ".join(b.value for b in AwsBackend)
            raise ValueError(f"PLOWLINE_AWS_BACKEND={backend!r}: choose one of {choices}") from None
        docker = e.get("PLOWLINE_SERVICES_DOCKER", "auto").strip().lower()
        return cls(
            cache_dir=default_cache_dir(e),
            kafka_version=e.get("PLOWLINE_KAFKA_VERSION", DEFAULT_KAFKA_VERSION),
            localstack_version=e.get("PLOWLINE_LOCALSTACK_VERSION", DEFAULT_LOCALSTACK_VERSION),
            moto_version=e.get("PLOWLINE_MOTO_VERSION", DEFAULT_MOTO_VERSION),
            aws_backend=aws_backend,
            use_docker=docker not in {"0", "false", "no", "off", "never"},
            maven_repo_url=e.get("PLOWLINE_MAVEN_REPO_URL", DEFAULT_MAVEN_REPO_URL),
            download_timeout=_seconds(e, "PLOWLINE_DOWNLOAD_TIMEOUT", 600.0),
            request_timeout=_seconds(e, "PLOWLINE_REQUEST_TIMEOUT", 60.0),
            attach_timeout=_seconds(e, "PLOWLINE_ATTACH_TIMEOUT", 15.0),
            start_timeout=_seconds(e, "PLOWLINE_START_TIMEOUT", 90.0),
            pg_bin=Path(e["PLOWLINE_PG_BIN"]) if e.get("PLOWLINE_PG_BIN") else None,
            localstack_python=(
                Path(e["PLOWLINE_LOCALSTACK_PYTHON"])
                if e.get("PLOWLINE_LOCALSTACK_PYTHON")
                else None
            ),
        )

    @property
    def state_dir(self) -> Path:
        return self.cache_dir / "services"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: expected a positive number of seconds")
    return value
