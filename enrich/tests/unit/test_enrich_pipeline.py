"""The core pipeline: adapters, parameter parsing, ue/contexts validation, built-in steps."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.conversions import encode_base64url
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich, parse_api
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import CollectorPayload

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
PAGE_ID = "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e"
JSON_CT = {"Content-Type": "application/json; charset=utf-8"}


def run(ctx: EnrichContext, payload: CollectorPayload) -> list[EnrichedEvent | BadRow]:
    return enrich(payload, ctx)


def one_event(ctx: EnrichContext, payload: CollectorPayload) -> EnrichedEvent:
    results = run(ctx, payload)
    assert len(results) == 1, results
    result = results[0]
    assert isinstance(result, EnrichedEvent), (
        result.to_json() if isinstance(result, BadRow) else result
    )
    return result


def one_bad(ctx: EnrichContext, payload: CollectorPayload, kind: str) -> dict[str, Any]:
    results = run(ctx, payload)
    assert len(results) == 1, results
    result = results[0]
    assert isinstance(result, BadRow), result
    assert result.kind == kind, result.to_json()
    return result.data


def get(query: str, path: str = "/i", **kw: Any) -> CollectorPayload:
    return payload_from_request("GET", path, query, **kw)


def post(items: list[dict[str, Any]], query: str = "", **kw: Any) -> CollectorPayload:
    body = json.dumps({"schema": PAYLOAD_DATA, "data": items})
    headers = kw.pop("headers", JSON_CT)
    return payload_from_request(
        "POST", "/com.snowplowanalytics.snowplow/tp2", query, headers, body, **kw
    )


def contexts(*entities: dict[str, Any]) -> str:
    return json.dumps({"schema": CONTEXTS, "data": list(entities)})


# --- path parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/i", ("com.snowplowanalytics.snowplow", "tp1")),
        ("/ice.png", ("com.snowplowanalytics.snowplow", "tp1")),
        ("/com.snowplowanalytics.snowplow/tp2", ("com.snowplowanalytics.snowplow", "tp2")),
        ("com.acme/v1/", ("com.acme", "v1")),
        ("/r/tp2", ("r", "tp2")),
        ("/a/b/c", None),
        ("/", None),
        (None, None),
    ],
)
def test_path_parsing(path: str | None, api: tuple[str, str] | None) -> None:
    assert parse_api(path) == api


def test_bad_path_is_a_format_violation(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("e=pv", path="/a/b/c"), "collector_payload_format_violation")
    assert data["failure"]["message"]["payloadField"] == "path"
    assert data["failure"]["loader"] == "thrift"


def test_illegal_querystring_is_a_format_violation(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("e=pv&x=a|b"), "collector_payload_format_violation")
    assert data["failure"]["message"]["payloadField"] == "querystring"


def test_non_uuid_network_user_id_is_a_format_violation(ctx: EnrichContext) -> None:
    payload = get("e=pv&p=web", network_user_id="not-a-uuid")
    data = one_bad(ctx, payload, "collector_payload_format_violation")
    assert data["failure"]["message"]["payloadField"] == "networkUserId"


def test_wrong_payload_schema_is_a_format_violation(ctx: EnrichContext) -> None:
    payload = get("e=pv&p=web")
    payload.schema = "iglu:com.acme/Other/thrift/1-0-0"
    one_bad(ctx, payload, "collector_payload_format_violation")


def test_unknown_vendor_is_an_adapter_failure(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("e=pv", path="/com.acme/v9"), "adapter_failures")
    assert data["failure"]["vendor"] == "com.acme"
    assert "not supported" in data["failure"]["messages"][0]["expectation"]


# --- TP1 / TP2 GET --------------------------------------------------------------------------


def test_page_view_get_fields(ctx: EnrichContext) -> None:
    cx = encode_base64url(contexts({"schema": WEB_PAGE, "data": {"id": PAGE_ID}}))
    query = (
        "e=pv&url=https%3A%2F%2Fshop.example%3A8443%2Fp%2Fq%3Fa%3D1%23frag&page=Hello+World"
        f"&tv=js-3.5.0&tna=sp&aid=shop&p=web&res=1920x1080&vp=800x600&ds=1000x2000&cookie=1"
        f"&lang=en-GB&cs=UTF-8&cd=24&tz=Europe%2FLondon&uid=u1&duid=d1&vid=3"
        f"&sid=BE9520E7-1F43-4C6E-9E2C-1A4C8D3A5B6E&eid={PAGE_ID}&dtm=1665398554084"
        f"&stm=1665398554284&cx={cx}&f_pdf=0"
    )
    event = one_event(ctx, get(query, headers={"User-Agent": "UA/1.0"}, ip="203.0.113.9"))
    v = event.values
    assert v["event"] == "page_view"
    assert v["event_id"] == PAGE_ID
    assert v["page_title"] == "Hello World"
    assert v["page_urlscheme"] == "https"
    assert v["page_urlhost"] == "shop.example"
    assert v["page_urlport"] == "8443"
    assert v["page_urlpath"] == "/p/q"
    assert v["page_urlquery"] == "a=1"
    assert v["page_urlfragment"] == "frag"
    assert (v["dvce_screenwidth"], v["dvce_screenheight"]) == ("1920", "1080")
    assert (v["br_viewwidth"], v["br_viewheight"]) == ("800", "600")
    assert (v["doc_width"], v["doc_height"]) == ("1000", "2000")
    assert v["br_cookies"] == "1"
    assert v["br_features_pdf"] == "0"
    assert v["os_timezone"] == "Europe/London"
    assert v["domain_sessionidx"] == "3"
    assert v["domain_sessionid"] == "be9520e7-1f43-4c6e-9e2c-1a4c8d3a5b6e"
    assert v["collector_tstamp"] == "2022-10-10 10:42:34.500"
    assert v["dvce_created_tstamp"] == "2022-10-10 10:42:34.084"
    assert v["dvce_sent_tstamp"] == "2022-10-10 10:42:34.284"
    assert v["derived_tstamp"] == "2022-10-10 10:42:34.300"
    assert v["useragent"] == "UA/1.0"
    assert v["user_ipaddress"] == "203.0.113.9"
    assert v["v_collector"] == "ssc-plowline-test"
    assert v["v_etl"] == "plowline-enrich-0.1.0"
    assert v["etl_tstamp"] == "2023-11-14 22:13:20.000"
    assert (v["event_vendor"], v["event_name"], v["event_format"], v["event_version"]) == (
        "com.snowplowanalytics.snowplow", "page_view", "jsonschema", "1-0-0",
    )  # fmt: skip
    assert event.contexts == [{"schema": WEB_PAGE, "data": {"id": PAGE_ID}}]
    line = event.to_tsv()
    assert len(line.split("\t")) == 131
    assert '"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"' in line


def test_tp2_get(ctx: EnrichContext) -> None:
    event = one_event(
        ctx,
        get("e=se&se_ca=c&se_ac=a&se_va=12.50&p=srv&tv=py", "/com.snowplowanalytics.snowplow/tp2"),
    )
    assert event.values["se_value"] == "12.50"
    assert event.values["event_vendor"] == "com.google.analytics"
    assert event.values["event_name"] == "event"


def test_generated_event_id_and_missing_optional_fields(ctx: EnrichContext) -> None:
    event = one_event(ctx, get("e=pp&p=web&tv=t&pp_mix=0&pp_max=10&pp_miy=-5&pp_may=null"))
    assert event.values["event_id"] == "00000000-0000-4000-8000-000000000001"
    assert event.values["pp_yoffset_min"] == "-5"
    assert "pp_yoffset_max" not in event.values
    assert event.values["derived_tstamp"] == event.values["collector_tstamp"]


def test_true_tstamp_wins_for_derived(ctx: EnrichContext) -> None:
    event = one_event(ctx, get("e=pv&p=web&tv=t&ttm=1000&dtm=5000&stm=6000"))
    assert event.values["true_tstamp"] == "1970-01-01 00:00:01.000"
    assert event.values["derived_tstamp"] == "1970-01-01 00:00:01.000"


def test_dtm_after_stm_uses_collector_tstamp(ctx: EnrichContext) -> None:
    event = one_event(ctx, get("e=pv&p=web&tv=t&dtm=7000&stm=6000"))
    assert event.values["derived_tstamp"] == event.values["collector_tstamp"]


def test_identity_precedence(ctx: EnrichContext) -> None:
    nuid = "11111111-1111-4111-8111-111111111111"
    payload = get(
        "e=pv&p=web&tv=t&nuid=n1&tnuid=t1&ip=198.51.100.1%2C10.0.0.1&ua=Param-UA&cv=clj-1",
        headers={"User-Agent": "Header-UA", "X-Forwarded-For": "192.0.2.7, 10.0.0.2"},
        network_user_id=nuid,
    )
    v = one_event(ctx, payload).values
    assert v["network_userid"] == "t1"
    assert v["user_ipaddress"] == "198.51.100.1"
    assert v["useragent"] == "Param-UA"
    assert v["v_collector"] == "clj-1"


def test_forwarded_headers_give_the_ip(ctx: EnrichContext) -> None:
    v = one_event(
        ctx, get("e=pv&p=web&tv=t", headers={"X-Forwarded-For": "192.0.2.7, 10.0.0.2"})
    ).values
    assert v["user_ipaddress"] == "192.0.2.7"
    v = one_event(
        ctx, get("e=pv&p=web&tv=t", headers={"Forwarded": 'for="[2001:db8::1]:4711"'})
    ).values
    assert v["user_ipaddress"] == "2001:db8::1"


def test_referer_header_is_the_page_url_fallback(ctx: EnrichContext) -> None:
    payload = get("e=pv&p=web&tv=t", headers={"Referer": "http://blog.example/post"})
    v = one_event(ctx, payload).values
    assert v["page_url"] == "http://blog.example/post"
    assert v["page_urlport"] == "80"


def test_tsv_safe_strings(ctx: EnrichContext) -> None:
    v = one_event(ctx, get("e=pv&p=web&tv=t&page=a%09b%0Ac%0D&aid=%01")).values
    assert v["page_title"] == "a    bc"
    assert "app_id" not in v


def test_referrer_components_and_cross_domain(ctx: EnrichContext) -> None:
    query = (
        "e=pv&p=web&tv=t&refr=https%3A%2F%2Fwww.google.com%2Fsearch%3Fq%3Da%2Bb"
        "&url=http%3A%2F%2Fa.example%2F%3F_sp%3Dabc-123.1665398554084"
    )
    v = one_event(ctx, get(query)).values
    assert v["refr_urlhost"] == "www.google.com"
    assert v["refr_urlquery"] == "q=a+b"
    assert v["refr_urlport"] == "443"
    assert v["refr_domain_userid"] == "abc-123"
    assert v["refr_dvce_tstamp"] == "2022-10-10 10:42:34.084"


# --- TP2 POST -------------------------------------------------------------------------------


def test_post_batch_with_querystring_merge(ctx: EnrichContext) -> None:
    items = [
        {"e": "pv", "tv": "js", "p": "web", "aid": "body-app", "url": "http://a.example/"},
        {"e": "se", "tv": "js", "p": "web", "se_ca": "c", "se_ac": "a"},
    ]
    results = run(ctx, post(items, query="aid=qs-app&cv=clj"))
    assert [type(r) for r in results] == [EnrichedEvent, EnrichedEvent]
    first, second = results
    assert isinstance(first, EnrichedEvent)
    assert isinstance(second, EnrichedEvent)
    assert first.values["app_id"] == "qs-app"
    assert second.values["app_id"] == "qs-app"
    assert second.values["v_collector"] == "clj"


@pytest.mark.parametrize(
    ("content_type", "field"),
    [("text/plain", "contentType"), (None, "contentType")],
)
def test_post_content_type_rules(ctx: EnrichContext, content_type: str | None, field: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    payload = post([{"e": "pv", "tv": "t", "p": "web"}], headers=headers)
    data = one_bad(ctx, payload, "tracker_protocol_violations")
    assert data["failure"]["messages"][0]["field"] == field
    assert data["payload"]["body"] == payload.body


def test_post_body_not_json(ctx: EnrichContext) -> None:
    payload = payload_from_request(
        "POST", "/com.snowplowanalytics.snowplow/tp2", "", JSON_CT, "{not json"
    )
    data = one_bad(ctx, payload, "tracker_protocol_violations")
    assert data["failure"]["messages"][0]["field"] == "body"
    assert "error" in data["failure"]["messages"][0]


def test_post_body_not_payload_data(ctx: EnrichContext) -> None:
    body = json.dumps({"schema": WEB_PAGE, "data": {"id": PAGE_ID}})
    payload = payload_from_request("POST", "/com.snowplowanalytics.snowplow/tp2", "", JSON_CT, body)
    data = one_bad(ctx, payload, "tracker_protocol_violations")
    assert data["failure"]["messages"][0]["schemaCriterion"].endswith(
        "payload_data/jsonschema/1-0-*"
    )


def test_post_item_unknown_key_rejects_whole_post(ctx: EnrichContext) -> None:
    payload = post(
        [{"e": "pv", "tv": "t", "p": "web"}, {"e": "pv", "tv": "t", "p": "web", "zz": "1"}]
    )
    data = one_bad(ctx, payload, "tracker_protocol_violations")
    assert data["failure"]["messages"][0]["error"]["error"] == "ValidationError"


def test_empty_get_is_a_protocol_violation(ctx: EnrichContext) -> None:
    data = one_bad(
        ctx, get("", "/com.snowplowanalytics.snowplow/tp2"), "tracker_protocol_violations"
    )
    assert {m["field"] for m in data["failure"]["messages"]} == {"body", "querystring"}


# --- parameter errors -> schema_violations -------------------------------------------------


def test_parse_errors_are_all_collected(ctx: EnrichContext) -> None:
    data = one_bad(
        ctx, get("e=zz&p=moon&tv=t&dtm=abc&vid=1.5&res=10&eid=nope&cookie=yes&se_va=x"),
        "schema_violations",
    )  # fmt: skip
    message = data["failure"]["messages"][0]
    assert message["schemaKey"] == "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"
    paths = {r["path"] for r in message["error"]["dataReports"]}
    assert paths == {
        "event", "platform", "dvce_created_tstamp", "domain_sessionidx", "dvce_screenwidth",
        "event_id", "br_cookies", "se_value",
    }  # fmt: skip
    assert {r["keyword"] for r in message["error"]["dataReports"]} == {"atomic_field_parse_error"}
    assert data["payload"]["enriched"]["v_tracker"] == "t"
    assert {"name": "p", "value": "moon"} in data["payload"]["raw"]["parameters"]


def test_field_too_long_is_a_schema_violation(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("e=pv&p=web&tv=t&tr_cu=EURO"), "schema_violations")
    report = data["failure"]["messages"][0]["error"]["dataReports"][0]
    assert report["keyword"] == "atomic_field_length_exceeded"
    assert report["path"] == "tr_currency"


def test_unstruct_event_pr_and_px(ctx: EnrichContext) -> None:
    inner = {"schema": LINK_CLICK, "data": {"targetUrl": "http://x.example"}}
    ue = json.dumps({"schema": UNSTRUCT, "data": inner})
    for param, value in (("ue_pr", ue), ("ue_px", encode_base64url(ue))):
        from urllib.parse import quote

        event = one_event(ctx, get(f"e=ue&p=web&tv=t&{param}={quote(value)}"))
        assert event.unstruct_event == inner
        assert event.values["event"] == "unstruct"
        assert event.values["event_name"] == "link_click"
        assert event.values["event_version"] == "1-0-1"


def test_invalid_unstruct_event(ctx: EnrichContext) -> None:
    from urllib.parse import quote

    inner = {"schema": LINK_CLICK, "data": {"elementId": 5}}
    ue = quote(json.dumps({"schema": UNSTRUCT, "data": inner}))
    data = one_bad(ctx, get(f"e=ue&p=web&tv=t&ue_pr={ue}"), "schema_violations")
    message = data["failure"]["messages"][0]
    assert message["schemaKey"] == LINK_CLICK
    assert message["error"]["error"] == "ValidationError"


def test_unknown_schema_is_a_resolution_error(ctx: EnrichContext) -> None:
    from urllib.parse import quote

    co = quote(contexts({"schema": "iglu:com.nobody/thing/jsonschema/1-0-0", "data": {}}))
    data = one_bad(ctx, get(f"e=pv&p=web&tv=t&co={co}"), "schema_violations")
    error = data["failure"]["messages"][0]["error"]
    assert error["error"] == "ResolutionError"
    assert error["lookupHistory"][0]["errors"] == [{"error": "NotFound"}]


@pytest.mark.parametrize(
    ("cx", "key"),
    [
        (encode_base64url("{not json"), "field"),
        (encode_base64url('{"data": []}'), "json"),
        (
            encode_base64url(json.dumps({"schema": WEB_PAGE, "data": {"id": PAGE_ID}})),
            "schemaCriterion",
        ),
    ],
)
def test_contexts_failures(ctx: EnrichContext, cx: str, key: str) -> None:
    data = one_bad(ctx, get(f"e=pv&p=web&tv=t&cx={cx}"), "schema_violations")
    assert key in data["failure"]["messages"][0]


def test_missing_event_type_is_an_enrichment_failure(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("p=web&tv=t"), "enrichment_failures")
    assert data["failure"]["messages"][0]["message"]["field"] == "event"


def test_ad_impression_is_an_enrichment_failure(ctx: EnrichContext) -> None:
    one_bad(ctx, get("e=ad&p=web&tv=t"), "enrichment_failures")


# --- redirect and webhooks -----------------------------------------------------------------


def test_redirect_without_event(ctx: EnrichContext) -> None:
    event = one_event(ctx, get("u=https%3A%2F%2Fexample.com%2Fx&aid=a", "/r/tp2"))
    assert event.values["v_tracker"] == "r-tp2"
    assert event.values["platform"] == "web"
    assert event.values["event_name"] == "uri_redirect"
    assert event.unstruct_event == {
        "schema": "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
        "data": {"uri": "https://example.com/x"},
    }


def test_redirect_with_event_prepends_context(ctx: EnrichContext) -> None:
    cx = encode_base64url(contexts({"schema": WEB_PAGE, "data": {"id": PAGE_ID}}))
    event = one_event(ctx, get(f"u=http%3A%2F%2Fx.example&e=pv&cx={cx}", "/r/tp2"))
    assert [c["schema"].split("/")[1] for c in event.contexts] == ["uri_redirect", "web_page"]


def test_redirect_without_u(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("e=pv", "/r/tp2"), "tracker_protocol_violations")
    assert "`u`" in data["failure"]["messages"][0]["expectation"]


def test_iglu_webhook_get(ctx: EnrichContext) -> None:
    schema = "iglu%3Acom.acme%2Fcheckout%2Fjsonschema%2F1-0-0"
    payload = get(f"schema={schema}&step=3&aid=shop", "/com.snowplowanalytics.iglu/v1")
    # GET values are strings: "3" is not an integer, so the checkout schema refuses it.
    data = one_bad(ctx, payload, "schema_violations")
    assert data["failure"]["messages"][0]["schemaKey"] == "iglu:com.acme/checkout/jsonschema/1-0-0"


def test_iglu_webhook_json_body(ctx: EnrichContext) -> None:
    body = json.dumps({"schema": "iglu:com.acme/checkout/jsonschema/1-0-0", "data": {"step": 2}})
    payload = payload_from_request(
        "POST",
        "/com.snowplowanalytics.iglu/v1",
        "aid=shop",
        {"Content-Type": "application/json"},
        body,
    )
    event = one_event(ctx, payload)
    assert event.values["v_tracker"] == "com.snowplowanalytics.iglu-v1"
    assert event.values["platform"] == "app"
    assert event.values["app_id"] == "shop"
    assert event.unstruct_event == {
        "schema": "iglu:com.acme/checkout/jsonschema/1-0-0",
        "data": {"step": 2},
    }


def test_iglu_webhook_failures(ctx: EnrichContext) -> None:
    data = one_bad(ctx, get("", "/com.snowplowanalytics.iglu/v1"), "adapter_failures")
    assert data["failure"]["messages"][0]["field"] == "schema"
    data = one_bad(ctx, get("schema=nope", "/com.snowplowanalytics.iglu/v1"), "adapter_failures")
    assert data["failure"]["messages"][0]["value"] == "nope"


def test_statusgator_webhook(ctx: EnrichContext) -> None:
    body = "service_name=Amazon+Web+Services&current_status=warn&last_status=up&favicon_url="
    payload = payload_from_request(
        "POST", "/com.statusgator/v1", "",
        {"Content-Type": "application/x-www-form-urlencoded"}, body,
    )  # fmt: skip
    event = one_event(ctx, payload)
    assert event.values["platform"] == "srv"
    assert event.unstruct_event == {
        "schema": "iglu:com.statusgator/status_change/jsonschema/1-0-0",
        "data": {"serviceName": "Amazon Web Services", "currentStatus": "warn",
                 "lastStatus": "up", "faviconUrl": ""},
    }  # fmt: skip


def test_statusgator_needs_form_body(ctx: EnrichContext) -> None:
    payload = payload_from_request("POST", "/com.statusgator/v1", "", JSON_CT, "{}")
    one_bad(ctx, payload, "adapter_failures")
    one_bad(ctx, get("a=1", "/com.statusgator/v1"), "adapter_failures")
