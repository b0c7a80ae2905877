"""Endpoint parsing (the attach variables) and the names isolation fixtures make."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.endpoints import KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.provision import attach_endpoint

text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)


@given(
    user=text,
    password=st.one_of(st.just(""), text),
    db=text,
    port=st.integers(min_value=1, max_value=65535),
)
def test_postgres_dsn_round_trips(user: str, password: str, db: str, port: int) -> None:
    endpoint = PostgresEndpoint("127.0.0.1", port, user=user, password=password, dbname=db)
    assert PostgresEndpoint.from_dsn(endpoint.dsn) == endpoint


def test_postgres_dsn_defaults() -> None:
    assert PostgresEndpoint.from_dsn("postgresql://db.local") == PostgresEndpoint("db.local", 5432)


@pytest.mark.parametrize("bad", ["", "mysql://x/y", "postgresql:///nohost", "not a url"])
def test_bad_postgres_dsn_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="PostgreSQL URL"):
        PostgresEndpoint.from_dsn(bad)


@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True), st.integers(1, 65535)),
        min_size=1,
        max_size=3,
    )
)
def test_kafka_bootstrap_lists_are_accepted(servers: list[tuple[str, int]]) -> None:
    value = ",".join(f"{host}:{port}" for host, port in servers)
    assert attach_endpoint(ServiceKind.KAFKA, value) == KafkaEndpoint(value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ServiceKind.KAFKA, "localhost"),
        (ServiceKind.KAFKA, ""),
        (ServiceKind.AWS, "localhost:4566"),
    ],
)
def test_bad_attach_values_are_value_errors(kind: ServiceKind, value: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        attach_endpoint(kind, value)


def test_settings_from_env_reads_every_knob(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PLOWLINE_CACHE_DIR": str(tmp_path),
            "PLOWLINE_KAFKA_VERSION": "4.0.0",
            "PLOWLINE_AWS_BACKEND": "moto",
            "PLOWLINE_SERVICES_DOCKER": "never",
            "PLOWLINE_REQUEST_TIMEOUT": "5",
        }
    )
    assert settings.cache_dir == tmp_path
    assert settings.state_file == tmp_path / "services" / "state.json"
    assert settings.kafka_version == "4.0.0"
    assert settings.aws_backend.value == "moto"
    assert not settings.use_docker
    assert settings.request_timeout == 5.0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLOWLINE_AWS_BACKEND": "azure"}, "choose one of auto, localstack, moto"),
        ({"PLOWLINE_START_TIMEOUT": "soon"}, "expected a number of seconds"),
        ({"PLOWLINE_START_TIMEOUT": "-1"}, "positive"),
    ],
)
def test_bad_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_cache_dir_follows_xdg() -> None:
    assert Settings.from_env({"XDG_CACHE_HOME": "/x"}).cache_dir == Path("/x/plowline")


class FakeNode:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeRequest:
    def __init__(self, name: str) -> None:
        self.node = FakeNode(name)


@given(st.text(max_size=300))
def test_unique_names_are_valid_bucket_names(test_name: str) -> None:
    from plowline.conformance.services.pytest_plugin import unique_name

    name = unique_name(FakeRequest(test_name), "plowline", 63)  # type: ignore[arg-type]
    assert len(name) <= 63
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", name), name
    assert "--" not in name
