"""Step 2 of attach-or-start: the official images through testcontainers, where Docker answers.

testcontainers is an optional extra (`plowline-conformance[containers]`), imported only here
and only when an engine answers. Host ports are chosen by us and bound explicitly so that a
container stopped and started again (fault tests) keeps its address.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any

from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.errors import ServiceError, ServiceStartError
from plowline.conformance.services.handle import E, ServiceHandle, endpoint_problem
from plowline.conformance.services.health import localstack_problem, wait_until
from plowline.conformance.services.ports import LOOPBACK, pick_free_port


def testcontainers_available() -> bool:
    try:
        importlib.import_module("testcontainers.core.container")
    except ImportError:
        return False
    return True


def image_for(kind: ServiceKind, settings: Settings) -> str:
    defaults = {
        ServiceKind.POSTGRES: "postgres:17",
        ServiceKind.KAFKA: f"apache/kafka:{settings.kafka_version}",
        ServiceKind.AWS: f"localstack/localstack:{settings.localstack_version}",
    }
    return os.environ.get(f"PLOWLINE_{kind.value.upper()}_IMAGE", defaults[kind])


class ContainerService(ServiceHandle[E]):
    origin = "testcontainers"

    def __init__(
        self, kind: ServiceKind, endpoint: E, container: Any, image: str, timeout: float
    ) -> None:
        super().__init__(endpoint)
        self.kind = kind
        self.backend = f"container {image}"
        self.container = container
        self.timeout = timeout
        self._running = True

    @property
    def controllable(self) -> bool:
        return True

    @property
    def running(self) -> bool:
        return self._running

    def problem(self) -> str | None:
        if isinstance(self.endpoint, AwsEndpoint):
            return localstack_problem(self.endpoint, ("s3", "kinesis", "sqs"))
        return endpoint_problem(self.endpoint)

    def wait_ready(self) -> None:
        problem = wait_until(self.problem, time.monotonic() + self.timeout, pause=0.25)
        if problem is not None:
            logs = self.container.get_wrapped_container().logs(tail=40).decode(errors="replace")
            raise ServiceStartError(self.backend, problem, logs)

    def stop(self) -> None:
        self.container.get_wrapped_container().stop(timeout=20)
        self._running = False

    def start(self) -> None:
        self.container.get_wrapped_container().start()
        self._running = True
        self.wait_ready()

    def close(self) -> None:
        self.container.stop()
        self._running = False


def start_container(kind: ServiceKind, settings: Settings) -> ServiceHandle[Any]:
    """Start the official image for kind; ServiceError when testcontainers is not installed."""
    if not testcontainers_available():
        raise ServiceError(
            "a Docker engine answers but testcontainers is not installed "
            "(install the extra: plowline-conformance[containers])"
        )
    generic = importlib.import_module("testcontainers.core.container")
    image = image_for(kind, settings)
    port = pick_free_port()
    handle: ServiceHandle[Any]
    if kind is ServiceKind.POSTGRES:
        container = (
            generic.DockerContainer(image)
            .with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
            .with_env("POSTGRES_PASSWORD", "postgres")
            .with_command("postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            .with_bind_ports(5432, port)
        )
        handle = ContainerService(
            kind, PostgresEndpoint(LOOPBACK, port), container, image, settings.start_timeout
        )
    elif kind is ServiceKind.KAFKA:
        container = generic.DockerContainer(image).with_bind_ports(9092, port)
        for key, value in {
            "KAFKA_NODE_ID": "1",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
            "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{LOOPBACK}:{port}",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
            "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        }.items():
            container = container.with_env(key, value)
        handle = ContainerService(
            kind, KafkaEndpoint(f"{LOOPBACK}:{port}"), container, image, settings.start_timeout
        )
    else:
        container = (
            generic.DockerContainer(image)
            .with_env("SERVICES", "s3,kinesis,sqs")
            .with_env("LOCALSTACK_HOST", f"{LOOPBACK}:{port}")
            .with_env("SQS_ENDPOINT_STRATEGY", "path")
            .with_bind_ports(4566, port)
        )
        handle = ContainerService(
            kind, AwsEndpoint(f"http://{LOOPBACK}:{port}"), container, image, settings.start_timeout
        )
    container.start()
    try:
        assert isinstance(handle, ContainerService)
        handle.wait_ready()
    except BaseException:
        container.stop()
        raise
    return handle
