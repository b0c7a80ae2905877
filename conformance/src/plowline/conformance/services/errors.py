"""Typed errors of the service layer: each says what failed and what to do about it."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a service could not be provisioned, reached or controlled."""


class MissingDependencyError(ServiceError):
    """A program the local provisioner needs is not on this machine."""

    def __init__(self, program: str, package: str, purpose: str) -> None:
        self.program = program
        self.package = package
        super().__init__(
            f"{program} not found ({purpose}); install Debian's package {package!r}: "
            f"`apt-get install -y {package}` (or run `plowline services install`)"
        )


class ServiceStartError(ServiceError):
    """A service process was launched but never became ready (log tail included)."""

    def __init__(self, what: str, reason: str, log_tail: str = "") -> None:
        self.what = what
        self.log_tail = log_tail
        message = f"{what} did not start: {reason}"
        if log_tail:
            message += f"\n--- last lines of its log ---\n{log_tail}"
        super().__init__(message)


class AttachError(ServiceError):
    """An endpoint given in the environment does not answer."""

    def __init__(self, variable: str, value: str, reason: str) -> None:
        self.variable = variable
        super().__init__(
            f"{variable}={value} is set but the service there does not answer: {reason}"
        )


class DownloadError(ServiceError):
    """Fetching jars or Python packages from a registry failed or timed out."""


class ControlUnsupportedError(ServiceError):
    """stop/start was asked of a service this process does not own (e.g. an attached one)."""
