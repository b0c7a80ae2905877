"""Readiness probes that speak each service's real protocol (a listening port is not enough)."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from plowline.conformance.services.botocore_errors import boto_errors
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.ports import port_accepts

# librdkafka logs every refused connection at error level; keep that out of test output.
_RDKAFKA_LOG = logging.getLogger("plowline.services.rdkafka")
_RDKAFKA_LOG.addHandler(logging.NullHandler())
_RDKAFKA_LOG.propagate = False


def postgres_problem(endpoint: PostgresEndpoint, timeout: float = 2.0) -> str | None:
    """None when `SELECT 1` succeeds, else why not."""
    import psycopg

    try:
        with psycopg.connect(endpoint.dsn, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip()}"
    return None


def kafka_problem(endpoint: KafkaEndpoint, timeout: float = 5.0) -> str | None:
    """None when an AdminClient lists the cluster's brokers, else why not."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    first = endpoint.bootstrap_servers.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if not port.isdigit() or not port_accepts(int(port), host.strip("[]") or "127.0.0.1", timeout):
        return f"nothing accepts connections at {first}"
    admin = AdminClient(
        endpoint.client_config(logger=_RDKAFKA_LOG, **{"socket.timeout.ms": int(timeout * 1000)})
    )
    try:
        metadata = admin.list_topics(timeout=timeout)
        cluster = admin.describe_cluster(request_timeout=timeout).result(timeout=timeout)
    except KafkaException as exc:
        return f"admin request failed: {exc}"
    if not metadata.brokers or cluster.controller is None:
        return "the cluster reports no broker or controller yet"
    return None


def http_problem(url: str, timeout: float = 3.0) -> str | None:
    """None when url answers HTTP at all (any status), else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - our own loopback URL
            return None
    except urllib.error.HTTPError:
        return None  # an HTTP error status is still an answer
    except (urllib.error.URLError, OSError) as exc:
        return f"no HTTP answer from {url}: {exc}"


def localstack_problem(
    endpoint: AwsEndpoint, services: tuple[str, ...], timeout: float = 3.0
) -> str | None:
    """None when LocalStack's health endpoint reports every wanted service usable."""
    url = endpoint.endpoint_url.rstrip("/") + "/_localstack/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            report = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"no health report at {url}: {exc}"
    states = report.get("services", {})
    bad = {s: states.get(s) for s in services if states.get(s) not in {"available", "running"}}
    return f"services not ready: {bad}" if bad else None


def aws_problem(endpoint: AwsEndpoint, timeout: float = 5.0) -> str | None:
    """None when S3 at the endpoint answers ListBuckets (works for LocalStack, moto, AWS)."""
    parts = urlsplit(endpoint.endpoint_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"not an http(s) URL: {endpoint.endpoint_url!r}"
    try:
        client = endpoint.client(
            "s3", connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}
        )
        client.list_buckets()
    except boto_errors() as exc:
        return f"S3 ListBuckets failed: {exc}"
    return None


def wait_until(probe: Callable[[], str | None], deadline: float, pause: float = 0.2) -> str | None:
    """Call probe until it returns None or time.monotonic() passes deadline; the last problem."""
    problem: str | None = "never probed"
    while time.monotonic() < deadline:
        problem = probe()
        if problem is None:
            return None
        time.sleep(pause)
    return problem
