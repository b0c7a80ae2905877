"""Re-process bad rows (e.g. after a missing schema was published).

Each bad row is turned back into what the enricher first saw and enriched again:

* collector_payload_format_violation: the payload is the raw record (base64) -> as a record;
* adapter_failures / tracker_protocol_violations: the CollectorPayload object -> a payload;
* schema_violations / enrichment_failures: the raw event (parameters and request context) ->
  the per-event pipeline, skipping the adapter (which had already succeeded).

size_violation and generic_error rows (and rows whose payload was cut to fit its schema's
limits, which cannot be rebuilt faithfully) are passed through unchanged, so nothing is lost.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from urllib.parse import quote

from plowline.enrich.badrows import SCHEMAS, BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.pipeline import Result, enrich, enrich_raw_event
from plowline.enrich.raw import RawEvent
from plowline.enrich.records import enrich_record
from plowline.spec.collector_payload import CollectorPayload

_KIND_BY_SCHEMA = {uri: kind for kind, uri in SCHEMAS.items()}
_CUT_LIMIT = 512  # a parameter value of exactly this length may have been cut


class NotReplayableError(ValueError):
    """A bad row that cannot be turned back into its input."""


def _ms(iso: str | None) -> int:
    if not iso:
        return 0
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _kind(row: Any) -> str:
    if not isinstance(row, dict) or not isinstance(row.get("data"), dict):
        raise NotReplayableError("not a bad row (expected {schema, data})")
    schema = str(row.get("schema", ""))
    for uri, kind in _KIND_BY_SCHEMA.items():
        if schema.rsplit("/", 1)[0] == uri.rsplit("/", 1)[0]:
            return kind
    raise NotReplayableError(f"unknown bad row schema {schema!r}")


def payload_from_collector_json(p: dict[str, Any]) -> CollectorPayload:
    """Rebuild the CollectorPayload of an adapter/tracker-protocol bad row."""
    pairs = p.get("querystring") or []
    if any(len(x.get("value") or "") >= _CUT_LIMIT for x in pairs):
        raise NotReplayableError("a querystring value was cut to fit the bad-row schema")
    query = "&".join(
        quote(x["name"], safe="") + ("" if x["value"] is None else "=" + quote(x["value"], safe=""))
        for x in pairs
    )
    return CollectorPayload(
        ip_address=p.get("ipAddress") or "unknown",
        timestamp=_ms(p.get("timestamp")),
        collector=p.get("collector") or "unknown",
        encoding=p.get("encoding") or "UTF-8",
        user_agent=p.get("useragent"),
        referer_uri=p.get("refererUri"),
        path=f"/{p['vendor']}/{p['version']}"
        if p["vendor"] != "com.snowplowanalytics.snowplow" or p["version"] != "tp1"
        else "/i",
        querystring=query or None,
        body=p.get("body"),
        headers=list(p.get("headers") or []),
        content_type=p.get("contentType"),
        hostname=p.get("hostname"),
        network_user_id=p.get("networkUserId"),
    )


def raw_event_from_json(payload: dict[str, Any]) -> RawEvent:
    """Rebuild the RawEvent of a schema_violations / enrichment_failures bad row."""
    raw, enriched = payload["raw"], payload.get("enriched") or {}
    params = {x["name"]: x["value"] for x in raw.get("parameters") or []}
    if any(len(v or "") >= _CUT_LIMIT for v in params.values()):
        raise NotReplayableError("a parameter value was cut to fit the bad-row schema")
    collector_payload = CollectorPayload(
        ip_address=raw.get("ipAddress") or "unknown",
        timestamp=_ms(raw.get("timestamp")),
        collector=enriched.get("v_collector") or "unknown",
        encoding=raw.get("encoding") or "UTF-8",
        user_agent=raw.get("useragent"),
        referer_uri=raw.get("refererUri"),
        headers=list(raw.get("headers") or []),
        content_type=raw.get("contentType"),
        hostname=raw.get("hostname"),
        network_user_id=raw.get("userId"),
    )
    return RawEvent(
        raw["vendor"], raw["version"], params, raw.get("contentType"), collector_payload
    )


def replay_row(row: Any, ctx: EnrichContext) -> list[Result]:
    """Results of re-enriching one bad row; raises NotReplayableError when it cannot be."""
    kind = _kind(row)
    payload = row["data"].get("payload")
    if kind == "collector_payload_format_violation":
        try:
            return enrich_record(base64.b64decode(payload, validate=True), ctx)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise NotReplayableError(f"payload is not base64: {exc}") from exc
    if kind in ("adapter_failures", "tracker_protocol_violations"):
        return enrich(payload_from_collector_json(payload), ctx)
    if kind in ("schema_violations", "enrichment_failures"):
        return enrich_raw_event(raw_event_from_json(payload), ctx, ctx.clock_ms())
    raise NotReplayableError(f"{kind} rows carry no replayable input")


def replay_line(line: str, ctx: EnrichContext) -> list[Result] | None:
    """Results for one JSON line, or None when the row must be kept as it is."""
    try:
        row = parse_json(line, max_depth=1000)
        return replay_row(row, ctx)
    except (JsonError, NotReplayableError, KeyError, TypeError, ValueError):
        return None


def passthrough(line: str) -> BadRow | None:
    """A bad row kept unchanged (None when the line is not even a bad row)."""
    try:
        row = parse_json(line, max_depth=1000)
        return BadRow(_kind(row), row["data"])
    except (JsonError, NotReplayableError):
        return None
