"""Attach or start, in this order: (1) an endpoint from the environment, (2) the official image via
testcontainers where a Docker engine answers, (3) local processes on 127.0.0.1.

Every decision is noted on the returned handle (`handle.notes`), so a report can say why a
service is what it is.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from plowline.conformance.services.config import ATTACH_VARIABLES, AwsBackend, ServiceKind, Settings
from plowline.conformance.services.docker import DockerProbe, probe_docker
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.errors import AttachError, ServiceError
from plowline.conformance.services.handle import AttachedService, ServiceHandle
from plowline.conformance.services.health import wait_until
from plowline.conformance.services.local import LocalProcessService
from plowline.conformance.services.state import StateStore, clean_stale, new_tempdir


class LocalFactory(Protocol):
    """How a local service class is built (the LocalPostgres, LocalKafka, ... constructors)."""

    def __call__(
        self, settings: Settings, store: StateStore, tmpdir: Path, *, detached: bool = False
    ) -> LocalProcessService[Any]: ...


def attach_endpoint(
    kind: ServiceKind, value: str
) -> PostgresEndpoint | KafkaEndpoint | AwsEndpoint:
    """The endpoint an attach variable names; ValueError when it cannot be one."""
    value = value.strip()
    if kind is ServiceKind.POSTGRES:
        return PostgresEndpoint.from_dsn(value)
    if kind is ServiceKind.KAFKA:
        if not value or any(":" not in part for part in value.split(",")):
            raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return KafkaEndpoint(value)
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return AwsEndpoint(
        endpoint_url=value,
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def _local_factories(kind: ServiceKind, settings: Settings) -> list[tuple[str, LocalFactory]]:
    """The local implementations to try for kind, in order."""
    if kind is ServiceKind.POSTGRES:
        from plowline.conformance.services.postgres import LocalPostgres

        return [("PostgreSQL", LocalPostgres)]
    if kind is ServiceKind.KAFKA:
        from plowline.conformance.services.kafka import LocalKafka

        return [("Apache Kafka", LocalKafka)]
    from plowline.conformance.services.aws import LocalStackService, MotoService

    if settings.aws_backend is AwsBackend.MOTO:
        return [("moto", MotoService)]
    if settings.aws_backend is AwsBackend.LOCALSTACK:
        return [("LocalStack", LocalStackService)]
    return [("LocalStack", LocalStackService), ("moto", MotoService)]


@dataclass
class Provisioner:
    settings: Settings
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    docker_probe: Callable[[], DockerProbe] = probe_docker
    container_starter: Callable[[ServiceKind, Settings], ServiceHandle[Any]] | None = None
    local_factories: Callable[[ServiceKind, Settings], list[tuple[str, LocalFactory]]] = (
        _local_factories
    )

    @property
    def store(self) -> StateStore:
        return StateStore(self.settings.state_file)

    def provision(
        self,
        kind: ServiceKind,
        *,
        detached: bool = False,
        allow_attach: bool = True,
        allow_docker: bool = True,
    ) -> ServiceHandle[Any]:
        began = time.monotonic()
        notes: list[str] = []
        handle = self._provision(
            kind, notes, detached=detached, allow_attach=allow_attach, allow_docker=allow_docker
        )
        if handle.startup_seconds is None:
            handle.startup_seconds = time.monotonic() - began
        handle.notes[:0] = notes
        return handle

    def _provision(
        self,
        kind: ServiceKind,
        notes: list[str],
        *,
        detached: bool,
        allow_attach: bool,
        allow_docker: bool,
    ) -> ServiceHandle[Any]:
        variable = ATTACH_VARIABLES[kind]
        value = self.env.get(variable, "").strip()
        if allow_attach and value:
            return self.attach(kind, variable, value)
        notes.append(f"{variable} is not set" if allow_attach else f"{variable} ignored")

        if allow_docker and self.settings.use_docker:
            probe = self.docker_probe()
            notes.append(str(probe))
            if probe.answers:
                try:
                    return self._start_container(kind)
                except ServiceError as exc:
                    notes.append(
                        f"testcontainers could not start it ({exc}); trying local processes"
                    )
        elif allow_docker:
            notes.append("Docker not tried (PLOWLINE_SERVICES_DOCKER=never)")

        for line in clean_stale(self.store):
            notes.append(f"leftover of a crashed run: {line}")
        return self.start_local(kind, notes, detached=detached)

    def attach(self, kind: ServiceKind, variable: str, value: str) -> ServiceHandle[Any]:
        try:
            endpoint = attach_endpoint(kind, value)
        except ValueError as exc:
            raise AttachError(variable, value, str(exc)) from None
        handle: ServiceHandle[Any] = AttachedService(kind, endpoint)
        problem = wait_until(
            handle.problem, time.monotonic() + self.settings.attach_timeout, pause=0.5
        )
        if problem is not None:
            raise AttachError(
                variable, value, f"{problem} (waited {self.settings.attach_timeout:.0f} s)"
            )
        handle.notes.append(f"attached to {variable}")
        return handle

    def _start_container(self, kind: ServiceKind) -> ServiceHandle[Any]:
        if self.container_starter is not None:
            return self.container_starter(kind, self.settings)
        from plowline.conformance.services.containers import start_container

        return start_container(kind, self.settings)

    def start_local(
        self, kind: ServiceKind, notes: list[str], *, detached: bool
    ) -> ServiceHandle[Any]:
        failures: list[str] = []
        factories = self.local_factories(kind, self.settings)
        for position, (name, factory) in enumerate(factories):
            tmpdir = new_tempdir(kind.value)
            service: LocalProcessService[Any] | None = None
            try:
                service = factory(self.settings, self.store, tmpdir, detached=detached)
                service.prepare()
                service.launch()
            except ServiceError as exc:
                if service is not None:
                    service.close()
                shutil.rmtree(tmpdir, ignore_errors=True)
                if position == len(factories) - 1:
                    if failures:
                        notes.extend(failures)
                        raise ServiceError(f"{exc}\n(earlier: {'; '.join(failures)})") from exc
                    raise
                failures.append(f"{name} could not start: {str(exc).splitlines()[0]}")
                continue
            except BaseException:
                if service is not None:
                    service.close()
                shutil.rmtree(tmpdir, ignore_errors=True)
                raise
            notes.extend(failures)
            if failures:
                notes.append(f"fell back to {service.backend}")
            notes.append(
                f"started {service.backend} locally (pid {service.pid}, temp dir {tmpdir})"
            )
            return service
        raise ServiceError(f"no local implementation for {kind.value}")  # pragma: no cover
