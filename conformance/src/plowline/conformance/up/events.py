"""One collector record -> Micro-shaped good and bad events (Micro's Routing.scala, badrows).

Enrichment itself is plowline-enrich's pure pipeline. We call its per-event entry point on
the adapter's raw events so each good event keeps the raw event it came from (Micro's
``rawEvent``); any payload the loader checks or the adapter refuse goes through the whole
``enrich`` function, which turns it into the right bad row.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from plowline.collector.payload import CollectorPayload, PayloadDecodeError, decode
from plowline.conformance.up.reasons import describe
from plowline.enrich import badrows
from plowline.enrich.adapters import adapt
from plowline.enrich.badrows import BadRow, collector_payload_json, iso_now
from plowline.enrich.bounds import bound_results
from plowline.enrich.context import EnrichContext
from plowline.enrich.conversions import is_uuid
from plowline.enrich.event import EnrichedEvent, shred_name, tsv_to_json
from plowline.enrich.fields import FIELD_NAMES
from plowline.enrich.pipeline import enrich, enrich_raw_event, parse_api
from plowline.enrich.querystring import QuerystringError, parse_querystring
from plowline.enrich.raw import AdapterFailure, RawEvent
from plowline.enrich.records import enrich_payload_bytes

PAYLOAD_SCHEMA_PREFIX: Final = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-"
FAILURE_KEY: Final = "contexts_com_snowplowanalytics_snowplow_failure_1"
_ENRICHED_KINDS: Final = ("schema_violations", "enrichment_failures")
_JSON_FIELDS: Final = frozenset({"contexts", "derived_contexts", "unstruct_event"})
# The enriched TSV carries entities in contexts 1-0-1; Micro's JSON is the Scala analytics
# SDK's, which writes them in contexts 1-0-0 (snowplow-scala-analytics-sdk SnowplowEvent.scala,
# `ContextsUri`).
SDK_CONTEXTS_SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
log = logging.getLogger("plowline.up")


@dataclass(slots=True)
class GoodItem:
    doc: dict[str, Any]  # Micro GoodEvent
    flat: dict[str, Any]  # analytics-SDK JSON, flattened (/micro/events)
    tsv: str
    event_type: str | None
    event_code: str | None  # the tracker's `e` parameter (pv, ue, se...)
    schema: str | None
    contexts: list[str]
    collector_ms: int | None


@dataclass(slots=True)
class BadItem:
    doc: dict[str, Any]  # Micro BadEvent
    kind: str
    vendor: str | None
    version: str | None
    flat: dict[str, Any] | None  # the failed event for /micro/events, when there is one
    collector_ms: int | None


Item = GoodItem | BadItem


def raw_event_doc(raw: RawEvent) -> dict[str, Any]:
    """Micro's RawEvent: api, parameters, contentType, source and request context."""
    p = raw.payload
    return {
        "api": {"vendor": raw.vendor, "version": raw.version},
        "parameters": dict(raw.parameters),
        "contentType": raw.content_type,
        "source": {"name": p.collector, "encoding": p.encoding, "hostname": p.hostname},
        "context": {
            "timestamp": _iso(p.timestamp),
            "ipAddress": p.ip_address,
            "useragent": p.user_agent,
            "refererUri": p.referer_uri,
            "headers": list(p.headers or []),
            "userId": p.network_user_id,
        },
    }


def _iso(ms: int) -> str | None:
    try:
        return iso_now(ms)
    except (ValueError, OverflowError, OSError):
        return None


def _raw_events(payload: CollectorPayload, ctx: EnrichContext) -> list[RawEvent] | None:
    """The adapter's raw events, or None when a loader check or the adapter refuses."""
    if not payload.schema.startswith(PAYLOAD_SCHEMA_PREFIX):
        return None
    api = parse_api(payload.path)
    if api is None:
        return None
    try:
        pairs = parse_querystring(payload.querystring)
    except QuerystringError:
        return None
    nuid = payload.network_user_id
    if nuid is not None and not is_uuid(nuid):
        return None
    adapted = adapt(api[0], api[1], payload, pairs, ctx)
    return None if isinstance(adapted, AdapterFailure) else adapted


def process_record(record: bytes, ctx: EnrichContext) -> list[Item]:
    """Every record ends as good and/or bad items; nothing escapes as an exception."""
    now = ctx.clock_ms()
    try:
        payload = decode(record)
    except (PayloadDecodeError, Exception):
        return [bad_item(r, None, None) for r in _only_bad(enrich_payload_bytes(record, ctx, now))]
    try:
        raws = _raw_events(payload, ctx)
    except Exception:  # the full pipeline below reports it as a bad row
        raws = None
    pairs: list[tuple[RawEvent | None, EnrichedEvent | BadRow]] = []
    if raws is None:
        pairs = [(None, r) for r in enrich(payload, ctx)]
    else:
        for raw in raws:
            try:
                pairs.extend((raw, r) for r in enrich_raw_event(raw, ctx, now))
            except Exception as exc:  # pure pipeline bug: report, never crash
                message = f"unexpected {type(exc).__name__}: {exc}"[:4096]
                pairs.append(
                    (raw, badrows.generic_error(ctx.processor, now, [message], repr(payload)))
                )
    # The same bound on bad rows per record as plowline-enrich (then one summary row).
    pairs = bound_results(pairs, record, ctx.max_bad_rows_per_record, ctx.processor, now,
                          lambda p: p[1] if isinstance(p[1], BadRow) else None,
                          lambda row: (None, row))  # fmt: skip
    items: list[Item] = []
    withheld = 0
    for source, result in pairs:
        if isinstance(result, EnrichedEvent):
            if result.pii:  # holds the original PII values; up has no PII output: drop it
                withheld += 1
                continue
            items.append(good_item(result, source))
        else:
            items.append(bad_item(result, payload, source))
    if withheld:
        log.warning("plowline up: %d pii_transformation events dropped: they hold the original "
                    "PII values and plowline up has no PII output", withheld)  # fmt: skip
    return items


