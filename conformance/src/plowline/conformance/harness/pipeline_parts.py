"""The two pluggable halves of the pipeline tier: a collector and an enricher.

Collectors: :class:`InProcessCollector` (plowline-collector's app, in-memory sinks, fresh per
case so a case may configure it) and :class:`RemoteCollector` (any running collector reached
over HTTP whose raw records are read back from a stream URL). Enrichers:
:class:`InProcessEnricher` (plowline-enrich's pure function) and :class:`CommandEnricher` (any
program speaking the stdin/stdout protocol below).

Enricher command protocol: the harness writes every raw record to the command's standard input
as a 4-byte big-endian length then the record's bytes (a Thrift CollectorPayload or a framed
batch, exactly as the collector wrote it), closes it, and reads standard output: one line per
result, a bad row as its self-describing JSON or an enriched event as its TSV line. A command
holding ``{input}`` gets the same length-prefixed records in a file of that name instead of on
standard input (for enrichers that read files, not pipes), e.g. plowline-enrich::

    plowline-enrich run --input "file://{input}?framing=length" --good stdout: --bad stdout: \
        --exit-when-idle 0.5 --workers 1
"""

from __future__ import annotations

import http.client
import shlex
import struct
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import orjson
from plowline.collector.payload import CollectorPayload, encode
from plowline.collector.testing import Harness, make_harness

DEFAULT_IP: Final = "203.0.113.9"
REQUEST_TIMEOUT_S: Final = 15.0
_LEN: Final = struct.Struct(">I")
INPUT_PLACEHOLDER: Final = "{input}"


class PipelineError(Exception):
    """A half of the pipeline could not do its job (unreachable, crashed, timed out)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The collector's answer to one request."""

    status: int
    headers: tuple[tuple[str, str], ...]

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass(slots=True)
class Exchange:
    """What sending a case's requests produced."""

    answers: list[Answer] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # records for the enricher, as written
    collector_bad: list[bytes] | None = None  # None: this run cannot see the collector's bad sink


def request_body(request: Mapping[str, Any]) -> bytes:
    """The body a case's request sends (``body``, or a generated ``body_fill``)."""
    fill = request.get("body_fill")
    if fill is not None:
        prefix = str(fill.get("prefix", "")).encode()
        suffix = str(fill.get("suffix", "")).encode()
        size = max(int(fill["bytes"]) - len(prefix) - len(suffix), 0)
        return prefix + str(fill.get("char", "a")).encode() * size + suffix
    body = request.get("body")
    return body.encode("utf-8") if isinstance(body, str) else b""


class Collector(Protocol):
    remote: bool

    def exchange(
        self, requests: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
    ) -> Exchange:
        """Send the requests (``config``: collector settings the case asks for)."""

    def close(self) -> None: ...


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# Defaults of the in-process collector: cookies on (so SP cookies and nuids show), one domain.
IN_PROCESS_DEFAULTS: Final[dict[str, Any]] = {"cookie": {"enabled": True}}


class InProcessCollector:
    """plowline-collector's app called through ASGI, a fresh one (own config) per case."""

    remote = False

    def exchange(
        self, requests: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
    ) -> Exchange:
        harness: Harness = make_harness(_merge(IN_PROCESS_DEFAULTS, config))
        try:
            out = Exchange(collector_bad=[])
            for request in requests:
                response = harness.request(
                    str(request["method"]),
                    str(request["path"]),
                    query=str(request.get("query") or ""),
                    headers=[(str(k), str(v)) for k, v in (request.get("headers") or {}).items()],
                    body=request_body(request),
                    client_ip=str(request.get("ip", DEFAULT_IP)),
                )
                out.answers.append(Answer(response.status, tuple(response.headers)))
            harness.settle()
            out.raw = list(harness.good.records)
            out.collector_bad = list(harness.bad.records)
            return out
        finally:
            harness.close()

    def close(self) -> None:
        """Nothing shared between cases."""


