"""Where the collector's records go.

Every transport (Kafka, Kinesis, SQS, S3, rotating files, stdout) is a sink of
``plowline.streams``, opened by :func:`plowline.collector.app.build_sink`; the buffer
speaks that contract (write / flush / healthy / close, ``SinkError`` / ``SinkFullError``). What
stays here is the collector's own in-memory test double (:mod:`.memory`).
"""

from __future__ import annotations

from plowline.streams import Record, Sink, SinkError, SinkFullError

__all__ = ["Record", "Sink", "SinkError", "SinkFullError"]
