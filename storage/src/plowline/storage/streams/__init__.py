"""Moved: the stream contract and transports are the `plowline-streams` distribution
(`plowline.streams`). This name re-exports it for one release; import `plowline.streams`."""

from __future__ import annotations

from plowline.streams import (
    Record,
    Sink,
    SinkError,
    SinkFullError,
    Source,
    SourceError,
    StreamError,
    end_of_input,
    open_sink,
    open_source,
)

__all__ = [
    "Record",
    "Sink",
    "SinkError",
    "SinkFullError",
    "Source",
    "SourceError",
    "StreamError",
    "end_of_input",
    "open_sink",
    "open_source",
]
