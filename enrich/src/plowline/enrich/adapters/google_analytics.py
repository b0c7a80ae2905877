"""Google Analytics measurement protocol ``/com.google.analytics/v1`` (enrich
``adapters/registry/GoogleAnalyticsAdapter.scala``).

Each body line is one measurement-protocol hit (form encoded). Its ``t`` picks the event schema
(``iglu:com.google.analytics.measurement-protocol/<hit>/jsonschema/1-0-0``); the other known
fields become flat contexts (general, user, session, traffic_source, system_info, app, ...),
the indexed fields (``pr1id``, ``cd3``, ``il1pi2nm``, ...) composite contexts (product,
custom_dimension, product_impression, ...), and some map directly onto tracker-protocol
parameters (``dl`` -> ``url``, ``uip`` -> ``ip``, ``ti`` -> ``tr_id``/``ti_id``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Final

from plowline.enrich.adapters.common import lookup_schema
from plowline.enrich.adapters.webhook import UNSTRUCT
from plowline.enrich.context import EnrichContext
from plowline.enrich.jsonutil import compact
from plowline.enrich.querystring import Pairs, QuerystringError, parse_querystring
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

GA: Final = "com.google.analytics"
VENDOR: Final = f"{GA}.measurement-protocol"
TRACKER: Final = f"{VENDOR}-v1"
CONTEXTS: Final = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
IF: Final = "IF"  # marks a value taken from a composite field's name

Translation = Callable[[str], tuple[Any, str | None]]


def _uri(name: str, vendor: str = VENDOR) -> str:
    return f"iglu:{vendor}/{name}/jsonschema/1-0-0"


def _id(value: str) -> tuple[Any, str | None]:
    return value, None


def _int(value: str) -> tuple[Any, str | None]:
    try:
        number = Decimal(value)
        if number != number.to_integral_value() or not -(2**31) <= number < 2**31:
            raise ValueError
        return int(number), None
    except (InvalidOperation, ValueError):
        return None, "Cannot be converted to java.lang.Integer"


def _two_decimals(value: str) -> tuple[Any, str | None]:
    try:
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
        return float(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)), None
    except InvalidOperation:
        return None, "Cannot be converted to Double"


def _double(value: str) -> tuple[Any, str | None]:
    try:
        number = Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
        return float(number), None
    except InvalidOperation:
        return None, "Cannot be converted to Double"


def _bool(value: str) -> tuple[Any, str | None]:
    if value in ("1", "0"):
        return value == "1", None
    return None, "Cannot be converted to boolean, only 1 or 0 are supported"


Table = dict[str, tuple[str, Translation]]


def _ids(**names: str) -> Table:
    return {k: (v, _id) for k, v in names.items()}


PAGE_VIEW: Final[Table] = _ids(dl="documentLocationUrl", dh="documentHostName",
                               dp="documentPath", dt="documentTitle")  # fmt: skip
HITS: Final[dict[str, tuple[str, Table]]] = {
    "pageview": (_uri("page_view"), PAGE_VIEW),
    "screenview": (_uri("screen_view"), _ids(cd="screenName")),
    "event": (_uri("event"), {**_ids(ec="category", ea="action", el="label"),
                              "ev": ("value", _int)}),
    "transaction": (_uri("transaction"), {
        **_ids(ti="id", ta="affiliation", tcc="couponCode", cu="currencyCode"),
        "tr": ("revenue", _two_decimals), "ts": ("shipping", _two_decimals),
        "tt": ("tax", _two_decimals)}),
    "item": (_uri("item"), {**_ids(ti="transactionId", ic="code", iv="category",
                                   cu="currencyCode"), "in": ("name", _id),
                            "ip": ("price", _two_decimals), "iq": ("quantity", _int)}),
    "social": (_uri("social"), _ids(sn="network", sa="action", st="actionTarget")),
    "exception": (_uri("exception"), {"exd": ("description", _id), "exf": ("isFatal", _bool)}),
    "timing": (_uri("timing"), {
        **_ids(utc="userTimingCategory", utv="userTimingVariableName", utl="userTimingLabel"),
        **{k: (v, _int) for k, v in {
            "utt": "userTimingTime", "plt": "pageLoadTime", "dns": "dnsTime",
            "pdt": "pageDownloadTime", "rrt": "redirectResponseTime", "tcp": "tcpConnectTime",
            "srt": "serverResponseTime", "dit": "domInteractiveTime",
            "clt": "contentLoadTime"}.items()}}),
}  # fmt: skip
SCHEMAS: Final = {hit: schema for hit, (schema, _) in HITS.items()}

FLAT_CONTEXTS: Final[dict[str, Table]] = {
    _uri("page_view"): PAGE_VIEW,
    _uri("undocumented", GA): _ids(a="a", jid="jid", gjid="gjid"),
    _uri("private", GA): {**_ids(_v="v", _u="u", _gid="gid"), "_s": ("s", _int),
                          "_r": ("r", _int)},
    _uri("general"): {**_ids(v="protocolVersion", tid="trackingId", ds="dataSource",
                             z="cacheBuster"), "aip": ("anonymizeIp", _bool),
                      "qt": ("queueTime", _int)},
    _uri("user"): _ids(cid="clientId", uid="userId"),
    _uri("session"): _ids(sc="sessionControl", uip="ipOverride", ua="userAgentOverride",
                          geoid="geographicalOverride"),
    _uri("traffic_source"): _ids(dr="documentReferrer", cn="campaignName", cs="campaignSource",
                                 cm="campaignMedium", ck="campaignKeyword",
                                 cc="campaignContent", ci="campaignId", gclid="googleAdwordsId",
                                 dclid="googleDisplayAdsId"),
    _uri("system_info"): {**_ids(sr="screenResolution", vp="viewportSize",
                                 de="documentEncoding", sd="screenColors", ul="userLanguage",
                                 fl="flashVersion"), "je": ("javaEnabled", _bool)},
    _uri("link"): _ids(linkid="id"),
    _uri("app"): _ids(an="name", aid="id", av="version", aiid="installerId"),
    _uri("product_action"): {**_ids(pa="productAction", pal="productActionList",
                                    col="checkoutStepOption"), "cos": ("checkoutStep", _int)},
    _uri("content_experiment"): _ids(xid="id", xvar="variant"),
    _uri("hit"): {"t": ("type", _id), "ni": ("nonInteractionHit", _bool)},
    _uri("promotion_action"): _ids(promoa="promotionAction"),
}  # fmt: skip
FIELD_TO_CONTEXT: Final = {f: s for s, table in FLAT_CONTEXTS.items() for f in table}

COMPOSITE: Final[list[tuple[str, Table]]] = [
    (_uri("product"), {f"{IF}pr": ("index", _int), "prid": ("sku", _id), "prnm": ("name", _id),
                       "prbr": ("brand", _id), "prca": ("category", _id),
                       "prva": ("variant", _id), "prpr": ("price", _two_decimals),
                       "prqt": ("quantity", _int), "prcc": ("couponCode", _id),
                       "prps": ("position", _int), "cu": ("currencyCode", _id)}),
    (_uri("product_custom_dimension"), {f"{IF}prcd": ("productIndex", _int),
                                        f"{IF}cd": ("dimensionIndex", _int),
                                        "prcd": ("value", _id)}),
    (_uri("product_custom_metric"), {f"{IF}prcm": ("productIndex", _int),
                                     f"{IF}cm": ("metricIndex", _int), "prcm": ("value", _int)}),
    (_uri("product_impression_list"), {f"{IF}il": ("index", _int), "ilnm": ("name", _id)}),
    (_uri("product_impression"), {f"{IF}ilpi": ("listIndex", _int),
                                  f"{IF}pi": ("productIndex", _int), "ilpiid": ("sku", _id),
                                  "ilpinm": ("name", _id), "ilpibr": ("brand", _id),
                                  "ilpica": ("category", _id), "ilpiva": ("variant", _id),
                                  "ilpips": ("position", _int),
                                  "ilpipr": ("price", _two_decimals),
                                  "cu": ("currencyCode", _id)}),
    (_uri("product_impression_custom_dimension"), {
        f"{IF}ilpicd": ("listIndex", _int), f"{IF}picd": ("productIndex", _int),
        f"{IF}cd": ("customDimensionIndex", _int), "ilpicd": ("value", _id)}),
    (_uri("product_impression_custom_metric"), {
        f"{IF}ilpicm": ("listIndex", _int), f"{IF}picm": ("productIndex", _int),
        f"{IF}cm": ("customMetricIndex", _int), "ilpicm": ("value", _int)}),
    (_uri("promotion"), {f"{IF}promo": ("index", _int), "promoid": ("id", _id),
                         "promonm": ("name", _id), "promocr": ("creative", _id),
                         "promops": ("position", _id)}),
    (_uri("custom_dimension"), {f"{IF}cd": ("index", _int), "cd": ("value", _id)}),
    (_uri("custom_metric"), {f"{IF}cm": ("index", _int), "cm": ("value", _double)}),
    (_uri("content_group"), {f"{IF}cg": ("index", _int), "cg": ("value", _id)}),
]  # fmt: skip
WITH_CURRENCY: Final = frozenset(s for s, table in COMPOSITE if "cu" in table)
IF_COUNT: Final = {s: sum(k.startswith(IF) for k in table) for s, table in COMPOSITE}
_COMPOSITE_FIELD: Final = re.compile(
    r"(pr|promo|il|cd|cm|cg)(\d+)([a-zA-Z]*)(\d*)([a-zA-Z]*)(\d*)$"
)


def direct_mappings(hit: str) -> dict[str, str]:
    return {
        "uip": "ip", "dr": "refr", "de": "cs", "sd": "cd", "ul": "lang", "je": "f_java",
        "dl": "url", "dt": "page", "ti": "tr_id" if hit == "transaction" else "ti_id",
        "ta": "tr_af", "tr": "tr_tt", "ts": "tr_sh", "tt": "tr_tx", "in": "ti_nm",
        "ip": "ti_pr", "iq": "ti_qu", "ic": "ti_sk", "iv": "ti_ca",
        "cu": "tr_cu" if hit == "transaction" else "ti_cu", "ua": "ua",
    }  # fmt: skip


def _translate(params: Mapping[str, str], table: Table) -> tuple[dict[str, Any], list[Any]]:
    out: dict[str, Any] = {}
    errors: list[Any] = []
    for field, value in params.items():
        if field in table:
            name, translation = table[field]
            converted, error = translation(value)
            if error is not None:
                errors.append(input_data(name, value, error))
            else:
                out[name] = converted
    return out, errors


def break_down(field: str, value: str) -> tuple[dict[str, str], dict[str, Any] | None]:
    """``pr12id=v`` -> ``{"IFpr": "12", "prid": v}``; ``il1pi2nm=v`` -> ``{"IFilpi": "1",
    "IFpi": "2", "ilpinm": v}``; or a failure message."""
    match = _COMPOSITE_FIELD.fullmatch(field)
    if match is None:
        expectation = f"composite field name has to conform to regex {_COMPOSITE_FIELD.pattern}"
        return {}, input_data(field, None, expectation)
    groups = [g for g in match.groups() if g]
    strs, ints = groups[0::2], groups[1::2]
    names = strs if len(strs) == len(ints) else strs[:-1]
    suffixes = ["".join(names[i:]) for i in range(len(names))]
    out = {f"{IF}{s}": i for s, i in zip(suffixes, ints, strict=False)}
    out["".join(strs)] = value
    return out, None


def _composite(params: Mapping[str, str]) -> tuple[list[tuple[str, dict[str, Any]]], Any]:
    composite = sorted((k, v) for k, v in params.items() if any(c.isdigit() for c in k))
    broken: list[dict[str, str]] = []
    for key, value in composite:
        parts, error = break_down(key, value)
        if error is not None:
            return [], error
        broken.append(parts)
    if_parts = [[(k, v) for k, v in b.items() if k.startswith(IF)] for b in broken]
    rest = [[(k, v) for k, v in b.items() if not k.startswith(IF)] for b in broken]
    deduped: list[list[tuple[str, str]]] = []
    for part in if_parts:
        if not deduped or deduped[-1] != part:
            deduped.append(part)
    grouped: dict[str, list[str]] = {}
    for part in rest + deduped:
        for k, v in part:
            grouped.setdefault(k, []).append(v)
    translated: dict[str, dict[str, list[Any]]] = {}
    for field, values in grouped.items():
        for schema, table in COMPOSITE:
            if field not in table:
                continue
            name, translation = table[field]
            converted: list[Any] = []
            for v in values:
                result, problem = translation(v)
                if problem is not None:
                    return [], input_data(name, v, problem)
                converted.append(result)
            translated.setdefault(schema, {})[name] = converted
    currency = params.get("cu")
    out: list[tuple[str, dict[str, Any]]] = []
    for schema, columns in translated.items():
        keys, lists = list(columns), list(columns.values())
        rows: list[dict[str, Any]] = []
        depth = max((len(v) for v in lists), default=0)
        for i in range(depth):
            # enrich's transpose skips exhausted columns, so later values shift left
            row_values = [v[i] for v in lists if len(v) > i]
            row: dict[str, Any] = {}
            if currency is not None and schema in WITH_CURRENCY:
                row["currencyCode"] = currency
            row.update(zip(keys, row_values, strict=False))
            rows.append(row)
        for row in rows:
            if len(row) > IF_COUNT[schema] + (1 if "currencyCode" in row else 0):
                out.append((schema, row))
    return out, None


def parse_hit(line: str, payload: CollectorPayload) -> RawEvent | list[Any]:
    try:
        params = {k: v for k, v in parse_querystring(line)}
    except QuerystringError as exc:
        return [input_data("body", line, str(exc))]
    hit = params.get("t")
    if hit is None:
        return [input_data("body", line, "no t parameter provided: cannot determine hit type")]
    valued = {k: v for k, v in params.items() if v is not None}
    mapping = direct_mappings(hit)
    direct = {mapping[k]: v for k, v in params.items() if k in mapping}
    errors: list[Any] = []
    if hit not in HITS:
        errors.append(input_data("t", hit, "no matching hit type"))
    schema = lookup_schema(hit, SCHEMAS)
    if isinstance(schema, dict):
        errors.append(schema)
    flat: dict[str, dict[str, Any]] = {}
    for field, value in valued.items():
        context = FIELD_TO_CONTEXT.get(field)
        if context is None:
            continue
        name, translation = FLAT_CONTEXTS[context][field]
        converted, error = translation(value)
        if error is not None:
            errors.append(input_data(name, value, error))
        else:
            flat.setdefault(context, {})[name] = converted
    composite, composite_error = _composite(valued)
    if composite_error is not None:
        errors.append(composite_error)
    if errors or isinstance(schema, dict):
        return errors
    data, data_errors = _translate(valued, HITS[hit][1])
    if data_errors:
        return data_errors[:1]
    contexts = [
        {"schema": s, "data": d}
        for s, d in [*flat.items(), *composite]
        if hit != "pageview" or s != _uri("page_view")
    ]
    parameters: dict[str, str | None] = {}
    if contexts:
        parameters["co"] = compact({"schema": CONTEXTS, "data": contexts})
    parameters.update(direct)
    parameters.update({
        "e": "ue", "ue_pr": compact({"schema": UNSTRUCT, "data": {"schema": schema, "data": data}}),
        "tv": TRACKER, "p": "srv",
    })  # fmt: skip
    return RawEvent(GA, "v1", parameters, payload.content_type, payload)


def google_analytics(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    lines = re.split(r"\r?\n", payload.body or "")
    if lines and lines[-1] == "":
        lines.pop()  # Scala's linesIterator yields no empty last line
    if not lines:
        return AdapterFailure([input_data("body", None, "empty body")])
    events: list[RawEvent] = []
    failures: list[Any] = []
    for line in lines:
        result = parse_hit(line, payload)
        if isinstance(result, RawEvent):
            events.append(result)
        else:
            failures.extend(result)
    return AdapterFailure(failures) if failures else events
