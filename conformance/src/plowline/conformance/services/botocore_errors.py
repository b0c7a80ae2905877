"""botocore's exception classes, loaded without type stubs (mypy sees them as Any)."""

from __future__ import annotations

import importlib
from typing import Any


def boto_errors() -> tuple[type[Exception], ...]:
    """(BotoCoreError, ClientError): what a boto3 call raises when the service misbehaves."""
    module: Any = importlib.import_module("botocore.exceptions")
    return (module.BotoCoreError, module.ClientError)
