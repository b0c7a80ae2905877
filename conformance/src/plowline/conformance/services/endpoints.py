"""Where a service answers: one small value type per kind, independent of how it was provisioned."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from plowline.conformance.services.config import ATTACH_VARIABLES, ServiceKind


@dataclass(frozen=True)
class PostgresEndpoint:
    host: str
    port: int
    user: str = "postgres"
    password: str = ""
    dbname: str = "postgres"

    @property
    def dsn(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.dbname, safe='')}"

    def with_database(self, dbname: str) -> PostgresEndpoint:
        return replace(self, dbname=dbname)

    @classmethod
    def from_dsn(cls, dsn: str) -> PostgresEndpoint:
        """Parse a postgresql:// URL (the form PLOWLINE_POSTGRES_DSN takes)."""
        parts = urlsplit(dsn)
        if parts.scheme not in {"postgresql", "postgres"} or not parts.hostname:
            raise ValueError(
                f"not a PostgreSQL URL: {dsn!r} (expected postgresql://user:pass@host:port/db)"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(parts.path.lstrip("/")) or "postgres",
        )

    def env(self) -> dict[str, str]:
        return {ATTACH_VARIABLES[ServiceKind.POSTGRES]: self.dsn}

    def describe(self) -> str:
        return self.dsn


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap_servers: str

    def env(self) -> dict[str, str]:
        return {ATTACH_VARIABLES[ServiceKind.KAFKA]: self.bootstrap_servers}

    def client_config(self, **extra: Any) -> dict[str, Any]:
        """confluent-kafka configuration pointing at this broker."""
        return {"bootstrap.servers": self.bootstrap_servers, **extra}

    def describe(self) -> str:
        return self.bootstrap_servers


@dataclass(frozen=True)
class AwsEndpoint:
    """One endpoint URL serving S3, Kinesis and SQS (LocalStack or moto's server)."""

    endpoint_url: str
    region: str = "us-east-1"
    access_key_id: str = "test"
    secret_access_key: str = "test"  # noqa: S105 - the emulators' conventional dummy key

    def env(self) -> dict[str, str]:
        return {
            ATTACH_VARIABLES[ServiceKind.AWS]: self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for service ("s3", "kinesis", "sqs") at this endpoint."""
        # Imported here: only AWS users pay for botocore's import time. importlib keeps mypy
        # strict without boto3 type stubs (the client is Any either way).
        boto3 = importlib.import_module("boto3")
        config_class = importlib.import_module("botocore.config").Config

        options: dict[str, Any] = {
            "connect_timeout": 5,
            "read_timeout": 30,
            "retries": {"max_attempts": 3, "mode": "standard"},
            **config,
        }
        if service == "s3":
            options.setdefault("s3", {"addressing_style": "path"})
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=config_class(**options),
        )

    def describe(self) -> str:
        return self.endpoint_url


Endpoint = PostgresEndpoint | KafkaEndpoint | AwsEndpoint
