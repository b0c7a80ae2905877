"""boto3 clients shared by the Kinesis, SQS and S3 streams (and the S3 loader)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]


def client(
    service: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    credentials: Mapping[str, str] | None = None,
) -> Any:
    """A boto3 client; endpoint_url points at LocalStack/moto, credentials default to boto's."""
    creds = dict(credentials or {})
    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    # Emulators (LocalStack, moto) answer on one host: path-style bucket addressing.
    s3 = {"addressing_style": "path"} if endpoint else None
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=creds.get("aws_access_key_id"),
        aws_secret_access_key=creds.get("aws_secret_access_key"),
        aws_session_token=creds.get("aws_session_token"),
        config=Config(
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            s3=s3,
        ),
    )
