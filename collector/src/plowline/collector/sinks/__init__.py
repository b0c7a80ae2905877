"""Sinks: where the collector's records go. One small protocol, several adapters.

A sink receives opaque records (bytes) and makes them durable. The contract, kept small so a
shared stream-IO package can take it over unchanged:

- ``write(records)`` hands records to the sink. It may deliver them at once or hold them in
  its own batch; it raises :class:`SinkError` for records it could not take.
- ``flush(timeout)`` returns once everything written so far is durable, or raises
  :class:`SinkError` naming the records that are definitely *not* delivered (they must be
  written again). Records it does not name are delivered or still safely in flight inside the
  sink, and a later ``flush`` settles them. Never duplicates on its own.
- ``close()`` releases resources (callers flush first).
- ``healthy()`` is a cheap, non-blocking probe for ``/sink-health``.
- ``max_record_bytes`` is the largest single record the sink accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


class SinkError(Exception):
    """A write or flush that did not deliver everything."""

    def __init__(self, message: str, undelivered: Sequence[bytes] = ()) -> None:
        super().__init__(message)
        self.undelivered: list[bytes] = list(undelivered)


@runtime_checkable
class Sink(Protocol):
    """The port every record destination implements."""

    @property
    def name(self) -> str:
        """Short type name (``kafka``, ``stdout``...), used in the collector field and logs."""
        ...

    @property
    def max_record_bytes(self) -> int: ...

    def write(self, records: Sequence[bytes]) -> None: ...

    def flush(self, timeout: float) -> None: ...

    def close(self) -> None: ...

    def healthy(self) -> bool: ...


__all__ = ["Sink", "SinkError"]
