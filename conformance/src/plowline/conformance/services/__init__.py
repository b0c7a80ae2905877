"""Real services for tests and development: attach, testcontainers, or local processes.

from plowline.conformance.services import Provisioner, ServiceKind, Settings

handle = Provisioner(Settings.from_env()).provision(ServiceKind.KAFKA)
try:
    print(handle.endpoint.bootstrap_servers)
finally:
    handle.close()
"""

from plowline.conformance.services.config import ServiceKind, Settings
from plowline.conformance.services.endpoints import AwsEndpoint, KafkaEndpoint, PostgresEndpoint
from plowline.conformance.services.errors import (
    AttachError,
    ControlUnsupportedError,
    DownloadError,
    MissingDependencyError,
    ServiceError,
    ServiceStartError,
)
from plowline.conformance.services.handle import ServiceHandle
from plowline.conformance.services.provision import Provisioner

__all__ = [
    "AttachError",
    "AwsEndpoint",
    "ControlUnsupportedError",
    "DownloadError",
    "KafkaEndpoint",
    "MissingDependencyError",
    "PostgresEndpoint",
    "Provisioner",
    "ServiceError",
    "ServiceHandle",
    "ServiceKind",
    "ServiceStartError",
    "Settings",
]
