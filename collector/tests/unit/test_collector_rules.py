"""Identity, privacy, CORS, redirect and size rules (collector Service.scala, RedirectAdapter)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import orjson
import pytest
from plowline.collector.service import ANONYMOUS_ID
from plowline.collector.testing import Harness

Make = Callable[..., Harness]
TP2 = "/com.snowplowanalytics.snowplow/tp2"
NUID = "85094061-2f4d-4e8b-9a0c-0d1e2f3a4b5c"


def _cookie(response_set_cookie: list[str], name: str = "sp") -> dict[str, str]:
    [value] = [c for c in response_set_cookie if c.startswith(name + "=")]
    parts = [p.strip() for p in value.split(";")]
    out = {"value": parts[0].split("=", 1)[1]}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        out[key] = val
    return out


# ---- network user id and the cookie -------------------------------------------------------


def test_new_visitor_gets_a_random_uuid_cookie_with_default_attributes(collector: Make) -> None:
    h = collector()
    response = h.request("GET", "/i")
    cookie = _cookie(response.header_values("set-cookie"))
    assert uuid.UUID(cookie["value"]).version == 4
    assert cookie["Path"] == "/"
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert cookie["SameSite"] == "None"
    assert "Domain" not in cookie
    [payload] = h.payloads()
    assert payload.network_user_id == cookie["value"]


def test_cookie_expires_a_year_ahead(collector: Make) -> None:
    h = collector()
    expires = _cookie(h.request("GET", "/i").header_values("set-cookie"))["Expires"]
    [payload] = h.payloads()
    delta = parsedate_to_datetime(expires).timestamp() - payload.timestamp / 1000
    assert 365 * 86400 - 5 < delta <= 365 * 86400 + 1


def test_existing_cookie_is_kept_and_refreshed(collector: Make) -> None:
    h = collector()
    response = h.request("GET", "/i", headers=[("Cookie", f"other=1; sp={NUID}")])
    assert _cookie(response.header_values("set-cookie"))["value"] == NUID
    [payload] = h.payloads()
    assert payload.network_user_id == NUID


def test_nuid_parameter_wins_over_the_cookie(collector: Make) -> None:
    h = collector()
    response = h.request(
        "GET", "/i", query="e=pv&nuid=abc&nuid=from-query", headers=[("Cookie", f"sp={NUID}")]
    )
    assert _cookie(response.header_values("set-cookie"))["value"] == "from-query"
    [payload] = h.payloads()
    assert payload.network_user_id == "from-query"


def test_unsafe_nuid_is_recorded_but_never_echoed_in_a_header(collector: Make) -> None:
    h = collector()
    response = h.request("GET", "/i", query="nuid=a%0d%0aSet-Cookie:%20x=1")
    assert response.status == 200
    assert response.header_values("set-cookie") == []
    [payload] = h.payloads()
    assert payload.network_user_id == "a\r\nSet-Cookie: x=1"


@pytest.mark.parametrize(
    ("origin", "domain"),
    [
        ("https://www.acme.com", "acme.com"),
        ("https://acme.com", "acme.com"),
        ("http://shop.acme.co.uk:8080", "acme.co.uk"),
        ("https://other.org", "fallback.net"),
        ("https://notacme.com", "fallback.net"),
        (None, "fallback.net"),
        ("https://x.org https://a.acme.co.uk", "acme.co.uk"),
    ],
)
def test_cookie_domain_is_chosen_by_origin(
    collector: Make, origin: str | None, domain: str
) -> None:
    h = collector(
        {"cookie": {"domains": ["acme.com", ".acme.co.uk"], "fallback_domain": "fallback.net"}}
    )
    headers = [("Origin", origin)] if origin else []
    cookie = _cookie(h.request("GET", "/i", headers=headers).header_values("set-cookie"))
    assert cookie["Domain"] == domain


def test_first_configured_domain_that_matches_wins(collector: Make) -> None:
    h = collector({"cookie": {"domains": ["b.acme.com", "acme.com"]}})
    response = h.request("GET", "/i", headers=[("Origin", "https://a.b.acme.com")])
    assert _cookie(response.header_values("set-cookie"))["Domain"] == "b.acme.com"


def test_no_domain_attribute_without_match_or_fallback(collector: Make) -> None:
    h = collector({"cookie": {"domains": ["acme.com"]}})
    response = h.request("GET", "/i", headers=[("Origin", "https://other.org")])
    assert "Domain" not in _cookie(response.header_values("set-cookie"))


def test_cookie_attributes_are_configurable(collector: Make) -> None:
    h = collector(
        {
            "cookie": {
                "name": "sid",
                "secure": False,
                "http_only": False,
                "same_site": "Lax",
                "expiration_days": 1,
                "client_cookie_name": "sid_js",
            }
        }
    )
    response = h.request("GET", "/i")
    cookie = _cookie(response.header_values("set-cookie"), "sid")
    assert "Secure" not in cookie
    assert "HttpOnly" not in cookie
    assert cookie["SameSite"] == "Lax"
    client = _cookie(response.header_values("set-cookie"), "sid_js")
    assert client["value"] == cookie["value"]
    assert "HttpOnly" not in client


def test_cookie_can_be_disabled(collector: Make) -> None:
    h = collector({"cookie": {"enabled": False}})
    assert h.request("GET", "/i").header_values("set-cookie") == []
    [payload] = h.payloads()
    assert payload.network_user_id is not None


# ---- SP-Anonymous --------------------------------------------------------------------------


def test_sp_anonymous_hides_ip_and_id_and_drops_identifying_headers(collector: Make) -> None:
    h = collector()
    response = h.request(
        "POST",
        TP2,
        headers=[
            ("SP-Anonymous", "*"),
            ("X-Forwarded-For", "198.51.100.7"),
            ("X-Real-Ip", "198.51.100.7"),
            ("Cookie", f"sp={NUID}"),
            ("User-Agent", "UA"),
            ("Content-Type", "application/json"),
        ],
        body=b"{}",
    )
    assert response.status == 200
    [payload] = h.payloads()
    assert payload.ip_address == "unknown"
    assert payload.network_user_id == ANONYMOUS_ID
    assert payload.headers is not None
    joined = "\n".join(payload.headers)
    assert "198.51.100.7" not in joined
    assert NUID not in joined
    assert "User-Agent: UA" in payload.headers
    # No Set-Cookie at all (the Scala collector's cookieHeader): the cookie is left alone.
    assert response.header_values("set-cookie") == []
    assert payload.headers == [
        "Sp-Anonymous: *",
        "User-Agent: UA",
        "Content-Type: application/json",
        "Content-Length: 2",
    ]


def test_sp_anonymous_without_cookie_sets_none(collector: Make) -> None:
    h = collector()
    response = h.request("GET", "/i", headers=[("SP-Anonymous", "")], query="nuid=x")
    assert response.header_values("set-cookie") == []
    [payload] = h.payloads()
    assert payload.network_user_id == ANONYMOUS_ID


# ---- do-not-track cookie -------------------------------------------------------------------


def test_do_not_track_cookie_stores_nothing_and_sets_no_cookie(collector: Make) -> None:
    h = collector({"do_not_track_cookie": {"enabled": True, "name": "dnt", "value": "1|yes"}})
    response = h.request("GET", "/i", headers=[("Cookie", "dnt=yes")])
    assert response.status == 200
    assert response.body.startswith(b"GIF89a")
    assert response.header_values("set-cookie") == []
    post = h.request("POST", TP2, headers=[("Cookie", "dnt=1")], body=b"{}")
    assert (post.status, post.body) == (200, b"ok")
    assert h.payloads() == []


def test_do_not_track_value_must_match_in_full(collector: Make) -> None:
    h = collector({"do_not_track_cookie": {"enabled": True, "name": "dnt", "value": "1"}})
    h.request("GET", "/i", headers=[("Cookie", "dnt=10")])
    assert len(h.payloads()) == 1


def test_do_not_track_is_off_by_default(collector: Make) -> None:
    h = collector()
    h.request("GET", "/i", headers=[("Cookie", "dnt=1")])
    assert len(h.payloads()) == 1


# ---- CORS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.acme.com", "https://shop.acme.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("https://a.com https://b.com", "https://a.com"),
        ("https://shop.acme.com/path?q", "https://shop.acme.com"),
        (None, "*"),
        ("null", "*"),
    ],
)
def test_tracking_responses_carry_cors_headers(
    collector: Make, origin: str | None, allowed: str
) -> None:
    h = collector()
    headers = [("Origin", origin)] if origin else []
    for method, path in (("GET", "/i"), ("POST", TP2)):
        response = h.request(method, path, headers=headers, body=b"{}" if method == "POST" else b"")
        assert response.header("access-control-allow-origin") == allowed
        assert response.header("access-control-allow-credentials") == "true"


# ---- stored request details ----------------------------------------------------------------


def test_stored_fields_follow_the_request(collector: Make) -> None:
    h = collector()
    h.request(
        "GET",
        "/i",
        query="e=pv&url=https%3A%2F%2Fa.com%2F",
        headers=[
            ("Host", "collector.acme.com:8443"),
            ("User-Agent", "Mozilla/5.0"),
            ("Referer", "https://a.com/page"),
            ("Cookie", 'sp=abc; bad=a,b; other="q"'),
            ("X-Forwarded-For", "198.51.100.7, 10.0.0.1"),
        ],
        client_ip="192.0.2.4",
    )
    [payload] = h.payloads()
    assert payload.ip_address == "192.0.2.4"
    assert payload.hostname == "collector.acme.com"
    assert payload.user_agent == "Mozilla/5.0"
    assert payload.referer_uri == "https://a.com/page"
    assert payload.encoding == "UTF-8"
    assert payload.schema == "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
    assert payload.collector == "plowline-collector-0.1.0-memory"
    assert payload.querystring == "e=pv&url=https%3A%2F%2Fa.com%2F"
    assert payload.headers == [
        "Host: collector.acme.com:8443",
        "User-Agent: Mozilla/5.0",
        "Referer: https://a.com/page",
        'Cookie: sp=abc;other="q"',
        "X-Forwarded-For: 198.51.100.7, 10.0.0.1",
    ]


def test_timestamp_is_receipt_time_in_ms(collector: Make) -> None:
    import time

    h = collector()
    before = int(time.time() * 1000)
    h.request("GET", "/i")
    after = int(time.time() * 1000)
    [payload] = h.payloads()
    assert before <= payload.timestamp <= after


# ---- redirect ------------------------------------------------------------------------------


def test_redirect_is_disabled_by_default(collector: Make) -> None:
    h = collector()
    response = h.request("GET", "/r/tp2", query="u=https%3A%2F%2Facme.com%2F")
    assert (response.status, response.body) == (404, b"redirects disabled")
    assert h.payloads() == []


REDIRECT = {"redirect": {"enabled": True, "allowed_hosts": ["acme.com", "*.shop.io"]}}


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("https://acme.com/landing?x=1", "https://acme.com/landing?x=1"),
        ("http://acme.com", "http://acme.com/"),  # the URL as a browser serialises it
        ("https://a.b.shop.io/p", "https://a.b.shop.io/p"),
        ("HTTPS://ACME.COM/caf\u00e9", "https://acme.com/caf%C3%A9"),
    ],
)
def test_redirect_to_an_allowed_host_records_and_302s(
    collector: Make, target: str, location: str
) -> None:
    from urllib.parse import quote

    h = collector(REDIRECT)
    query = f"e=se&u={quote(target, safe='')}"
    response = h.request("GET", "/r/tp2", query=query)
    assert response.status == 302
    assert response.header("location") == location
    assert response.header_values("set-cookie")
    [payload] = h.payloads()
    assert payload.path == "/r/tp2"
    assert payload.querystring == query


@pytest.mark.parametrize(
    "query",
    [
        "",
        "e=pv",
        "u=",
        "u=https%3A%2F%2Fevil.com%2F",
        "u=https%3A%2F%2Facme.com.evil.com%2F",
        "u=https%3A%2F%2Fshop.io%2F",  # the wildcard covers subdomains only
        "u=javascript%3Aalert(1)",
        "u=%2F%2Facme.com%2F",
        "u=https%3A%2F%2Facme.com%2F%0d%0aX-Injected%3A%201",
        "u=https%3A%2F%2Fuser%40evil.com%2F",
        # WHATWG: "\\" is "/" in http(s) URLs, so the browser's host is evil.com (issue 15.12)
        "u=https%3A%2F%2Fevil.com%5C%40acme.com%2F",
        "u=https%3A%2F%2Fevil.com%5C%40x.shop.io%2F",
        "u=https%3A%2F%2Fevil.com%5C%5C%40acme.com%2F",
        "u=https%3A%2F%2Fevil.com%09%5C%40acme.com%2F",
        "u=https%3A%2F%2Facme.com%40evil.com%2F",
        "u=https%3A%2F%2Fuser%40acme.com%2F",  # credentials in a redirect are refused
        "u=https%3A%5C%5Cevil.com%2F",
    ],
)
def test_redirect_refuses_targets_outside_the_allow_list(collector: Make, query: str) -> None:
    h = collector(REDIRECT)
    response = h.request("GET", "/r/tp2", query=query)
    assert response.status == 400
    assert response.header("location") is None
    assert h.payloads() == []


def test_redirect_macro_inserts_the_network_user_id(collector: Make) -> None:
    h = collector(
        {"redirect": {"enabled": True, "allowed_hosts": ["acme.com"], "macro": "${SP_NUID}"}}
    )
    response = h.request(
        "GET",
        "/r/tp2",
        query="u=https%3A%2F%2Facme.com%2F%3Fid%3D%24%7BSP_NUID%7D",
        headers=[("Cookie", f"sp={NUID}")],
    )
    assert response.header("location") == f"https://acme.com/?id={NUID}"


@pytest.mark.parametrize("via", ["query", "cookie"])
def test_redirect_macro_is_checked_after_substitution(collector: Make, via: str) -> None:
    """Issue 15.13: the host is checked in the final Location, with the id put in."""
    h = collector(
        {"redirect": {"enabled": True, "allowed_hosts": ["acme.com"], "macro": "${SP_NUID}"}}
    )
    query = "u=https%3A%2F%2F%24%7BSP_NUID%7D%40acme.com%2F"
    headers: list[tuple[str, str]] = []
    if via == "query":
        query += "&nuid=evil.com%2F"
    else:
        headers.append(("Cookie", "sp=evil.com/"))
    response = h.request("GET", "/r/tp2", query=query, headers=headers)
    assert response.status == 400
    assert response.header("location") is None
    assert h.payloads() == []


def test_redirect_checks_the_target_of_a_do_not_track_request(collector: Make) -> None:
    h = collector(
        {
            **REDIRECT,
            "do_not_track_cookie": {"enabled": True, "name": "dnt", "value": "1"},
        }
    )
    dnt = [("Cookie", "dnt=1")]
    bad = h.request("GET", "/r/tp2", query="u=https%3A%2F%2Fevil.com%5C%40acme.com%2F", headers=dnt)
    assert (bad.status, bad.header("location")) == (400, None)
    good = h.request("GET", "/r/tp2", query="u=https%3A%2F%2Facme.com%2Fx", headers=dnt)
    assert (good.status, good.header("location")) == (302, "https://acme.com/x")
    assert h.payloads() == []


# ---- size limits ---------------------------------------------------------------------------


def _batch(count: int, size: int) -> bytes:
    events = [{"e": "pv", "eid": str(i), "page": "x" * size} for i in range(count)]
    return orjson.dumps(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
            "data": events,
        }
    )


def test_body_above_the_drop_size_is_413_by_content_length(collector: Make) -> None:
    h = collector({"limits": {"drop_payload_bytes": 10_000, "max_payload_bytes": 5_000}})
    response = h.request("POST", TP2, body=b"x" * 10_001)
    assert response.status == 413
    assert h.payloads() == []
    assert h.bad_rows() == []


def test_body_above_the_drop_size_is_413_when_chunked(collector: Make) -> None:
    h = collector({"limits": {"drop_payload_bytes": 100_000, "max_payload_bytes": 5_000}})
    response = h.request("POST", TP2, body=b"x" * 200_000, chunked=True)
    assert response.status == 413
    assert h.payloads() == []


def test_oversized_post_batches_are_split_to_fit(collector: Make) -> None:
    h = collector({"limits": {"max_payload_bytes": 4096}})
    body = _batch(20, 500)
    response = h.request("POST", TP2, headers=[("Content-Type", "application/json")], body=body)
    assert response.status == 200
    payloads = h.payloads()
    assert len(payloads) > 1
    records = h.good.records
    assert all(len(r) <= 4096 for r in records)
    events = [e for p in payloads for e in orjson.loads(p.body or "")["data"]]
    assert events == orjson.loads(body)["data"]
    schemas = {orjson.loads(p.body or "")["schema"] for p in payloads}
    assert schemas == {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"}
    assert h.bad_rows() == []


def test_split_follows_the_sink_record_limit(collector: Make) -> None:
    h = collector(good_max=5000)
    h.request("POST", TP2, body=_batch(30, 400))
    assert len(h.payloads()) > 1
    assert all(len(r) <= 5000 for r in h.good.records)


def test_single_oversized_event_becomes_a_size_violation(collector: Make) -> None:
    h = collector({"limits": {"max_payload_bytes": 4096}})
    events = [{"e": "pv", "page": "small"}, {"e": "pv", "page": "y" * 6000}, {"e": "pv"}]
    body = orjson.dumps({"schema": "s", "data": events})
    assert h.request("POST", TP2, body=body).status == 200
    kept = [e for p in h.payloads() for e in orjson.loads(p.body or "")["data"]]
    assert kept == [events[0], events[2]]
    [row] = h.bad_rows()
    assert row["schema"] == (
        "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0"
    )
    data = row["data"]
    assert data["processor"] == {"artifact": "plowline-collector", "version": "0.1.0"}
    assert data["failure"]["maximumAllowedSizeBytes"] == 4096
    assert data["failure"]["actualSizeBytes"] > 4096
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["failure"]["timestamp"])
    assert data["payload"].startswith("CollectorPayload(")
    assert len(data["payload"]) <= 4096 // 10


def test_oversized_get_becomes_a_size_violation(collector: Make) -> None:
    h = collector({"limits": {"max_payload_bytes": 2048}})
    response = h.request("GET", "/i", query="e=pv&page=" + "z" * 3000)
    assert response.status == 200
    assert h.payloads() == []
    [row] = h.bad_rows()
    assert "GET" in row["data"]["failure"]["expectation"]


@pytest.mark.parametrize("body", [b"not json" * 1000, b'{"data": "nope"}' + b" " * 5000])
def test_oversized_unsplittable_post_becomes_a_size_violation(collector: Make, body: bytes) -> None:
    h = collector({"limits": {"max_payload_bytes": 2048}})
    assert h.request("POST", TP2, body=body).status == 200
    assert h.payloads() == []
    assert len(h.bad_rows()) == 1