def _only_bad(results: list[EnrichedEvent | BadRow]) -> list[BadRow]:
    return [r for r in results if isinstance(r, BadRow)]


def event_schema(event: dict[str, Any]) -> str | None:
    parts = [event.get(k) for k in ("event_vendor", "event_name", "event_format", "event_version")]
    return "iglu:" + "/".join(map(str, parts)) if all(parts) else None


def good_item(event: EnrichedEvent, raw: RawEvent | None) -> GoodItem:
    tsv = event.to_tsv()
    full = tsv_to_json(tsv, lossy=False)
    for name in ("contexts", "derived_contexts"):
        wrapper = full.get(name)
        if wrapper:
            wrapper["schema"] = SDK_CONTEXTS_SCHEMA
    flat = flatten(full)
    contexts = [str(c.get("schema")) for c in event.contexts + event.derived_contexts]
    schema = event_schema(full)
    doc = {
        "rawEvent": raw_event_doc(raw) if raw is not None else None,
        "eventType": full.get("event"),
        "schema": schema,
        "contexts": contexts,
        "event": full,
        "incomplete": False,
    }
    code = raw.parameters.get("e") if raw is not None else None
    return GoodItem(
        doc,
        flat,
        tsv,
        full.get("event"),
        code,
        schema,
        contexts,
        raw.payload.timestamp if raw else None,
    )


def flatten(full: dict[str, Any]) -> dict[str, Any]:
    """The lossy analytics-SDK form from the non-lossy one, without parsing the
    TSV line a second time: entities become ``contexts_<vendor>_<name>_<model>`` arrays."""
    flat = {k: v for k, v in full.items() if k not in _JSON_FIELDS}
    for name in ("contexts", "derived_contexts"):
        value = full.get(name) or {}
        for entity in value.get("data", []):
            flat.setdefault("contexts_" + shred_name(entity["schema"]), []).append(entity["data"])
    unstruct = full.get("unstruct_event")
    if unstruct:
        inner = unstruct["data"]
        flat["unstruct_event_" + shred_name(inner["schema"])] = inner["data"]
    return flat


def bad_item(row: BadRow, payload: CollectorPayload | None, raw: RawEvent | None) -> BadItem:
    sdj = row.to_sdj()
    vendor = version = None
    cp: dict[str, Any] | None = None
    if raw is not None:
        vendor, version = raw.vendor, raw.version
    if payload is not None:
        api = parse_api(payload.path)
        if api is not None and vendor is None:
            vendor, version = api
        try:
            pairs = parse_querystring(payload.querystring)
        except QuerystringError:
            pairs = []
        cp = collector_payload_json(payload, vendor or "", version or "", pairs)
    doc = {
        "collectorPayload": cp,
        "rawEvent": raw_event_doc(raw) if raw is not None else None,
        "errors": [*describe(sdj), row.to_json()],
    }
    return BadItem(
        doc, row.kind, vendor, version, failed_event(sdj), payload.timestamp if payload else None
    )


def bad_item_from_json(text: bytes, source: str) -> BadItem:
    """A bad row another stage wrote as JSON (collector size violations, loader refusals)."""
    try:
        sdj = json.loads(text)
        if not isinstance(sdj, dict):
            raise ValueError("not an object")
    except ValueError:
        sdj = {
            "schema": "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0",
            "data": {"failure": {"errors": [f"unreadable bad row from {source}"]}},
        }
    kind = str(sdj.get("schema", "")).split("/")[1] if "/" in str(sdj.get("schema")) else source
    doc = {
        "collectorPayload": None,
        "rawEvent": None,
        "errors": [*describe(sdj), json.dumps(sdj, separators=(",", ":"))],
    }
    return BadItem(doc, kind, None, None, None, None)


def failed_event(sdj: dict[str, Any]) -> dict[str, Any] | None:
    """The partially enriched event of a schema/enrichment failure, with Micro's failure
    entity (enrich's failed-events entity), in flat analytics-SDK form; None for other bad rows."""
    schema = str(sdj.get("schema", ""))
    kind = schema.split("/")[1] if schema.count("/") >= 3 else ""
    payload = (sdj.get("data") or {}).get("payload")
    if kind not in _ENRICHED_KINDS or not isinstance(payload, dict):
        return None
    enriched = payload.get("enriched")
    if not isinstance(enriched, dict):
        return None
    try:
        line = "\t".join(_tsv_text(enriched.get(name)) for name in FIELD_NAMES)
        flat = tsv_to_json(line, lossy=True)
    except (ValueError, KeyError, TypeError):
        return None
    failure = (sdj.get("data") or {}).get("failure") or {}
    reasons = describe(sdj)
    flat[FAILURE_KEY] = [
        {
            "failureType": "ValidationError" if kind == "schema_violations" else "EnrichmentError",
            "errors": [{"message": r, "source": kind} for r in reasons],
            "schema": schema,
            "data": None,
            "timestamp": failure.get("timestamp"),
            "componentName": "plowline-enrich",
            "componentVersion": str(
                ((sdj.get("data") or {}).get("processor") or {}).get("version")
            ),
        }
    ]
    return flat


def _tsv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
