"""``enrich``: one CollectorPayload -> enriched events and bad rows. Pure: no I/O here.

Order (EnrichmentManager.scala): loader checks (collector_payload_format_violation) -> adapter
(tracker_protocol_violations / adapter_failures) -> per event: defaults and parameters,
``ue``/``co`` validation (schema_violations) -> enrichments in the fixed order
(enrichment_failures) -> derived contexts and field limits (schema_violations).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from plowline.enrich import badrows
from plowline.enrich.adapters import SNOWPLOW_APIS, adapt
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.conversions import (
    ParseError,
    decode_base64url,
    format_tstamp,
    is_uuid,
    java_length,
    parse_tstamp,
    tstamp_to_ms,
    tsv_safe,
)
from plowline.enrich.enrichments.base import ORDER, Enrichment, EnrichmentError, EnrichState
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.fields import FIELD_NAMES, MAX_LENGTHS
from plowline.enrich.querystring import QuerystringError, parse_querystring
from plowline.enrich.raw import AdapterFailure, RawEvent, iglu_error, input_data
from plowline.enrich.transform import ATOMIC_SCHEMA, apply_parameters, length_error, setup_event
from plowline.enrich.uri import UriError, explode
from plowline.enrich.validation import (
    Criterion,
    check_sdj,
    parse_iglu_uri,
    parse_sdj_text,
    sdj_error,
)
from plowline.spec.collector_payload import CollectorPayload
from plowline.spec.collector_payload import encode as encode_payload

Result = EnrichedEvent | BadRow

_NO_LIMIT: Final = 1 << 62
# Per field, half its limit (a Java length is at most twice the Python length).
_HALF_LIMITS: Final = {name: MAX_LENGTHS.get(name, _NO_LIMIT) // 2 for name in FIELD_NAMES}
_PATH: Final = re.compile(r"^/?([^/]+)/([^/]+)/?$")
_PAYLOAD_SCHEMA: Final = Criterion(
    "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-*"
)
UNSTRUCT_CRITERION: Final = Criterion(
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*"
)
CONTEXTS_CRITERION: Final = Criterion(
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*"
)
_FIXED_SCHEMAS: Final[dict[str, tuple[str, str, str, str]]] = {
    "page_view": ("com.snowplowanalytics.snowplow", "page_view", "jsonschema", "1-0-0"),
    "page_ping": ("com.snowplowanalytics.snowplow", "page_ping", "jsonschema", "1-0-0"),
    "struct": ("com.google.analytics", "event", "jsonschema", "1-0-0"),
    "transaction": ("com.snowplowanalytics.snowplow", "transaction", "jsonschema", "1-0-0"),
    "transaction_item": (
        "com.snowplowanalytics.snowplow", "transaction_item", "jsonschema", "1-0-0",
    ),
}  # fmt: skip


def parse_api(path: str | None) -> tuple[str, str] | None:
    """Request path -> (vendor, version), with the legacy ``/i`` and ``/ice.png`` forms."""
    if path is None:
        return None
    if path.startswith("/ice.png") or path == "/i" or path.startswith("/i?"):
        return "com.snowplowanalytics.snowplow", "tp1"
    match = _PATH.match(path)
    return (match.group(1), match.group(2)) if match else None


def enrich(payload: CollectorPayload, ctx: EnrichContext) -> list[Result]:
    """Every payload ends as enriched events and/or bad rows; nothing escapes as an exception."""
    now = ctx.clock_ms()
    try:
        return _enrich_payload(payload, ctx, now)
    except Exception as exc:  # last line of defence: report, never crash
        return [badrows.generic_error(
            ctx.processor, now, [f"unexpected {type(exc).__name__}: {exc}"[:4096]],
            _payload_text(payload),
        )]  # fmt: skip


def _payload_text(payload: CollectorPayload) -> str:
    try:
        return payload.to_thrift_string()
    except Exception:  # a payload we cannot even print
        return repr(payload)


def _format_violation(
    payload: CollectorPayload, ctx: EnrichContext, now: int, message: dict[str, Any]
) -> BadRow:
    return badrows.format_violation(ctx.processor, now, encode_payload(payload), message)


def _enrich_payload(payload: CollectorPayload, ctx: EnrichContext, now: int) -> list[Result]:
    if not _PAYLOAD_SCHEMA.matches(payload.schema):
        return [_format_violation(payload, ctx, now, {
            "payloadField": "schema", "value": payload.schema,
            "expectation": f"expected a schema matching {_PAYLOAD_SCHEMA.text}",
        })]  # fmt: skip
    api = parse_api(payload.path)
    if api is None:
        return [_format_violation(payload, ctx, now, {
            "payloadField": "path", "value": payload.path,
            "expectation": "path must be /vendor/version or a legacy /i or /ice.png request",
        })]  # fmt: skip
    try:
        pairs = parse_querystring(payload.querystring)
    except QuerystringError as exc:
        return [_format_violation(payload, ctx, now, {
            "payloadField": "querystring", "value": payload.querystring,
            "expectation": f"could not parse querystring: {exc}",
        })]  # fmt: skip
    nuid = payload.network_user_id
    if nuid is not None and not is_uuid(nuid):
        return [_format_violation(payload, ctx, now, {
            "payloadField": "networkUserId", "value": nuid, "expectation": "not a valid UUID",
        })]  # fmt: skip
    vendor, version = api
    adapted = adapt(vendor, version, payload, pairs, ctx)
    if isinstance(adapted, AdapterFailure):
        kind = "tracker_protocol_violations" if api in SNOWPLOW_APIS else "adapter_failures"
        return [badrows.adapter_failure(
            kind, ctx.processor, now, payload, vendor, version, pairs, adapted.messages,
        )]  # fmt: skip
    results: list[Result] = []
    steps = _steps(ctx.enrichments)
    for raw in adapted:
        results.extend(enrich_raw_event(raw, ctx, now, steps))
    return results


# --- one raw event ----------------------------------------------------------------------------

Step = Callable[[EnrichedEvent, EnrichState], None]


def enrich_raw_event(
    raw: RawEvent,
    ctx: EnrichContext,
    now: int,
    steps: Sequence[tuple[Enrichment | None, Step]] | None = None,
) -> list[Result]:
    """Phases 1-3 for one event; a failing phase turns the event into one bad row."""
    steps = _steps(ctx.enrichments) if steps is None else steps
    params = raw.parameters
    event = setup_event(raw, ctx.etl_version, now, ctx.new_uuid())
    messages: list[dict[str, Any]] = []
    reports = apply_parameters(event, params)
    try:
        event.set("collector_tstamp", format_tstamp(raw.payload.timestamp))
    except ParseError as exc:
        reports.append({
            "message": f"collector timestamp {raw.payload.timestamp}: {exc}",
            "path": "collector_tstamp", "keyword": "atomic_field_parse_error", "targets": [],
        })  # fmt: skip
    if reports:
        messages.append(
            iglu_error(ATOMIC_SCHEMA, {"error": "ValidationError", "dataReports": reports})
        )
    messages.extend(_extract_unstruct(event, params, ctx))
    messages.extend(_extract_contexts(event, params, ctx))

    def raw_json() -> dict[str, Any]:  # only built for bad rows
        return badrows.raw_event_json(
            raw.payload, raw.vendor, raw.version, params, raw.content_type
        )

    if messages:
        return [badrows.schema_violations(ctx.processor, now, messages, event, raw_json())]
    state = EnrichState(raw=raw)
    failures: list[dict[str, Any]] = []
    for enrichment, step in steps:
        try:
            step(event, state)
        except EnrichmentError as exc:
            failures.append(_failure_message(enrichment, exc.message))
    if failures:
        return [badrows.enrichment_failures(ctx.processor, now, failures, event, raw_json())]
    if state.dropped:
        return list(state.extra_events)
    late = _validate_enriched(event, ctx, state.revalidate_inputs)
    if late:
        return [badrows.schema_violations(ctx.processor, now, late, event, raw_json())]
    return [event, *state.extra_events]


def _failure_message(
    enrichment: Enrichment | None, message: str | dict[str, Any]
) -> dict[str, Any]:
    ident = None
    if enrichment is not None:
        ident = {"schemaKey": enrichment.config_schema, "identifier": enrichment.identifier}
    return {"enrichment": ident, "message": message}


def _extract_unstruct(
    event: EnrichedEvent, params: dict[str, str | None], ctx: EnrichContext
) -> list[dict[str, Any]]:
    # enrich names the field "ue_properties" whichever of ue_pr / ue_px carried it.
    text = params.get("ue_pr")
    if text is None and params.get("ue_px") is not None:
        text = decode_base64url(params["ue_px"] or "")
    if text is None:
        return []
    outer, failure = parse_sdj_text("ue_properties", text, ctx.max_json_depth)
    if failure is not None:
        return [failure]
    assert outer is not None
    failure = check_sdj(ctx.validator, outer, UNSTRUCT_CRITERION)
    if failure is not None:
        return [failure]
    inner = outer["data"]
    code = sdj_error(inner)
    if code is not None:
        return [{"json": inner, "error": code}]
    failure = check_sdj(ctx.validator, inner)
    if failure is not None:
        return [failure]
    event.unstruct_event = {"schema": inner["schema"], "data": inner["data"]}
    return []


def _extract_contexts(
    event: EnrichedEvent, params: dict[str, str | None], ctx: EnrichContext
) -> list[dict[str, Any]]:
    text = params.get("co")  # reported as field "contexts" for co and cx alike
    if text is None and params.get("cx") is not None:
        text = decode_base64url(params["cx"] or "")
    if text is None:
        return []
    outer, failure = parse_sdj_text("contexts", text, ctx.max_json_depth)
    if failure is not None:
        return [failure]
    assert outer is not None
    failure = check_sdj(ctx.validator, outer, CONTEXTS_CRITERION)
    if failure is not None:
        return [failure]
    entities = outer["data"]
    if not isinstance(entities, list):  # pragma: no cover - the contexts schema requires it
        return [{"json": outer, "error": "INVALID_DATA_PAYLOAD"}]
    messages: list[dict[str, Any]] = []
    valid: list[dict[str, Any]] = []
    for entity in entities:
        code = sdj_error(entity)
        if code is not None:
            messages.append({"json": entity, "error": code})
            continue
        failure = check_sdj(ctx.validator, entity)
        if failure is not None:
            messages.append(failure)
            continue
        valid.append({"schema": entity["schema"], "data": entity["data"]})
    event.contexts = valid
    return messages


def _validate_enriched(
    event: EnrichedEvent, ctx: EnrichContext, inputs: bool = False
) -> list[dict[str, Any]]:
    """Phase 3: derived contexts (and rewritten ue/contexts) against Iglu, field lengths."""
    messages: list[dict[str, Any]] = []
    rewritten = [*event.contexts, *([event.unstruct_event] if event.unstruct_event else [])]
    for entity in [*(rewritten if inputs else []), *event.derived_contexts]:
        failure = check_sdj(ctx.validator, entity)
        if failure is not None:
            messages.append(failure)
    # Cheap pre-filter: a Java length can be at most twice the Python length.
    half = _HALF_LIMITS
    suspects = [n for n, v in event.values.items() if len(v) > half[n]]
    reports = []
    for name in suspects:
        limit = MAX_LENGTHS[name]
        length = java_length(event.values[name])
        if length > limit:
            reports.append(length_error(name, length, limit))
    if reports:
        messages.append(
            iglu_error(ATOMIC_SCHEMA, {"error": "ValidationError", "dataReports": reports})
        )
    return messages


# --- built-in steps -----------------------------------------------------------------------------


def _check_v_collector(event: EnrichedEvent, state: EnrichState) -> None:
    if not event.get("v_collector"):
        raise EnrichmentError(input_data("v_collector", None, "v_collector should be set"))


def _page_uri(event: EnrichedEvent, state: EnrichState) -> None:
    url = event.get("page_url")
    if url is None and state.raw.payload.referer_uri is not None:
        url = tsv_safe(state.raw.payload.referer_uri)
        event.set("page_url", url)
    if url is not None:
        _set_uri_parts(event, "page_url", url, "page")


def _set_uri_parts(event: EnrichedEvent, source: str, url: str, prefix: str) -> None:
    """The <prefix>_url* fields (scheme, host, port, path, query, fragment) of a URL field."""
    try:
        parts = explode(url)
    except UriError as exc:
        raise EnrichmentError(input_data(source, url, str(exc))) from exc
    event.set(f"{prefix}_urlscheme", parts.scheme)
    event.set(f"{prefix}_urlhost", parts.host)
    event.set(f"{prefix}_urlport", str(parts.port))
    event.set(f"{prefix}_urlpath", parts.path)
    event.set(f"{prefix}_urlquery", parts.query)
    event.set(f"{prefix}_urlfragment", parts.fragment)


def _derived_tstamp(event: EnrichedEvent, state: EnrichState) -> None:
    true_tstamp = event.get("true_tstamp")
    if true_tstamp is not None:
        event.set("derived_tstamp", true_tstamp)
        return
    collector = event.get("collector_tstamp")
    if collector is None:  # pragma: no cover - phase 1 guarantees it
        return
    created, sent = event.get("dvce_created_tstamp"), event.get("dvce_sent_tstamp")
    if created is not None and sent is not None:
        # dtm/stm parsed as ints in phase 1, so the raw parameters are exact milliseconds.
        params = state.raw.parameters
        created_ms, sent_ms = _ms(params, "dtm", created), _ms(params, "stm", sent)
        if created_ms < sent_ms:
            try:
                collector_ms = state.raw.payload.timestamp
                derived = format_tstamp(collector_ms - (sent_ms - created_ms))
            except ParseError as exc:
                raise EnrichmentError(
                    input_data("derived_tstamp", None, f"cannot be computed: {exc}")
                ) from exc
            event.set("derived_tstamp", derived)
            return
    event.set("derived_tstamp", collector)


def _ms(params: dict[str, str | None], name: str, fallback: str) -> int:
    value = params.get(name)
    try:
        return int(value) if value is not None else tstamp_to_ms(fallback)
    except ValueError:  # pragma: no cover - phase 1 parsed it
        return tstamp_to_ms(fallback)


def _referer_uri(event: EnrichedEvent, state: EnrichState) -> None:
    referrer = event.get("page_referrer")
    if referrer is not None:
        _set_uri_parts(event, "page_referrer", referrer, "refr")


def _page_query(event: EnrichedEvent, state: EnrichState) -> None:
    state.page_querystring = event.get("page_urlquery")


def _cross_navigation(event: EnrichedEvent, state: EnrichState) -> None:
    if "_sp" not in (state.page_querystring or ""):
        return
    value = next((v for k, v in reversed(state.page_query) if k == "_sp"), None)
    if value is None:
        return
    parts = value.split(".")
    event.set("refr_domain_userid", tsv_safe(parts[0]) if parts[0] else None)
    if len(parts) > 1 and parts[1]:
        try:
            event.set("refr_dvce_tstamp", parse_tstamp(parts[1]))
        except ParseError as exc:
            raise EnrichmentError(input_data("sp_dtm", parts[1], str(exc))) from exc


def _event_schema(event: EnrichedEvent, state: EnrichState) -> None:
    kind = event.get("event")
    if kind == "unstruct" and event.unstruct_event is not None:
        parsed = parse_iglu_uri(event.unstruct_event["schema"])
        if parsed is not None:
            vendor, name, fmt, version = parsed
            _set_schema(event, vendor, name, fmt, version)
            return
    fixed = _FIXED_SCHEMAS.get(kind or "")
    if fixed is None:
        raise EnrichmentError(input_data(
            "event", kind,
            "trying to extract the schema of the enriched event but the field event is empty "
            "or has an event type without a schema",
        ))  # fmt: skip
    _set_schema(event, *fixed)


def _set_schema(event: EnrichedEvent, vendor: str, name: str, fmt: str, version: str) -> None:
    values = event.values
    values["event_vendor"] = vendor
    values["event_name"] = name
    values["event_format"] = fmt
    values["event_version"] = version


_BUILTINS: Final[tuple[tuple[str, Step], ...]] = (
    ("v_collector", _check_v_collector),
    ("page_uri", _page_uri),
    ("derived_tstamp", _derived_tstamp),
    ("referer_uri", _referer_uri),
    ("page_query", _page_query),
    ("cross_navigation", _cross_navigation),
    ("event_schema", _event_schema),
)


def _steps(enrichments: Sequence[Enrichment]) -> list[tuple[Enrichment | None, Step]]:
    ordered: list[tuple[int, int, Enrichment | None, Step]] = [
        (ORDER[name], i, None, step) for i, (name, step) in enumerate(_BUILTINS)
    ]
    ordered.extend((e.order, 100 + i, e, e.apply) for i, e in enumerate(enrichments))
    ordered.sort(key=lambda item: (item[0], item[1]))
    return [(enrichment, step) for _, _, enrichment, step in ordered]
