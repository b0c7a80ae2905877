"""The end-to-end tier on real services: tracker -> collector -> streams -> enrich -> storage."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plowline.conformance.harness.e2e import E2ECase, Services, load_e2e_cases, run_e2e_case
from plowline.conformance.services import (
    AwsEndpoint,
    KafkaEndpoint,
    PostgresEndpoint,
    ServiceHandle,
)
from plowline.conformance.services.pytest_plugin import unique_name

CASES = load_e2e_cases()
KAFKA_POSTGRES = [c for c in CASES if c.route == "kafka-postgres"]
KINESIS_S3 = [c for c in CASES if c.route == "kinesis-s3"]


def _ids(cases: list[E2ECase]) -> list[str]:
    return [c.id for c in cases]


def test_the_tier_has_enough_scenarios() -> None:
    assert len(CASES) >= 10
    assert {c.route for c in CASES} == {"kafka-postgres", "kinesis-s3"}


@pytest.mark.kafka
@pytest.mark.postgres
@pytest.mark.parametrize("case", KAFKA_POSTGRES, ids=_ids(KAFKA_POSTGRES))
def test_conformance_e2e_kafka_postgres(
    case: E2ECase,
    kafka: ServiceHandle[KafkaEndpoint],
    new_kafka_topic: Callable[..., str],
    pg_database: PostgresEndpoint,
) -> None:
    services = Services(
        kafka_bootstrap=kafka.endpoint.bootstrap_servers,
        postgres_dsn=pg_database.dsn,
        new_topic=new_kafka_topic,
    )
    found = run_e2e_case(case, services)
    assert found == [], "\n".join(found)


@pytest.fixture
def new_bucket(
    request: pytest.FixtureRequest, aws: ServiceHandle[AwsEndpoint]
) -> Iterator[Callable[[], str]]:
    s3 = aws.endpoint.client("s3")
    made: list[str] = []

    def make() -> str:
        name = unique_name(request, f"e2e{len(made)}", 63)
        s3.create_bucket(Bucket=name)
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=name, Delete={"Objects": keys})
            s3.delete_bucket(Bucket=name)
        except Exception as exc:  # cleanup is best effort
            print(f"could not delete bucket {name}: {exc}")


@pytest.mark.aws
@pytest.mark.parametrize("case", KINESIS_S3, ids=_ids(KINESIS_S3))
def test_conformance_e2e_kinesis_s3(
    case: E2ECase,
    aws: ServiceHandle[AwsEndpoint],
    new_kinesis_stream: Callable[..., str],
    new_bucket: Callable[[], str],
) -> None:
    endpoint: Any = aws.endpoint
    services = Services(
        aws_endpoint_url=endpoint.endpoint_url,
        aws_region=endpoint.region,
        aws_env={**endpoint.env(), "AWS_ENDPOINT_URL": endpoint.endpoint_url},
        new_stream=new_kinesis_stream,
        new_bucket=new_bucket,
        s3_client=endpoint.client("s3"),
    )
    saved = {k: os.environ.get(k) for k in services.aws_env}
    os.environ.update(services.aws_env)  # boto3 in this process reads the same credentials
    try:
        found = run_e2e_case(case, services)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert found == [], "\n".join(found)
