"""The errors a caller of the tracker can see."""

from __future__ import annotations


class TrackerError(Exception):
    """Base class of every error raised by plowline.tracker."""


class InvalidEventError(TrackerError, ValueError):
    """An event, subject or tracker argument is invalid; raised at the call, never later."""


class EmitterClosedError(TrackerError, RuntimeError):
    """An event was given to an emitter after ``close()``."""


class TransportError(TrackerError, OSError):
    """The HTTP exchange failed before a status line arrived (refused, reset, timed out)."""


class ConfigurationError(TrackerError, ValueError):
    """A tracker or emitter setting is invalid (endpoint, method, batch size, retry policy)."""
