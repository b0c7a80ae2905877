"""HubSpot ``/com.hubspot/v1``, Marketo ``/com.marketo/v1`` and CallRail ``/com.callrail/v1``
(enrich HubSpotAdapter.scala, MarketoAdapter.scala, CallrailAdapter.scala and their specs)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

JSON = "application/json"
HUBSPOT = "/com.hubspot/v1"
MARKETO = "/com.marketo/v1"
CALLRAIL = "/com.callrail/v1"
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# HubSpot's webhook example payload (developers.hubspot.com/docs/api/webhooks).
CREATION = {
    "eventId": 1, "subscriptionId": 25, "portalId": 33, "occurredAt": 1564113600000,
    "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": 123,
    "changeSource": "CRM", "changeFlag": "NEW", "appId": 54321,
}  # fmt: skip
CHANGE = {
    "eventId": 2, "subscriptionId": 26, "portalId": 33, "occurredAt": 1564113600000,
    "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 456,
    "changeSource": "CRM", "propertyName": "dealstage", "propertyValue": "closedwon",
    "appId": 54321,
}  # fmt: skip


def test_hubspot_documented_events(webhook: Webhook) -> None:
    created, changed = webhook.unstruct(HUBSPOT, json.dumps([CREATION, CHANGE]), JSON)
    expected = {k: v for k, v in CREATION.items() if k != "subscriptionType"}
    expected["occurredAt"] = "2019-07-26T04:00:00.000Z"
    assert created == {"schema": "iglu:com.hubspot/contact_creation/jsonschema/1-0-0",
                       "data": expected}  # fmt: skip
    assert changed["schema"] == "iglu:com.hubspot/deal_change/jsonschema/1-0-0"


def test_hubspot_failures(webhook: Webhook) -> None:
    assert webhook.failure(HUBSPOT, "{}", JSON)[0]["expectation"] == "not a json array"
    assert webhook.failure(HUBSPOT, None, JSON)[0]["expectation"] == (
        "empty body: not events to process"
    )
    (mapping,) = webhook.failure(HUBSPOT, '[{"subscriptionType": "x.y"}]', JSON)
    assert mapping["actual"] == "x.y"


# The webhook payload of MarketoAdapterSpec (Marketo's webhook tokens rendered as JSON,
# docs.marketo.com "Create a Webhook").
MARKETO_EVENT = {
    "name": "webhook for A", "step": 6,
    "campaign": {"id": 160, "name": "avdvds"},
    "company": {"name": "iron man", "notes": "the something dog leapt over the lazy fox"},
    "lead": {"acquisition_date": "2010-11-11 11:11:11", "black_listed": False,
             "first_name": "the hulk", "updated_at": "2018-06-16 11:23:58",
             "created_at": "2018-06-16 11:23:58",
             "last_interesting_moment_date": "2018-09-26 20:26:40"},
    "program": {"id": "staging", "name": "iron man"},
    "datetime": "2018-03-07 14:28:16",
}  # fmt: skip


def test_marketo_documented_event(webhook: Webhook) -> None:
    event = {**MARKETO_EVENT, "program": {"id": 1, "name": "iron man"}}
    (ue,) = webhook.unstruct(MARKETO, json.dumps(event), JSON)
    assert ue["schema"] == "iglu:com.marketo/event/jsonschema/2-0-0"
    assert ue["data"]["datetime"] == "2018-03-07T14:28:16.000Z"
    assert ue["data"]["lead"]["acquisition_date"] == "2010-11-11T11:11:11.000Z"
    assert ue["data"]["lead"]["first_name"] == "the hulk"


def test_marketo_failures(webhook: Webhook) -> None:
    assert webhook.failure(MARKETO, "[]", JSON)[0]["expectation"] == "not a json object"
    assert "error" in webhook.failure(MARKETO, "{", JSON)[0]
    # The spec's own payload ("program.id" a string) is a schema violation, as in enrich.
    results = webhook.run(MARKETO, json.dumps(MARKETO_EVENT), JSON)
    assert [r.kind for r in results] == ["schema_violations"]  # type: ignore[union-attr]


# CallRail's post-call webhook querystring (CallrailAdapterSpec).
CALL = {
    "answered": "true", "callercity": "Ottawa", "callercountry": "CA", "callername": "W W",
    "callernum": "+12345678900", "callerstate": "ON", "callerzip": "A1A1A1",
    "callsource": "keyword", "datetime": "2014-10-09 16:23:45", "destinationnum": "2015551212",
    "duration": "247", "first_call": "true", "ga": "", "gclid": "", "id": "201235151",
    "ip": "86.178.183.7", "keywords": "", "kissmetrics_id": "",
    "landingpage": "http://lndpage.com/",
    "recording": "http://app.callrail.com/calls/201235151/recording/9f59ad59ba1cfa264312",
    "referrer": "direct", "referrermedium": "Direct", "trackingnum": "+12345678901",
    "transcription": "", "utm_campaign": "", "utm_content": "", "utm_medium": "",
    "utm_source": "", "utm_term": "", "utma": "", "utmb": "", "utmc": "", "utmv": "", "utmx": "",
    "utmz": "",
}  # fmt: skip


def test_callrail_documented_call(webhook: Webhook) -> None:
    (event,) = webhook.events(CALLRAIL, None, None, urlencode({**CALL, "aid": "bnb", "cv": "x"}))
    assert event.values["app_id"] == "bnb"
    assert event.values["v_tracker"] == "com.callrail-v1"
    assert event.unstruct_event is not None
    data = event.unstruct_event["data"]
    assert event.unstruct_event["schema"] == "iglu:com.callrail/call_complete/jsonschema/1-0-2"
    assert (data["answered"], data["first_call"], data["duration"]) == (True, True, 247)
    assert data["datetime"] == "2014-10-09T16:23:45.000Z"
    assert data["ga"] is None
    assert "aid" not in data


def test_callrail_empty_querystring(webhook: Webhook) -> None:
    assert webhook.failure(CALLRAIL, None, None, "") == [
        {"field": "querystring", "value": None, "expectation": "empty querystring"}
    ]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6)
    | st.sampled_from(["contact.creation", "2018-03-07 14:28:16", "1564113600000"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
        ["subscriptionType", "occurredAt", "name", "datetime", "lead", "created_at"]), c,
        max_size=4),
    max_leaves=10,
)  # fmt: skip


@SETTINGS
@given(body=st.one_of(st.text(max_size=40), JSONISH.map(json.dumps)),
       path=st.sampled_from([HUBSPOT, MARKETO]))  # fmt: skip
def test_json_malformed_never_crash(webhook: Webhook, body: str, path: str) -> None:
    never_crashes(webhook, path, body, JSON)


@SETTINGS
@given(params=st.dictionaries(st.sampled_from(["answered", "duration", "datetime", "id", "p"]),
                              st.text(max_size=12), max_size=5))  # fmt: skip
def test_callrail_malformed_never_crash(webhook: Webhook, params: dict[str, str]) -> None:
    never_crashes(webhook, CALLRAIL, None, None, urlencode(params))