def send_http(url: str, request: Mapping[str, Any]) -> Answer:
    """Send one case request to the collector at ``url`` over a fresh connection."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=REQUEST_TIMEOUT_S)
    query = str(request.get("query") or "")
    target = str(request["path"]) + (f"?{query}" if query else "")
    try:
        conn.request(
            str(request["method"]),
            target,
            body=request_body(request) or None,
            headers={str(k): str(v) for k, v in (request.get("headers") or {}).items()},
        )
        response = conn.getresponse()
        response.read()
        return Answer(response.status, tuple(response.getheaders()))
    except OSError as error:
        raise PipelineError(f"collector at {url}: {error}") from error
    finally:
        conn.close()


def drain_source(source: Any, settle_s: float = 1.0, limit_s: float = 10.0) -> list[bytes]:
    """Records of a stream source until it has been quiet for ``settle_s`` (``limit_s`` max)."""
    out: list[bytes] = []
    deadline = time.monotonic() + limit_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        batch = source.poll(500, 0.2)
        if batch:
            out += [bytes(r.value) for r in batch]
            source.commit(batch)
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle_s:
            break
    return out


class RemoteCollector:
    """A running collector at ``url``; what it records is read back from stream URLs."""

    remote = True

    def __init__(self, url: str, raw_from: str, bad_from: str | None = None) -> None:
        from plowline.streams import open_source

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PipelineError(f"--collector-url must be http(s)://host[:port], not {url!r}")
        self.url = url
        self._raw = open_source(raw_from)
        self._bad = open_source(bad_from) if bad_from else None

    def exchange(
        self, requests: Sequence[Mapping[str, Any]], config: Mapping[str, Any]
    ) -> Exchange:
        out = Exchange(answers=[send_http(self.url, r) for r in requests])
        out.raw = drain_source(self._raw)
        out.collector_bad = drain_source(self._bad) if self._bad is not None else None
        return out

    def close(self) -> None:
        self._raw.close()
        if self._bad is not None:
            self._bad.close()


@dataclass(slots=True)
class Enriched:
    """An enricher's output: TSV lines and bad-row JSON documents."""

    good: list[str] = field(default_factory=list)
    bad: list[bytes] = field(default_factory=list)


class Enricher(Protocol):
    def enrich(self, records: Sequence[bytes]) -> Enriched: ...


class InProcessEnricher:
    """plowline-enrich's pure function with its default (no enrichments) configuration."""

    def __init__(self) -> None:
        from plowline.enrich.worker import WorkerConfig, build_context

        self._ctx = build_context(WorkerConfig())

    def enrich(self, records: Sequence[bytes]) -> Enriched:
        from plowline.enrich.outputs import to_outputs
        from plowline.enrich.records import enrich_record

        out = Enriched()
        for record in records:
            results = enrich_record(record, self._ctx)
            for channel, value in to_outputs(results, self._ctx.processor, self._ctx.clock_ms()):
                if channel == "bad":
                    out.bad.append(value)
                else:
                    out.good.append(value.decode("utf-8"))
        return out


def is_bad_row_line(line: bytes) -> bool:
    if not line.startswith(b"{"):
        return False
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(doc, dict) and str(doc.get("schema", "")).startswith(
        "iglu:com.snowplowanalytics.snowplow.badrows/"
    )


class CommandEnricher:
    """Any enricher run as a command: length-prefixed records in, result lines out."""

    def __init__(self, command: str, timeout_s: float = 60.0) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise PipelineError("--enricher-command is empty")
        self.timeout_s = timeout_s

    def _call(self, argv: list[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                argv,
                input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PipelineError(f"enricher command {argv[0]!r}: {error}") from error
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip()[-500:]
            raise PipelineError(f"enricher command exited {done.returncode}: {tail}")
        return done

    def enrich(self, records: Sequence[bytes]) -> Enriched:
        if not records:  # nothing recorded: nothing to run the command for
            return Enriched()
        data = b"".join(_LEN.pack(len(r)) + r for r in records)
        if any(INPUT_PLACEHOLDER in a for a in self.argv):
            with tempfile.TemporaryDirectory(prefix="plowline-pipeline-") as tmp:
                path = Path(tmp) / "raw.bin"
                path.write_bytes(data)
                argv = [a.replace(INPUT_PLACEHOLDER, str(path)) for a in self.argv]
                done = self._call(argv, None)
        else:
            done = self._call(self.argv, data)
        out = Enriched()
        for line in done.stdout.splitlines():
            if not line.strip():
                continue
            if is_bad_row_line(line):
                out.bad.append(line)
            else:
                out.good.append(line.decode("utf-8", "replace"))
        return out


def enrich_layer_record(request: Mapping[str, Any], collector: str) -> bytes:
    """The CollectorPayload a collector would record for a request it does not take as is."""
    from plowline.enrich.testing import payload_from_request

    headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    body = request_body(request).decode("utf-8", "replace") or None
    payload: CollectorPayload = payload_from_request(
        str(request["method"]),
        str(request["path"]),
        str(request.get("query") or "") or None,
        headers,
        body,
        ip=str(request.get("ip", DEFAULT_IP)),
        timestamp_ms=int(request.get("collector_tstamp_ms", time.time_ns() // 1_000_000)),
        collector=collector,
    )
    return encode(payload)
