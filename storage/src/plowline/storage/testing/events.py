"""Deterministic enriched events (131-field TSV) with entities, for tests and benchmarks."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

from plowline.storage.atomic import FIELD_COUNT, index_of

CONTEXTS_URI = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
UNSTRUCT_URI = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
EPOCH = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


def _sdj(uri: str, data: object) -> dict[str, object]:
    return {"schema": uri, "data": data}


def _compact(doc: object) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def contexts(*entities: Mapping[str, object]) -> str:
    return _compact(_sdj(CONTEXTS_URI, list(entities))) if entities else ""


def unstruct(uri: str, data: object) -> str:
    return _compact(_sdj(UNSTRUCT_URI, _sdj(uri, data)))


def _tstamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def event_fields(rng: random.Random, n: int) -> list[str]:
    """The fields of the n-th event of a generator: a page view or a link click."""
    f = [""] * FIELD_COUNT
    eid = uuid.UUID(int=rng.getrandbits(128), version=4)
    sid = uuid.UUID(int=rng.getrandbits(128), version=4)
    t = EPOCH + timedelta(milliseconds=n * 37)
    click = n % 3 == 2

    def put(name: str, value: object) -> None:
        f[index_of(name)] = str(value)

    put("app_id", "shop")
    put("platform", "web")
    put("etl_tstamp", _tstamp(t + timedelta(seconds=1)))
    put("collector_tstamp", _tstamp(t))
    put("dvce_created_tstamp", _tstamp(t - timedelta(milliseconds=120)))
    put("event", "unstruct" if click else "page_view")
    put("event_id", eid)
    put("name_tracker", "sp")
    put("v_tracker", "js-4.1.0")
    put("v_collector", "plowline-collector-0.1.0")
    put("v_etl", "plowline-enrich-0.1.0")
    put("user_ipaddress", f"10.0.{n % 256}.{(n // 256) % 256}")
    put("domain_userid", f"duid-{n % 5000:05d}")
    put("domain_sessionidx", 1 + n % 7)
    put("network_userid", uuid.UUID(int=rng.getrandbits(128), version=4))
    put("page_url", f"https://shop.example.com/p/{n % 100}?q=a+b%20c\\d")
    put("page_title", "Product — ünïcödé")
    put("page_urlscheme", "https")
    put("page_urlhost", "shop.example.com")
    put("page_urlport", 443)
    put("page_urlpath", f"/p/{n % 100}")
    put("page_urlquery", "q=a+b%20c\\d")
    put("useragent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
    put("br_lang", "en-GB")
    put("br_cookies", 1)
    put("br_features_pdf", n % 2)
    put("br_viewwidth", 1280)
    put("br_viewheight", 720)
    put("dvce_screenwidth", 1920)
    put("dvce_screenheight", 1080)
    put("os_timezone", "Europe/London")
    put("doc_charset", "UTF-8")
    put("dvce_sent_tstamp", _tstamp(t - timedelta(milliseconds=20)))
    put("domain_sessionid", sid)
    put("derived_tstamp", _tstamp(t - timedelta(milliseconds=100)))
    put("geo_latitude", 51.5074)
    put("geo_longitude", -0.1278)
    put("se_value", "12.990")
    if click:
        put("event_vendor", "com.snowplowanalytics.snowplow")
        put("event_name", "link_click")
        put("event_format", "jsonschema")
        put("event_version", "1-0-1")
        put(
            "unstruct_event",
            unstruct(
                "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                {
                    "targetUrl": f"https://example.org/{n}",
                    "elementId": "buy",
                    "elementClasses": ["btn", "primary"],
                },
            ),
        )
    else:
        put("event_vendor", "com.snowplowanalytics.snowplow")
        put("event_name", "page_view")
        put("event_format", "jsonschema")
        put("event_version", "1-0-0")
    put(
        "contexts",
        contexts(
            _sdj(
                "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
                {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4))},
            ),
            _sdj(
                "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
                {
                    "userId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "sessionId": str(sid),
                    "sessionIndex": 1 + n % 7,
                    "storageMechanism": "COOKIE_1",
                    "previousSessionId": None,
                    "firstEventTimestamp": "2026-11-27T09:59:00.000Z",
                },
            ),
        ),
    )
    put(
        "derived_contexts",
        contexts(
            _sdj(
                "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
                {
                    "useragentFamily": "Firefox",
                    "useragentMajor": "133",
                    "useragentMinor": "0",
                    "useragentPatch": None,
                    "useragentVersion": "Firefox 133.0",
                    "osFamily": "Linux",
                    "osMajor": None,
                    "osMinor": None,
                    "osPatch": None,
                    "osPatchMinor": None,
                    "osVersion": "Linux",
                    "deviceFamily": "Other",
                },
            )
        ),
    )
    return f


def enriched_lines(count: int, seed: int = 7) -> Iterator[bytes]:
    """`count` enriched TSV lines (bytes, no newline); same seed, same lines."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    for n in range(count):
        yield "\t".join(event_fields(rng, n)).encode("utf-8")


def with_fields(line: bytes, **changes: str) -> bytes:
    """A copy of a line with some fields replaced by name."""
    parts = line.decode("utf-8").split("\t")
    for name, value in changes.items():
        parts[index_of(name)] = value
    return "\t".join(parts).encode("utf-8")


def event_id(line: bytes) -> str:
    return line.decode("utf-8").split("\t")[index_of("event_id")]


# Entity tables the generated events fill (and rows per event, on average).
ENTITY_TABLES = (
    "com_snowplowanalytics_snowplow_web_page_1",
    "com_snowplowanalytics_snowplow_client_session_1",
    "com_snowplowanalytics_snowplow_ua_parser_context_1",
    "com_snowplowanalytics_snowplow_link_click_1",
)
