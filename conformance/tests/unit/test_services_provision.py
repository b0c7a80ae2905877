"""Provisioning order (environment, Docker, local), fallbacks, and the local life cycle.

The local service here is a tiny HTTP server run as a real process, so spawning, recording,
stop/start at the same address and cleanup are exercised without starting a heavy service.
"""

from __future__ import annotations

import http.server
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.docker import DockerProbe
from plowline.conformance.services.endpoints import AwsEndpoint
from plowline.conformance.services.errors import AttachError, ServiceError, ServiceStartError
from plowline.conformance.services.handle import AttachedService, ServiceHandle
from plowline.conformance.services.health import http_problem
from plowline.conformance.services.local import LocalProcessService
from plowline.conformance.services.ports import LOOPBACK, pick_free_port
from plowline.conformance.services.procs import ProcessRef, is_alive
from plowline.conformance.services.provision import LocalFactory, Provisioner
from plowline.conformance.services.state import InstanceRecord, StateStore


class HttpService(LocalProcessService[AwsEndpoint]):
    """`python -m http.server` standing in for a real service."""

    kind = ServiceKind.AWS
    backend = "http.server"
    first_port: int | None = None  # tests set this to force a port that is taken

    def __init__(
        self, settings: Settings, store: StateStore, tmpdir: Path, *, detached: bool = False
    ) -> None:
        self.port = self.first_port or pick_free_port()
        super().__init__(
            AwsEndpoint(f"http://{LOOPBACK}:{self.port}"),
            store=store,
            tmpdir=tmpdir,
            start_timeout=20,
            detached=detached,
        )

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "http.server", str(self.port), "--bind", LOOPBACK]

    def repick_ports(self) -> None:
        self.port = pick_free_port(exclude={self.port})
        self.endpoint = AwsEndpoint(f"http://{LOOPBACK}:{self.port}")

    def problem(self) -> str | None:
        return http_problem(self.endpoint.endpoint_url, timeout=1.0)


class BrokenService(HttpService):
    backend = "broken"

    def prepare(self) -> None:
        raise ServiceStartError("broken", "it always fails", "last log line")


def no_docker() -> DockerProbe:
    return DockerProbe(False, "/nowhere", "socket absent")


def docker_answers() -> DockerProbe:
    return DockerProbe(True, "/fake.sock", "HTTP/1.1 200 OK")


def refuse_docker() -> DockerProbe:
    raise AssertionError("Docker must not be probed here")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", attach_timeout=0.5)


def provisioner(
    settings: Settings,
    env: dict[str, str] | None = None,
    factories: list[tuple[str, LocalFactory]] | None = None,
    probe: Any = no_docker,
    container: Any = None,
) -> Provisioner:
    default: list[tuple[str, LocalFactory]] = [("http", HttpService)]
    chosen = factories if factories is not None else default
    return Provisioner(
        settings,
        env=env or {},
        docker_probe=probe,
        container_starter=container,
        local_factories=lambda kind, s: chosen,
    )


