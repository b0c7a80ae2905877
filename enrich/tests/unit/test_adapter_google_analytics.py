"""Google Analytics measurement protocol ``/com.google.analytics/v1`` (enrich
GoogleAnalyticsAdapter.scala and its spec) with the hits of Google's measurement-protocol
documentation (developers.google.com/analytics/devguides/collection/protocol/v1/devguide)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.google_analytics import break_down
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.google.analytics/v1"
FORM = "application/x-www-form-urlencoded"
MP = "iglu:com.google.analytics.measurement-protocol"


def contexts(event: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for entity in event.contexts or []:
        out.setdefault(entity["schema"], []).append(entity["data"])
    return out


def test_documented_page_view(webhook: Webhook) -> None:
    body = "v=1&tid=UA-XXXXX-Y&cid=555&t=pageview&dh=mydemo.com&dp=/home&dt=homepage"
    (event,) = webhook.events(PATH, body, FORM)
    assert event.values["v_tracker"] == "com.google.analytics.measurement-protocol-v1"
    assert event.values["platform"] == "srv"
    assert event.values["page_title"] == "homepage"
    assert event.unstruct_event == {
        "schema": f"{MP}/page_view/jsonschema/1-0-0",
        "data": {"documentHostName": "mydemo.com", "documentPath": "/home",
                 "documentTitle": "homepage"},
    }  # fmt: skip
    found = contexts(event)
    assert found[f"{MP}/general/jsonschema/1-0-0"] == [
        {"protocolVersion": "1", "trackingId": "UA-XXXXX-Y"}
    ]
    assert found[f"{MP}/user/jsonschema/1-0-0"] == [{"clientId": "555"}]
    assert found[f"{MP}/hit/jsonschema/1-0-0"] == [{"type": "pageview"}]
    assert f"{MP}/page_view/jsonschema/1-0-0" not in found


def test_documented_event_and_transaction(webhook: Webhook) -> None:
    body = ("v=1&tid=UA-XXXXX-Y&cid=555&t=event&ec=video&ea=play&el=holiday&ev=300\n"
            "v=1&tid=UA-XXXXX-Y&cid=555&t=transaction&ti=12345&ta=westernWear&tr=50.00"
            "&ts=32.00&tt=12.00&cu=EUR")  # fmt: skip
    event, transaction = webhook.events(PATH, body, FORM)
    assert event.unstruct_event == {
        "schema": f"{MP}/event/jsonschema/1-0-0",
        "data": {"category": "video", "action": "play", "label": "holiday", "value": 300},
    }  # fmt: skip
    assert transaction.unstruct_event is not None
    assert transaction.unstruct_event["data"] == {
        "id": "12345", "affiliation": "westernWear", "revenue": 50.0, "shipping": 32.0,
        "tax": 12.0, "currencyCode": "EUR",
    }  # fmt: skip
    assert transaction.values["tr_orderid"] == "12345"
    assert transaction.values["tr_currency"] == "EUR"


def test_documented_enhanced_ecommerce(webhook: Webhook) -> None:
    body = ("v=1&tid=UA-XXXXX-Y&cid=555&t=pageview&dh=mydemo.com&dp=/receipt&dt=Receipt%20Page"
            "&pa=purchase&pr1id=P12345&pr1nm=Android%20Warhol%20T-Shirt&pr1ca=Apparel"
            "&pr1br=Google&pr1va=Black&pr1ps=1&cd1=member&cm2=10")  # fmt: skip
    (event,) = webhook.events(PATH, body, FORM)
    found = contexts(event)
    assert found[f"{MP}/product/jsonschema/1-0-0"] == [{
        "index": 1, "sku": "P12345", "name": "Android Warhol T-Shirt", "category": "Apparel",
        "brand": "Google", "variant": "Black", "position": 1,
    }]  # fmt: skip
    assert found[f"{MP}/product_action/jsonschema/1-0-0"] == [{"productAction": "purchase"}]
    assert found[f"{MP}/custom_dimension/jsonschema/1-0-0"] == [{"index": 1, "value": "member"}]
    assert found[f"{MP}/custom_metric/jsonschema/1-0-0"] == [{"index": 2, "value": 10.0}]
    assert f"{MP}/product_custom_dimension/jsonschema/1-0-0" not in found


def test_break_down_composite_fields() -> None:
    assert break_down("pr12id", "v") == ({"IFpr": "12", "prid": "v"}, None)
    assert break_down("il1pi2nm", "v") == ({"IFilpi": "1", "IFpi": "2", "ilpinm": "v"}, None)
    assert break_down("pr1cd2", "v") == ({"IFprcd": "1", "IFcd": "2", "prcd": "v"}, None)
    assert break_down("x1", "v")[1] is not None


def test_failures(webhook: Webhook) -> None:
    assert webhook.failure(PATH, "v=1", FORM)[0]["expectation"] == (
        "no t parameter provided: cannot determine hit type"
    )
    messages = webhook.failure(PATH, "t=nope", FORM)
    assert messages[0] == {"field": "t", "value": "nope", "expectation": "no matching hit type"}
    assert messages[1]["actual"] == "nope"
    (bad_int,) = webhook.failure(PATH, "t=event&ec=a&ea=b&ev=x", FORM)
    assert bad_int == {"field": "value", "value": "x",
                       "expectation": "Cannot be converted to java.lang.Integer"}  # fmt: skip
    assert webhook.failure(PATH, "t=pageview&x9=1", FORM)[0]["field"] == "x9"
    assert webhook.failure(PATH, None, FORM)[0]["expectation"] == "empty body"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.lists(st.tuples(
    st.sampled_from(["t", "v", "tid", "cid", "ec", "ea", "ev", "pr1id", "pr2nm", "cd1", "cm1",
                     "il1pi1nm", "promo1id", "cg1", "aip", "qt", "tr", "cu", "_s", "z9"]),
    st.sampled_from(["pageview", "event", "item", "1", "0", "x", "", "1.5", "-3", "EUR"])),
    max_size=8))  # fmt: skip
def test_malformed_hits_never_crash(webhook: Webhook, params: list[tuple[str, str]]) -> None:
    never_crashes(webhook, PATH, "&".join(f"{k}={v}" for k, v in params), FORM)
