"""CloudFront access logs ``/com.amazon.aws.cloudfront/wd_access_log`` (enrich
``adapters/registry/CloudfrontAccessLogAdapter.scala``).

Each payload body is one tab-separated access-log line (the batch input builds them, see
``cloudfront_logs``). Its field count picks the schema version of
``iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-*`` (12, 15, 18, 19, 23, 24 or 26
fields); date and time become ``dateTime`` and the collector timestamp, ``c-ip`` the user IP,
``cs(User-Agent)`` the user agent and ``cs(Referer)`` the page URL.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from typing import Any, Final

from plowline.enrich.adapters.common import raw_event
from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.amazon.aws.cloudfront"
VERSION: Final = "wd_access_log"
TRACKER: Final = "com.amazon.aws.cloudfront/wd_access_log"
PATH: Final = f"/{VENDOR}/{VERSION}"
SCHEMA_VERSIONS: Final = {12: "1-0-0", 15: "1-0-1", 18: "1-0-2", 19: "1-0-3", 23: "1-0-4",
                          24: "1-0-5", 26: "1-0-6"}  # fmt: skip
FIELD_NAMES: Final = (
    "dateTime", "xEdgeLocation", "scBytes", "cIp", "csMethod", "csHost", "csUriStem", "scStatus",
    "csReferer", "csUserAgent", "csUriQuery", "csCookie", "xEdgeResultType", "xEdgeRequestId",
    "xHostHeader", "csProtocol", "csBytes", "timeTaken", "xForwardedFor", "sslProtocol",
    "sslCipher", "xEdgeResponseResultType", "csProtocolVersion", "fleStatus",
    "fleEncryptedFields",
)  # fmt: skip
_DOUBLE_PCT: Final = re.compile(r"%25([0-9a-fA-F][0-9a-fA-F])")
_JAVA_DOUBLE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?")
_JAVA_INT: Final = re.compile(r"[+-]?[0-9]+")


def single_encode_pcts(text: str) -> str:
    """``%25XX`` -> ``%XX`` (CloudFront double-encodes; ``ConversionUtils.singleEncodePcts``)."""
    return _DOUBLE_PCT.sub(r"%\1", text)


def url_decode(text: str) -> str:
    """``java.net.URLDecoder.decode`` with ``+`` kept as ``+``; ValueError on a bad escape."""
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%":
            hex_pair = text[i + 1 : i + 3]
            if len(hex_pair) < 2:
                raise ValueError("URLDecoder: Incomplete trailing escape (%) pattern")
            try:
                out.append(int(hex_pair, 16))
            except ValueError:
                raise ValueError(
                    "URLDecoder: Illegal hex characters in escape (%) pattern"
                ) from None
            i += 3
        else:
            out.extend(char.encode("utf-8", errors="surrogatepass"))
            i += 1
    return out.decode("utf-8", errors="replace")


def double_decode(text: str) -> str:
    return url_decode(single_encode_pcts(text))


def _field(name: str, value: str) -> tuple[Any, dict[str, Any] | None]:
    if value == "":
        return None, None
    if name == "timeTaken":
        if _JAVA_DOUBLE.fullmatch(value.strip()) is None:
            return None, input_data(name, value, "cannot be converted to Double")
        number = float(value.strip().rstrip("fFdD"))
        if number != number or number in (float("inf"), float("-inf")):
            return None, input_data(name, value, "cannot be converted to Double")
        return number, None
    if name in ("csBytes", "scBytes"):
        if _JAVA_INT.fullmatch(value) is None or not -(2**31) <= int(value) < 2**31:
            return None, input_data(name, value, "cannot be converted to Int")
        return int(value), None
    if name in ("csReferer", "csUserAgent"):
        try:
            return double_decode(value), None
        except ValueError as exc:
            return None, input_data(name, value, f"Exception URL-decoding (encoding UTF-8): {exc}")
    if name == "csUriQuery":
        return single_encode_pcts(value), None
    return value, None


def cloudfront(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = payload.body
    if body is None:
        return AdapterFailure([input_data("body", None, "empty body")])
    fields = body.split("\t")
    version = SCHEMA_VERSIONS.get(len(fields))
    if version is None:
        return AdapterFailure([input_data(
            "body", body,
            f"access log contained {len(fields)} fields, expected 12, 15, 18, 19, 23, 24 or 26",
        )])  # fmt: skip
    joined = [f"{fields[0]}T{fields[1]}Z", *fields[2:]]
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, value in zip(FIELD_NAMES, joined, strict=False):
        converted, error = _field(name, value)
        if error is not None:
            errors.insert(0, error)  # enrich prepends, so the last bad field comes first
        else:
            data[name] = converted
    try:
        moment = datetime.fromisoformat(f"{fields[0]}T{fields[1]}+00:00")
    except ValueError as exc:
        errors.insert(0, input_data(
            "dateTime", f"{fields[0]} {fields[1]}",
            f"could not convert access log timestamp: {exc}",
        ))  # fmt: skip
        moment = None
    if errors or moment is None:
        return AdapterFailure(errors)
    params: dict[str, str | None] = {} if joined[8] == "" else {"url": joined[8]}
    context = dataclasses.replace(
        payload,
        timestamp=int(moment.timestamp() * 1000),
        ip_address=joined[3],
        user_agent=single_encode_pcts(joined[9]) if joined[9] else None,
        referer_uri=None,
        headers=[],
        network_user_id=None,
    )
    schema = f"iglu:{VENDOR}/wd_access_log/jsonschema/{version}"
    return [raw_event(context, VENDOR, VERSION, TRACKER, params, schema, data)]
