"""Phase 1: request defaults, then tracker parameters -> atomic fields (enrich EnrichmentManager).

Every parse error is collected (not just the first) and reported as an Iglu ValidationError
against the atomic schema with keyword ``atomic_field_parse_error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from plowline.enrich.conversions import (
    ParseError,
    format_tstamp,
    parse_bool_byte,
    parse_decimal,
    parse_dims,
    parse_int,
    parse_tstamp,
    parse_uuid,
    tsv_safe,
)
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.raw import RawEvent

ATOMIC_SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"
PLATFORMS: Final = frozenset({"web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot", "headset"})
EVENT_TYPES: Final[dict[str, str]] = {
    "pv": "page_view", "pp": "page_ping", "se": "struct", "ev": "struct", "ue": "unstruct",
    "tr": "transaction", "ti": "transaction_item", "ad": "ad_impression",
}  # fmt: skip
_IP_SPLIT: Final = re.compile(r"[,| ]")

Setter = Callable[[EnrichedEvent, str, str], None]


def _string(field: str) -> Setter:
    def apply(event: EnrichedEvent, _param: str, value: str) -> None:
        event.set(field, tsv_safe(value))

    return apply


def _typed(field: str, parse: Callable[[str], str | None]) -> Setter:
    def apply(event: EnrichedEvent, _param: str, value: str) -> None:
        event.set(field, parse(value))

    return apply


def _dims(width: str, height: str) -> Setter:
    def apply(event: EnrichedEvent, _param: str, value: str) -> None:
        w, h = parse_dims(value)
        event.set(width, w)
        event.set(height, h)

    return apply


def _platform(event: EnrichedEvent, _param: str, value: str) -> None:
    if value not in PLATFORMS:
        raise ParseError(f"[{value}] is not a supported tracking platform")
    event.set("platform", value)


def _event_type(event: EnrichedEvent, _param: str, value: str) -> None:
    kind = EVENT_TYPES.get(value)
    if kind is None:
        raise ParseError(f"[{value}] is not a valid event type")
    event.set("event", kind)


def _ip(event: EnrichedEvent, _param: str, value: str) -> None:
    event.set("user_ipaddress", tsv_safe(_IP_SPLIT.split(value.strip(), maxsplit=1)[0]))


# param -> (enriched field named in errors, setter). ue_*/co/cx are handled by the pipeline.
TRANSFORMS: Final[dict[str, tuple[str, Setter]]] = {
    "e": ("event", _event_type),
    "ip": ("user_ipaddress", _ip),
    "aid": ("app_id", _string("app_id")),
    "p": ("platform", _platform),
    "tid": ("txn_id", _typed("txn_id", parse_int)),
    "uid": ("user_id", _string("user_id")),
    "duid": ("domain_userid", _string("domain_userid")),
    "nuid": ("network_userid", _string("network_userid")),
    "ua": ("useragent", _string("useragent")),
    "fp": ("user_fingerprint", _string("user_fingerprint")),
    "vid": ("domain_sessionidx", _typed("domain_sessionidx", parse_int)),
    "sid": ("domain_sessionid", _typed("domain_sessionid", parse_uuid)),
    "dtm": ("dvce_created_tstamp", _typed("dvce_created_tstamp", parse_tstamp)),
    "ttm": ("true_tstamp", _typed("true_tstamp", parse_tstamp)),
    "stm": ("dvce_sent_tstamp", _typed("dvce_sent_tstamp", parse_tstamp)),
    "tna": ("name_tracker", _string("name_tracker")),
    "tv": ("v_tracker", _string("v_tracker")),
    "cv": ("v_collector", _string("v_collector")),
    "lang": ("br_lang", _string("br_lang")),
    "f_pdf": ("br_features_pdf", _typed("br_features_pdf", parse_bool_byte)),
    "f_fla": ("br_features_flash", _typed("br_features_flash", parse_bool_byte)),
    "f_java": ("br_features_java", _typed("br_features_java", parse_bool_byte)),
    "f_dir": ("br_features_director", _typed("br_features_director", parse_bool_byte)),
    "f_qt": ("br_features_quicktime", _typed("br_features_quicktime", parse_bool_byte)),
    "f_realp": ("br_features_realplayer", _typed("br_features_realplayer", parse_bool_byte)),
    "f_wma": ("br_features_windowsmedia", _typed("br_features_windowsmedia", parse_bool_byte)),
    "f_gears": ("br_features_gears", _typed("br_features_gears", parse_bool_byte)),
    "f_ag": ("br_features_silverlight", _typed("br_features_silverlight", parse_bool_byte)),
    "cookie": ("br_cookies", _typed("br_cookies", parse_bool_byte)),
    "res": ("dvce_screenwidth", _dims("dvce_screenwidth", "dvce_screenheight")),
    "cd": ("br_colordepth", _string("br_colordepth")),
    "tz": ("os_timezone", _string("os_timezone")),
    "refr": ("page_referrer", _string("page_referrer")),
    "url": ("page_url", _string("page_url")),
    "page": ("page_title", _string("page_title")),
    "cs": ("doc_charset", _string("doc_charset")),
    "ds": ("doc_width", _dims("doc_width", "doc_height")),
    "vp": ("br_viewwidth", _dims("br_viewwidth", "br_viewheight")),
    "eid": ("event_id", _typed("event_id", parse_uuid)),
    "ev_ca": ("se_category", _string("se_category")),
    "ev_ac": ("se_action", _string("se_action")),
    "ev_la": ("se_label", _string("se_label")),
    "ev_pr": ("se_property", _string("se_property")),
    "ev_va": ("se_value", _typed("se_value", parse_decimal)),
    "se_ca": ("se_category", _string("se_category")),
    "se_ac": ("se_action", _string("se_action")),
    "se_la": ("se_label", _string("se_label")),
    "se_pr": ("se_property", _string("se_property")),
    "se_va": ("se_value", _typed("se_value", parse_decimal)),
    "tr_id": ("tr_orderid", _string("tr_orderid")),
    "tr_af": ("tr_affiliation", _string("tr_affiliation")),
    "tr_tt": ("tr_total", _typed("tr_total", parse_decimal)),
    "tr_tx": ("tr_tax", _typed("tr_tax", parse_decimal)),
    "tr_sh": ("tr_shipping", _typed("tr_shipping", parse_decimal)),
    "tr_ci": ("tr_city", _string("tr_city")),
    "tr_st": ("tr_state", _string("tr_state")),
    "tr_co": ("tr_country", _string("tr_country")),
    "tr_cu": ("tr_currency", _string("tr_currency")),
    "ti_id": ("ti_orderid", _string("ti_orderid")),
    "ti_sk": ("ti_sku", _string("ti_sku")),
    "ti_na": ("ti_name", _string("ti_name")),
    "ti_nm": ("ti_name", _string("ti_name")),
    "ti_ca": ("ti_category", _string("ti_category")),
    "ti_pr": ("ti_price", _typed("ti_price", parse_decimal)),
    "ti_qu": ("ti_quantity", _typed("ti_quantity", parse_int)),
    "ti_cu": ("ti_currency", _string("ti_currency")),
    "pp_mix": ("pp_xoffset_min", _typed("pp_xoffset_min", parse_int)),
    "pp_max": ("pp_xoffset_max", _typed("pp_xoffset_max", parse_int)),
    "pp_miy": ("pp_yoffset_min", _typed("pp_yoffset_min", parse_int)),
    "pp_may": ("pp_yoffset_max", _typed("pp_yoffset_max", parse_int)),
}


def parse_error(field: str, param: str, value: str | None, message: str) -> dict[str, Any]:
    """One dataReport of the atomic-schema ValidationError."""
    return {
        "message": f"Cannot parse field {param} into {field}: {message}",
        "path": field,
        "keyword": "atomic_field_parse_error",
        "targets": [param, value],
    }


def length_error(field: str, length: int, limit: int) -> dict[str, Any]:
    return {
        "message": f"Field {field} is {length} characters long, maximum allowed is {limit}",
        "path": field,
        "keyword": "atomic_field_length_exceeded",
        "targets": [field],
    }


def first_ip(payload_ip: str, headers: list[str] | None) -> str:
    """X-Forwarded-For's first address, else ``Forwarded: for=``, else the socket address."""
    if headers:
        forwarded: str | None = None
        for header in headers:
            name, _, value = header.partition(":")
            lowered = name.strip().lower()
            if lowered == "x-forwarded-for":
                candidate = value.split(",", 1)[0].strip()
                if candidate:
                    return candidate
            elif lowered == "forwarded" and forwarded is None:
                forwarded = _forwarded_for(value)
        if forwarded:
            return forwarded
    return payload_ip


