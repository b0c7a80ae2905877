"""pytest plugin: real PostgreSQL, Kafka and AWS (S3/Kinesis/SQS) for tests that carry a marker.

Fixtures (services start lazily, once per session, and stop when the session ends):

- `postgres`, `kafka`, `aws`: session-scoped ServiceHandle objects (`.endpoint`, `.stop()`,
  `.start()`, `.restart()`, `.stopped()` for fault tests, `.describe()`).
- Per-test isolation: `pg_database` (a fresh database), `kafka_topic` / `new_kafka_topic`,
  `s3_bucket`, `kinesis_stream` / `new_kinesis_stream`, `sqs_queue`; all uniquely named and
  removed afterwards.

A test must carry the matching marker (`@pytest.mark.postgres`, `kafka`, `aws`) to use a
service fixture, or it errors. A service that cannot be provisioned skips the test with the
reason, except under CI=true, where the test fails.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plowline.conformance.services.config import ServiceKind, Settings, running_under_ci
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.errors import ServiceError
from plowline.conformance.services.handle import ServiceHandle
from plowline.conformance.services.provision import Provisioner

log = logging.getLogger("plowline.services.pytest")

MARKER_HELP = {
    ServiceKind.POSTGRES: "needs a real PostgreSQL (the plowline services plugin provides it)",
    ServiceKind.KAFKA: "needs a real Apache Kafka broker",
    ServiceKind.AWS: (
        "needs a real AWS-compatible endpoint (LocalStack, or moto's server as fallback)"
    ),
}


class ServicePool:
    """The session's services: provisioned on first request, remembered (or their failure)."""

    def __init__(self, provisioner_factory: Callable[[], Provisioner]) -> None:
        self._factory = provisioner_factory
        self._provisioner: Provisioner | None = None
        self.handles: dict[ServiceKind, ServiceHandle[Any]] = {}
        self.failures: dict[ServiceKind, str] = {}

    def get(self, kind: ServiceKind) -> ServiceHandle[Any]:
        if kind in self.handles:
            return self.handles[kind]
        if kind in self.failures:
            raise ServiceError(self.failures[kind])
        try:
            if self._provisioner is None:
                self._provisioner = self._factory()
            handle = self._provisioner.provision(kind)
        except (ServiceError, ValueError) as exc:
            self.failures[kind] = f"{kind.value} unavailable: {exc}"
            raise ServiceError(self.failures[kind]) from exc
        self.handles[kind] = handle
        return handle

    def close_all(self) -> None:
        for kind, handle in list(self.handles.items()):
            try:
                handle.close()
            except (ServiceError, OSError) as exc:
                log.error("stopping %s failed: %s", kind.value, exc)
        self.handles.clear()


_POOL = pytest.StashKey[ServicePool]()


def pytest_configure(config: pytest.Config) -> None:
    for kind, text in MARKER_HELP.items():
        config.addinivalue_line("markers", f"{kind.value}: {text}")
    config.stash[_POOL] = ServicePool(lambda: Provisioner(Settings.from_env()))


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close_all()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Refuse service fixtures to unmarked tests; bring back a service a fault test stopped."""
    names = set(getattr(item, "fixturenames", ()))
    pool = item.config.stash[_POOL]
    for kind in ServiceKind:
        if kind.value not in names:
            continue
        if item.get_closest_marker(kind.value) is None:
            pytest.fail(
                f"{item.nodeid} uses the {kind.value!r} service fixture but is not marked: "
                f"add @pytest.mark.{kind.value} "
                f"(a test without the marker cannot reach {kind.value})",
                pytrace=False,
            )
        handle = pool.handles.get(kind)
        if handle is not None and handle.controllable and not handle.running:
            handle.start()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is None or not (pool.handles or pool.failures):
        return
    terminalreporter.section("plowline services")
    for handle in pool.handles.values():
        terminalreporter.write_line(handle.describe())
        for note in handle.notes:
            terminalreporter.write_line(f"  - {note}")
    for message in pool.failures.values():
        terminalreporter.write_line(message.splitlines()[0])


def _service(request: pytest.FixtureRequest, kind: ServiceKind) -> ServiceHandle[Any]:
    pool = request.config.stash[_POOL]
    try:
        return pool.get(kind)
    except ServiceError as exc:
        if running_under_ci():
            pytest.fail(
                f"{exc}\n(CI=true: a test that needs a service fails without it)", pytrace=False
            )
        pytest.skip(str(exc).splitlines()[0] + " (set CI=true to make this a failure)")


def require_control(handle: ServiceHandle[Any]) -> None:
    """Skip (fail under CI) a fault test whose service we cannot stop and start (e.g. attached)."""
    if handle.controllable:
        return
    message = f"this fault test needs to stop and start {handle.describe()}, which is not ours"
    if running_under_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> ServiceHandle[PostgresEndpoint]:
    """A real PostgreSQL for the session (needs @pytest.mark.postgres)."""
    return _service(request, ServiceKind.POSTGRES)


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest) -> ServiceHandle[KafkaEndpoint]:
    """A real Apache Kafka broker for the session (needs @pytest.mark.kafka)."""
    return _service(request, ServiceKind.KAFKA)


@pytest.fixture(scope="session")
def aws(request: pytest.FixtureRequest) -> ServiceHandle[AwsEndpoint]:
    """S3, Kinesis and SQS at one endpoint for the session (needs @pytest.mark.aws)."""
    return _service(request, ServiceKind.AWS)


# -- per-test isolation --------------------------------------------------------------------------


def unique_name(request: pytest.FixtureRequest, prefix: str, max_len: int, sep: str = "-") -> str:
    """prefix + the test's name + random suffix, reduced to [a-z0-9] and sep, at most max_len."""
    stem = re.sub(r"[^a-z0-9]+", sep, request.node.name.lower()).strip(sep)
    suffix = uuid.uuid4().hex[:10]
    room = max_len - len(prefix) - len(suffix) - 2
    parts = [prefix, stem[:room].strip(sep), suffix]
    return sep.join(p for p in parts if p)


