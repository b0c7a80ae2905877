"""The emitter port: what a tracker hands its events to."""

from __future__ import annotations

from typing import Protocol

from plowline.tracker.emitters.store import Payload


class Emitter(Protocol):
    """Receives finished events (read-only dicts of wire parameters) and delivers them."""

    def input(self, payload: Payload) -> None:
        """Accept one event; must be quick and must not modify ``payload``."""
        ...

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything accepted so far; True when nothing is left undelivered."""
        ...

    def close(self, timeout: float | None = None) -> bool:
        """Flush, then release resources; later ``input`` calls raise EmitterClosedError."""
        ...
