"""The one interface every provisioned service offers, whichever way it was provisioned."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Generic, TypeVar

from plowline.conformance.services.config import ATTACH_VARIABLES, ServiceKind
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.errors import ControlUnsupportedError
from plowline.conformance.services.health import aws_problem, kafka_problem, postgres_problem

E = TypeVar("E", bound=PostgresEndpoint | KafkaEndpoint | AwsEndpoint)


class ServiceHandle(ABC, Generic[E]):
    """A reachable service: its endpoint, how it came to be, and (when owned) stop/start."""

    kind: ServiceKind
    origin: str  # "environment", "testcontainers" or "local"
    backend: str  # what actually answers, e.g. "Apache Kafka 4.1.1", "moto 5.2.5"

    def __init__(self, endpoint: E) -> None:
        self.endpoint: E = endpoint
        self.startup_seconds: float | None = None
        self.notes: list[str] = []  # the provisioning decisions, for reports

    @abstractmethod
    def problem(self) -> str | None:
        """None when the service answers its protocol now, else what is wrong."""

    def healthy(self) -> bool:
        return self.problem() is None

    @property
    def controllable(self) -> bool:
        """True when stop/start work (we own the process or container)."""
        return False

    @property
    def running(self) -> bool:
        return True

    def stop(self) -> None:
        """Stop the service, keeping its data and address, so start() brings it back."""
        raise ControlUnsupportedError(
            f"{self.describe()} is not ours to stop (it was provisioned via {self.origin})"
        )

    def start(self) -> None:
        """Start a stopped service again at the same address, ready when this returns."""
        raise ControlUnsupportedError(
            f"{self.describe()} is not ours to start (it was provisioned via {self.origin})"
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the service for the body of a with-block (fault tests), then start it again."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def close(self) -> None:
        """Release the service for good (stop and delete what we started; no-op if attached)."""

    def env(self) -> dict[str, str]:
        """The environment variables that attach another process to this service."""
        return self.endpoint.env()

    def describe(self) -> str:
        took = (
            f", ready in {self.startup_seconds:.1f} s" if self.startup_seconds is not None else ""
        )
        return (
            f"{self.kind.value}: {self.backend} ({self.origin}) at {self.endpoint.describe()}{took}"
        )


def endpoint_problem(endpoint: PostgresEndpoint | KafkaEndpoint | AwsEndpoint) -> str | None:
    if isinstance(endpoint, PostgresEndpoint):
        return postgres_problem(endpoint)
    if isinstance(endpoint, KafkaEndpoint):
        return kafka_problem(endpoint)
    return aws_problem(endpoint)


class AttachedService(ServiceHandle[E]):
    """A service someone else runs, named by an environment variable; never stopped by us."""

    origin = "environment"

    def __init__(self, kind: ServiceKind, endpoint: E) -> None:
        super().__init__(endpoint)
        self.kind = kind
        self.backend = f"external service from {ATTACH_VARIABLES[kind]}"

    def problem(self) -> str | None:
        return endpoint_problem(self.endpoint)