@pytest.fixture
def pg_database(
    request: pytest.FixtureRequest, postgres: ServiceHandle[PostgresEndpoint]
) -> Iterator[PostgresEndpoint]:
    """A fresh, empty database for this test (dropped afterwards); yields its endpoint."""
    import psycopg
    from psycopg import sql

    name = unique_name(request, "t", 63, sep="_")
    admin = postgres.endpoint
    with psycopg.connect(admin.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield admin.with_database(name)
    try:
        with psycopg.connect(postgres.endpoint.dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except psycopg.Error as exc:
        log.info("could not drop database %s: %s", name, exc)


@pytest.fixture
def new_kafka_topic(
    request: pytest.FixtureRequest, kafka: ServiceHandle[KafkaEndpoint]
) -> Iterator[Callable[..., str]]:
    """Factory: new_kafka_topic(partitions=1, config=None) -> a fresh topic name (deleted after)."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    created: list[str] = []

    def make(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = unique_name(request, "plowline", 120)
        admin = AdminClient(kafka.endpoint.client_config())
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
            operation_timeout=30,
        )
        futures[name].result(timeout=60)
        created.append(name)
        return name

    yield make
    if created and kafka.running:
        try:
            admin = AdminClient(kafka.endpoint.client_config())
            for future in admin.delete_topics(created, operation_timeout=30).values():
                future.result(timeout=30)
        except Exception as exc:  # cleanup is best effort; the broker is throw-away
            log.info("could not delete topics %s: %s", created, exc)


@pytest.fixture
def kafka_topic(new_kafka_topic: Callable[..., str]) -> str:
    """A fresh single-partition topic for this test."""
    return new_kafka_topic()


@pytest.fixture
def s3_bucket(request: pytest.FixtureRequest, aws: ServiceHandle[AwsEndpoint]) -> Iterator[str]:
    """A fresh S3 bucket for this test (emptied and deleted afterwards); yields its name."""
    s3 = aws.endpoint.client("s3")
    name = unique_name(request, "plowline", 63)
    s3.create_bucket(Bucket=name)
    yield name
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys})
        s3.delete_bucket(Bucket=name)
    except Exception as exc:  # cleanup is best effort
        log.info("could not delete bucket %s: %s", name, exc)


@pytest.fixture
def new_kinesis_stream(
    request: pytest.FixtureRequest, aws: ServiceHandle[AwsEndpoint]
) -> Iterator[Callable[..., str]]:
    """Factory: new_kinesis_stream(shards=1) -> an ACTIVE stream's name (deleted after)."""
    kinesis = aws.endpoint.client("kinesis")
    created: list[str] = []

    def make(shards: int = 1) -> str:
        name = unique_name(request, "plowline", 128)
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        created.append(name)
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120}
        )
        return name

    yield make
    for name in created:
        try:
            kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        except Exception as exc:  # cleanup is best effort
            log.info("could not delete stream %s: %s", name, exc)


@pytest.fixture
def kinesis_stream(new_kinesis_stream: Callable[..., str]) -> str:
    """A fresh single-shard Kinesis stream for this test."""
    return new_kinesis_stream()


@pytest.fixture
def sqs_queue(request: pytest.FixtureRequest, aws: ServiceHandle[AwsEndpoint]) -> Iterator[str]:
    """A fresh SQS queue for this test (deleted afterwards); yields its URL."""
    sqs = aws.endpoint.client("sqs")
    url: str = sqs.create_queue(QueueName=unique_name(request, "plowline", 80))["QueueUrl"]
    yield url
    try:
        sqs.delete_queue(QueueUrl=url)
    except Exception as exc:  # cleanup is best effort
        log.info("could not delete queue %s: %s", url, exc)
