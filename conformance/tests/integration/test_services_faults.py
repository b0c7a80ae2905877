"""Fault handling against the real programs: a squatted port makes the service move."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from plowline.conformance.services.config import Settings
from plowline.conformance.services.kafka import LocalKafka
from plowline.conformance.services.ports import LOOPBACK
from plowline.conformance.services.postgres import LocalPostgres
from plowline.conformance.services.state import StateStore, new_tempdir


@pytest.fixture
def squatted_port() -> Iterator[int]:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        yield squatter.getsockname()[1]


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.json")


@pytest.mark.postgres
def test_postgres_moves_off_a_taken_port(
    settings: Settings, store: StateStore, squatted_port: int
) -> None:
    from plowline.conformance.services.endpoints import PostgresEndpoint

    service = LocalPostgres(settings, store, new_tempdir("postgres"))
    service.endpoint = PostgresEndpoint(
        LOOPBACK, squatted_port
    )  # as if another program won the race
    try:
        service.prepare()
        service.launch()
        assert service.endpoint.port != squatted_port
        assert service.healthy()
        assert "Address already in use" in service.log_path.read_text()
    finally:
        service.close()


@pytest.mark.kafka
def test_kafka_moves_off_a_taken_port(
    settings: Settings, store: StateStore, squatted_port: int
) -> None:
    service = LocalKafka(settings, store, new_tempdir("kafka"))
    service.broker_port = squatted_port
    service.endpoint = service.endpoint.__class__(f"{LOOPBACK}:{squatted_port}")
    try:
        service.prepare()
        service.launch()
        assert service.broker_port != squatted_port
        assert service.healthy()
    finally:
        service.close()
    assert not service.tmpdir.exists()
