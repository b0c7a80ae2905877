"""Stream IO for every Plowline component: `open_source(url)` / `open_sink(url)`.

URLs: memory://<name>, file:///abs/path, stdout:, stdin:, kafka://<bootstrap>/<topic>?group=,
kinesis://<stream>?endpoint_url=&region=, sqs://<queue>?..., s3://<bucket>/<prefix>?...
Options not in the URL may be passed as keyword arguments; keyword arguments win.

`write_all(sink, records)` writes honouring partial acceptance; `StreamRunner` is the one
consumer loop (poll -> process -> write -> flush -> commit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from plowline.streams.base import (
    Record,
    Sink,
    SinkError,
    SinkFullError,
    Source,
    SourceError,
    StreamError,
    end_of_input,
)
from plowline.streams.runner import Outputs, Rebalancing, RunnerStats, StreamRunner, write_all

__all__ = [
    "Outputs",
    "Rebalancing",
    "Record",
    "RunnerStats",
    "Sink",
    "SinkError",
    "SinkFullError",
    "Source",
    "SourceError",
    "StreamError",
    "StreamRunner",
    "end_of_input",
    "open_sink",
    "open_source",
    "write_all",
]

_INTS = {
    "max_bytes",
    "max_record_bytes",
    "max_buffer_records",
    "max_buffer_bytes",
    "capacity",
    "visibility_timeout",
    "chunk_bytes",
    "max_attempts",
    "max_object_bytes",
    "session_timeout_ms",
}
_FLOATS = {"max_age"}
_BOOLS = {"compress", "directory", "fsync", "follow"}


def _coerce(url: str, name: str, value: str, error: type[StreamError]) -> Any:
    try:
        if name in _INTS:
            return int(value)
        if name in _FLOATS:
            return float(value)
    except ValueError:
        raise error(url, f"option {name}={value!r} is not a number") from None
    if name in _BOOLS:
        return value.lower() in ("1", "true", "yes", "on")
    return value


def _parse(
    url: str, options: dict[str, Any], error: type[StreamError]
) -> tuple[str, str, str, dict[str, Any]]:
    """(scheme, netloc, path, options) with URL query options merged under keyword options."""
    if not isinstance(url, str) or ":" not in url:
        raise error(str(url), "not a stream URL (expected scheme:...)")
    parts = urlsplit(url)
    merged: dict[str, Any] = {k: _coerce(url, k, v, error) for k, v in parse_qsl(parts.query)}
    merged.update(options)
    return parts.scheme.lower(), unquote(parts.netloc), unquote(parts.path), merged


def _require(url: str, value: str, what: str, error: type[StreamError]) -> str:
    if not value:
        raise error(url, f"missing {what}")
    return value


def open_source(url: str, **options: Any) -> Source:
    """Open a source for a stream URL; raises SourceError naming the URL on any problem."""
    scheme, netloc, path, opts = _parse(url, options, SourceError)
    try:
        if scheme == "memory":
            from plowline.streams.memory import MemorySource

            return MemorySource(
                url, _require(url, netloc + path, "topic name", SourceError), **opts
            )
        if scheme == "file":
            from plowline.streams.files import FileSource

            return FileSource(url, Path(_require(url, path, "path", SourceError)), **opts)
        if scheme == "stdin":
            from plowline.streams.stdio import StdinSource

            return StdinSource(url, **opts)
        if scheme == "kafka":
            from plowline.streams.kafka import KafkaSource

            topic = _require(url, path.strip("/"), "topic", SourceError)
            return KafkaSource(url, _require(url, netloc, "bootstrap", SourceError), topic, **opts)
        if scheme == "kinesis":
            from plowline.streams.kinesis import KinesisSource

            return KinesisSource(url, _require(url, netloc, "stream name", SourceError), **opts)
        if scheme == "sqs":
            from plowline.streams.sqs import SqsSource

            return SqsSource(url, _require(url, netloc, "queue name", SourceError), **opts)
        if scheme == "s3":
            from plowline.streams.s3 import S3Source

            bucket = _require(url, netloc, "bucket", SourceError)
            return S3Source(url, bucket, path, **opts)
    except TypeError as exc:  # an option the implementation does not take
        raise SourceError(url, f"bad option: {exc}") from exc
    raise SourceError(url, f"unknown source scheme {scheme!r}")


def open_sink(url: str, **options: Any) -> Sink:
    """Open a sink for a stream URL; raises SinkError naming the URL on any problem."""
    scheme, netloc, path, opts = _parse(url, options, SinkError)
    try:
        if scheme == "memory":
            from plowline.streams.memory import MemorySink

            return MemorySink(url, _require(url, netloc + path, "topic name", SinkError), **opts)
        if scheme == "file":
            from plowline.streams.files import FileSink

            target = _require(url, path, "path", SinkError)
            if target.endswith("/"):
                opts.setdefault("directory", True)
            return FileSink(url, Path(target), **opts)
        if scheme == "stdout":
            from plowline.streams.stdio import StdoutSink

            return StdoutSink(url, **opts)
        if scheme == "kafka":
            from plowline.streams.kafka import KafkaSink

            topic = _require(url, path.strip("/"), "topic", SinkError)
            return KafkaSink(url, _require(url, netloc, "bootstrap", SinkError), topic, **opts)
        if scheme == "kinesis":
            from plowline.streams.kinesis import KinesisSink

            return KinesisSink(url, _require(url, netloc, "stream name", SinkError), **opts)
        if scheme == "sqs":
            from plowline.streams.sqs import SqsSink

            return SqsSink(url, _require(url, netloc, "queue name", SinkError), **opts)
        if scheme == "s3":
            from plowline.streams.s3 import S3Sink

            return S3Sink(url, _require(url, netloc, "bucket", SinkError), path, **opts)
    except TypeError as exc:
        raise SinkError(url, f"bad option: {exc}") from exc
    raise SinkError(url, f"unknown sink scheme {scheme!r}")
