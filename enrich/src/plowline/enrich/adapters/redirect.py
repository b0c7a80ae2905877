"""The ``/r/tp2`` URI-redirect adapter (enrich RedirectAdapter.scala)."""

from __future__ import annotations

from typing import Any, Final

from plowline.enrich.context import EnrichContext
from plowline.enrich.conversions import decode_base64url, encode_base64url
from plowline.enrich.jsonutil import JsonError, compact, parse_json
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data, not_json
from plowline.spec.collector_payload import CollectorPayload

URI_REDIRECT: Final = "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
UNSTRUCT: Final = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS: Final = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"


def redirect(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    params = to_map(pairs)
    if not params:
        return AdapterFailure(
            [input_data("querystring", None, "empty querystring: not a valid URI redirect")]
        )
    target = params.pop("u", None)
    if target is None:
        return AdapterFailure(
            [input_data("querystring", payload.querystring,
                        "missing `u` parameter: not a valid URI redirect")]
        )  # fmt: skip
    entity = {"schema": URI_REDIRECT, "data": {"uri": target}}
    if params.get("e") is None:
        params["e"] = "ue"
        params["ue_pr"] = compact({"schema": UNSTRUCT, "data": entity})
    else:
        failure = _prepend_context(params, entity, ctx.max_json_depth)
        if failure is not None:
            return AdapterFailure([failure])
    params["tv"] = "r-tp2"
    if params.get("p") is None:
        params["p"] = "web"
    return [RawEvent("r", "tp2", params, payload.content_type, payload)]


def _prepend_context(
    params: dict[str, str | None], entity: dict[str, Any], max_depth: int
) -> dict[str, Any] | None:
    for name, encoded in (("cx", True), ("co", False)):
        raw = params.get(name)
        if raw is None:
            continue
        text = decode_base64url(raw) if encoded else raw
        try:
            existing = parse_json(text, max_depth)
        except JsonError as exc:
            return not_json(name, text, str(exc))
        data = existing.get("data") if isinstance(existing, dict) else None
        if not isinstance(data, list):
            return not_json(name, text, "expected a contexts self-describing JSON")
        existing["data"] = [entity, *data]
        params[name] = encode_base64url(compact(existing)) if encoded else compact(existing)
        return None
    params["co"] = compact({"schema": CONTEXTS, "data": [entity]})
    return None