@pytest.fixture
def fake_s3() -> Iterator[str]:
    """A loopback HTTP server answering S3 ListBuckets, to attach to."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                b"<Owner><ID>1</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>"
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_environment_endpoint_is_attached_first(settings: Settings, fake_s3: str) -> None:
    p = provisioner(
        settings, {"PLOWLINE_AWS_ENDPOINT_URL": fake_s3}, factories=[], probe=refuse_docker
    )
    handle = p.provision(ServiceKind.AWS)
    assert isinstance(handle, AttachedService)
    assert handle.origin == "environment"
    assert handle.endpoint == AwsEndpoint(fake_s3)
    assert "attached to PLOWLINE_AWS_ENDPOINT_URL" in handle.notes
    assert not handle.controllable
    with pytest.raises(ServiceError, match="not ours to stop"):
        handle.stop()


def test_environment_endpoint_that_does_not_answer_is_an_error(settings: Settings) -> None:
    closed = pick_free_port()
    p = provisioner(
        settings,
        {"PLOWLINE_AWS_ENDPOINT_URL": f"http://{LOOPBACK}:{closed}"},
        factories=[],
        probe=refuse_docker,
    )
    with pytest.raises(
        AttachError, match=r"PLOWLINE_AWS_ENDPOINT_URL=http://127\.0\.0\.1:\d+ is set but"
    ):
        p.provision(ServiceKind.AWS)


def test_malformed_environment_endpoint_is_an_error(settings: Settings) -> None:
    p = provisioner(
        settings, {"PLOWLINE_KAFKA_BOOTSTRAP": "no-port-here"}, factories=[], probe=refuse_docker
    )
    with pytest.raises(AttachError, match="expected host:port"):
        p.provision(ServiceKind.KAFKA)


def test_docker_is_used_when_it_answers(settings: Settings) -> None:
    started: list[ServiceKind] = []

    def fake_container(kind: ServiceKind, _: Settings) -> ServiceHandle[Any]:
        started.append(kind)
        return AttachedService(kind, AwsEndpoint("http://127.0.0.1:1"))

    handle = provisioner(
        settings, factories=[], probe=docker_answers, container=fake_container
    ).provision(ServiceKind.AWS)
    assert started == [ServiceKind.AWS]
    assert any("answers" in note for note in handle.notes)


def test_local_processes_when_docker_fails(settings: Settings) -> None:
    def failing_container(kind: ServiceKind, _: Settings) -> ServiceHandle[Any]:
        raise ServiceError("testcontainers is not installed")

    handle = provisioner(settings, probe=docker_answers, container=failing_container).provision(
        ServiceKind.AWS
    )
    try:
        assert handle.origin == "local"
        assert any("testcontainers could not start it" in note for note in handle.notes)
    finally:
        handle.close()


def test_docker_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path, use_docker=False)
    handle = provisioner(settings, probe=refuse_docker).provision(ServiceKind.AWS)
    try:
        assert any("PLOWLINE_SERVICES_DOCKER=never" in note for note in handle.notes)
    finally:
        handle.close()


def running(handle: ServiceHandle[Any]) -> bool:
    """handle.running, read through a call so mypy does not narrow it across stop/start."""
    return handle.running


def test_local_life_cycle_stop_start_close(settings: Settings) -> None:
    handle = provisioner(settings).provision(ServiceKind.AWS)
    assert isinstance(handle, HttpService)
    store = StateStore(settings.state_file)
    try:
        [rec] = store.load()
        assert rec.owner_pid == os.getpid()
        assert rec.env["PLOWLINE_AWS_ENDPOINT_URL"] == handle.endpoint.endpoint_url
        assert handle.healthy()
        address = handle.endpoint
        first = ProcessRef(rec.pid, rec.start_ticks)

        with handle.stopped():
            assert not running(handle)
            assert not is_alive(first)
            assert store.load()[0].paused  # other runs' cleanup keeps away meanwhile
            assert handle.problem() is not None
        assert running(handle)
        assert handle.endpoint == address  # same address after a restart
        assert handle.healthy()
        assert not store.load()[0].paused
    finally:
        handle.close()
    assert store.load() == []
    assert not handle.tmpdir.exists()
    assert not running(handle)


def test_taken_port_makes_the_service_move(settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]

        class Squatted(HttpService):
            first_port = taken

        handle = provisioner(settings, factories=[("http", Squatted)]).provision(ServiceKind.AWS)
        try:
            assert isinstance(handle, Squatted)
            assert handle.port != taken
            assert handle.healthy()
        finally:
            handle.close()


def test_fallback_to_the_next_local_implementation(settings: Settings) -> None:
    handle = provisioner(
        settings, factories=[("broken", BrokenService), ("http", HttpService)]
    ).provision(ServiceKind.AWS)
    try:
        assert handle.backend == "http.server"
        assert any("broken could not start" in note for note in handle.notes)
        assert any("fell back to http.server" in note for note in handle.notes)
    finally:
        handle.close()
    leftovers = list(Path(tempfile.gettempdir()).glob(f"plowline-svc-aws-{os.getpid()}-*"))
    assert leftovers == []


def test_every_local_implementation_failing_names_them_all(settings: Settings) -> None:
    class AlsoBroken(BrokenService):
        backend = "also-broken"

    p = provisioner(settings, factories=[("broken", BrokenService), ("also", AlsoBroken)])
    with pytest.raises(ServiceError, match=r"(?s)it always fails.*earlier: broken could not start"):
        p.provision(ServiceKind.AWS)


def test_leftovers_are_cleaned_before_a_local_start(settings: Settings, tmp_path: Path) -> None:
    stale_dir = tmp_path / "stale"
    stale_dir.mkdir()
    gone = ProcessRef(2**22 + 12345, None)  # above pid_max defaults: certainly not running
    StateStore(settings.state_file).add(
        InstanceRecord(
            id="kafka-stale",
            kind="kafka",
            backend="Apache Kafka",
            pid=gone.pid,
            start_ticks=None,
            tmpdir=str(stale_dir),
            log_path=str(stale_dir / "log"),
            endpoint={},
            env={},
            owner_pid=None,
        )
    )
    handle = provisioner(settings).provision(ServiceKind.AWS)
    try:
        assert any("leftover of a crashed run" in note for note in handle.notes)
        assert not stale_dir.exists()
    finally:
        handle.close()
