"""Shared boto3 client construction for the AWS sinks."""

from __future__ import annotations

from typing import Any

import boto3  # type: ignore[import-untyped]  # no stubs shipped; typed at our boundary
from botocore.config import Config  # type: ignore[import-untyped]


def client(service: str, region: str, endpoint_url: str | None) -> Any:
    """A boto3 client with short timeouts: the buffer does the retrying, not botocore."""
    config = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=4,
        # Emulators and private endpoints serve buckets by path, not by virtual host.
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
