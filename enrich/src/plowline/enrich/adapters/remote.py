"""Remote adapters (enrich ``adapters/registry/RemoteAdapter.scala``): a vendor/version served
by the user's own HTTP service.

The request is POSTed as ``{"contentType", "queryString", "headers", "body"}`` JSON to the
configured URL; the service answers ``{"events": [{param: value, ...}, ...]}`` and every object
becomes one tracker-protocol event. No answer, a non-2xx status, a timeout or an answer of the
wrong shape becomes an ``adapter_failures`` bad row. Configure them with
``register_remote_adapters`` (enrich's ``remoteAdapters`` setting).
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, compact, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

if TYPE_CHECKING:
    from plowline.enrich.adapters import Adapter


@dataclass(frozen=True, slots=True)
class RemoteAdapterConfig:
    """One ``remoteAdapters`` entry: the path it serves, where to send, how long to wait."""

    vendor: str
    version: str
    url: str
    connection_timeout_ms: int | None = None
    read_timeout_ms: int | None = None


class RemoteError(Exception):
    """The remote service gave no usable answer."""


def _post(config: RemoteAdapterConfig, body: str) -> str:
    url = urllib.parse.urlsplit(config.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise RemoteError(f"unsupported URL {config.url}")
    connect = None if config.connection_timeout_ms is None else config.connection_timeout_ms / 1000
    read = None if config.read_timeout_ms is None else config.read_timeout_ms / 1000
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    conn = kind(url.hostname, url.port, timeout=connect)
    try:
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(read)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        conn.request("POST", target, body.encode("utf-8"),
                     {"Content-Type": "application/json; charset=utf-8"})  # fmt: skip
        response = conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        raise RemoteError(str(exc) or type(exc).__name__) from exc
    finally:
        conn.close()
    if not 200 <= response.status < 300:
        raise RemoteError(f"Request failed with status {response.status} and body {text}")
    return text


def _events(text: str, max_depth: int) -> list[dict[str, str]] | AdapterFailure:
    try:
        parsed = parse_json(text, max_depth)
    except JsonError as exc:
        return AdapterFailure([not_json("body", text, str(exc))])
    events = parsed.get("events") if isinstance(parsed, dict) else None
    if not isinstance(events, list) or not all(
        isinstance(e, dict) and all(isinstance(v, str) for v in e.values()) for e in events
    ):
        return AdapterFailure([input_data(
            "body", text, "could not be decoded as a list of json objects: "
            "`events` must be an array of objects of string values",
        )])  # fmt: skip
    if not events:
        return AdapterFailure([input_data("body", text, "empty list of events")])
    return events


def remote_adapter(config: RemoteAdapterConfig) -> Adapter:
    """The adapter function for one configured remote adapter."""

    def adapt(
        payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
    ) -> list[RawEvent] | AdapterFailure:
        if not payload.body:
            return AdapterFailure([input_data(
                "body", None, f"empty body: not a valid remote adapter {config.url} payload",
            )])  # fmt: skip
        request = compact({
            "contentType": payload.content_type, "queryString": to_map(pairs),
            "headers": list(payload.headers or []), "body": payload.body,
        })  # fmt: skip
        try:
            text = _post(config, request)
        except RemoteError as exc:
            return AdapterFailure([input_data(
                "body", None, f"could not get response from remote adapter {config.url}: {exc}",
            )])  # fmt: skip
        events = _events(text, ctx.max_json_depth)
        if isinstance(events, AdapterFailure):
            return events
        return [
            RawEvent(config.vendor, config.version, dict(e), payload.content_type, payload)
            for e in events
        ]

    return adapt


def register_remote_adapters(configs: Iterable[RemoteAdapterConfig]) -> None:
    """Serve each configured vendor/version through its remote service."""
    from plowline.enrich.adapters import REGISTRY

    for config in configs:
        REGISTRY[(config.vendor, config.version)] = remote_adapter(config)


def unregister_remote_adapters(configs: Iterable[RemoteAdapterConfig]) -> None:
    from plowline.enrich.adapters import REGISTRY

    for config in configs:
        REGISTRY.pop((config.vendor, config.version), None)