def _forwarded_for(value: str) -> str | None:
    match = re.search(r"(?i)for=([^;,]+)", value)
    if match is None:
        return None
    address = match.group(1).strip().strip('"')
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:  # IPv4 with a port
        return address.split(":", 1)[0]
    return address


def setup_event(raw: RawEvent, etl_version: str, now_ms: int, event_id: str) -> EnrichedEvent:
    """Defaults before any parameter is applied (enrich ``setupEnrichedEvent``)."""
    payload = raw.payload
    event = EnrichedEvent()
    values = event.values
    values["event_id"] = event_id
    values["v_etl"] = etl_version
    values["etl_tstamp"] = format_tstamp(now_ms)
    if payload.collector:
        values["v_collector"] = tsv_safe(payload.collector) or ""
    if not values.get("v_collector"):
        values.pop("v_collector", None)
    if payload.network_user_id is not None:
        event.set("network_userid", tsv_safe(payload.network_user_id))
    event.set("user_ipaddress", tsv_safe(first_ip(payload.ip_address, payload.headers)))
    if payload.user_agent is not None:
        event.set("useragent", tsv_safe(payload.user_agent))
    return event


def apply_parameters(event: EnrichedEvent, params: dict[str, str | None]) -> list[dict[str, Any]]:
    """Apply every mapped parameter; return the parse-error reports (empty when all parsed)."""
    errors: list[dict[str, Any]] = []
    for param, value in params.items():
        if value is None:
            continue
        mapping = TRANSFORMS.get(param)
        if mapping is None:
            continue
        field, setter = mapping
        try:
            setter(event, param, value)
        except ParseError as exc:
            errors.append(parse_error(field, param, value, str(exc)))
    tnuid = params.get("tnuid")
    if tnuid is not None:
        event.set("network_userid", tsv_safe(tnuid))
    return errors
