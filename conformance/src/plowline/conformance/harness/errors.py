"""Typed errors of the harness: bad input files, and the ways a driver can misbehave."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class FileProblemsError(HarnessError, ValueError):
    """A case file or a manifest is unreadable or breaks its schema."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class DriverError(HarnessError):
    """The driver broke the protocol; the case is errored and the driver restarted."""


class DriverStartError(DriverError):
    """The driver could not be started (missing toolchain, build failed, bad command)."""


class DriverCrashedError(DriverError):
    """The driver process exited while the harness waited for a reply."""


class DriverTimeoutError(DriverError):
    """The driver did not answer in time."""


class DriverReplyError(DriverError):
    """The driver answered with something that is not a valid reply to the request."""
