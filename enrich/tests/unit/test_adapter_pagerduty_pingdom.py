"""PagerDuty ``/com.pagerduty/v1`` and Pingdom ``/com.pingdom/v1`` (enrich PagerdutyAdapter.scala,
PingdomAdapter.scala and their specs)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PAGERDUTY = "/com.pagerduty/v1"
PINGDOM = "/com.pingdom/v1"
JSON = "application/json"

# A PagerDuty v1 webhook "incident.trigger" message as PagerDuty documented it
# (v1 webhooks, developer.pagerduty.com) and PagerdutyAdapterSpec sends it.
USER = {"id": "P9L426X", "name": "Yali Sassoon", "email": "yali@snowplowanalytics.com",
        "html_url": "https://snowplow.pagerduty.com/users/P9L426X"}  # fmt: skip
TRIGGER = {
    "type": "incident.trigger",
    "data": {"incident": {
        "id": "P9WY9U9", "incident_number": 139, "created_on": "2014-11-12T18:53:47 00:00",
        "status": "triggered", "html_url": "https://snowplow.pagerduty.com/incidents/P9WY9U9",
        "incident_key": "srv01/HTTP",
        "service": {"id": "PTHO4FF", "name": "Webhooks Test",
                    "html_url": "https://snowplow.pagerduty.com/services/PTHO4FF",
                    "deleted_at": None},
        "escalation_policy": {"id": "P8ETVHU", "name": "Default", "deleted_at": None},
        "assigned_to_user": USER,
        "trigger_summary_data": {"subject": "45645"},
        "trigger_details_html_url":
            "https://snowplow.pagerduty.com/incidents/P9WY9U9/log_entries/P5AWPTR",
        "trigger_type": "trigger_svc_event", "last_status_change_on": "2014-11-12T18:53:47Z",
        "last_status_change_by": "null", "number_of_escalations": 0,
        "assigned_to": [{"at": "2014-11-12T18:53:47Z", "object": {**USER, "type": "user"}}],
    }},
    "id": "3c3e8ee0-6a9d-11e4-b3d5-22000ae31361",
    "created_on": "2014-11-12T18:53:47Z",
}  # fmt: skip


def test_pagerduty_documented_trigger(webhook: Webhook) -> None:
    (ue,) = webhook.unstruct(PAGERDUTY, json.dumps({"messages": [TRIGGER]}), JSON)
    assert ue["schema"] == "iglu:com.pagerduty/incident/jsonschema/1-0-0"
    data = ue["data"]
    assert data["type"] == "trigger"
    incident = data["data"]["incident"]
    assert incident["created_on"] == "2014-11-12T18:53:47+00:00"
    assert incident["last_status_change_by"] is None
    assert incident["assigned_to"] == TRIGGER["data"]["incident"]["assigned_to"]  # type: ignore[index]


def test_pagerduty_failures(webhook: Webhook) -> None:
    assert webhook.failure(PAGERDUTY, "{}", JSON)[0]["expectation"] == (
        "field `messages` is not an array"
    )
    (mapping,) = webhook.failure(PAGERDUTY, json.dumps({"messages": [{"type": "x"}]}), JSON)
    assert (
        mapping["expectation"] == "no schema associated with the provided type parameter at index 0"
    )
    assert "error" in webhook.failure(PAGERDUTY, "{", JSON)[0]
    assert webhook.failure(PAGERDUTY, "{}", "application/json; charset=utf-8")[0]["field"] == (
        "contentType"
    )


def test_pingdom_documented_assign(webhook: Webhook) -> None:
    # Pingdom's alert webhook (the incident_assign example of PingdomAdapterSpec).
    message = {"check": "1421338", "checkname": "Webhooks_Test", "host": "7eef51c2.ngrok.com",
               "action": "assign", "incidentid": 3}  # fmt: skip
    query = "p=app&message=" + quote(json.dumps(message))
    (event,) = webhook.events(PINGDOM, None, None, query)
    assert event.values["platform"] == "app"
    assert event.unstruct_event == {
        "schema": "iglu:com.pingdom/incident_assign/jsonschema/1-0-0",
        "data": {k: v for k, v in message.items() if k != "action"},
    }


def test_pingdom_failures(webhook: Webhook) -> None:
    assert webhook.failure(PINGDOM, None, None, "")[0]["expectation"] == (
        "empty querystring: no events to process"
    )
    assert webhook.failure(PINGDOM, None, None, "a=1")[0] == {
        "field": "querystring", "value": "a=1", "expectation": "no `message` parameter provided",
    }  # fmt: skip
    wrapped = webhook.failure(PINGDOM, None, None, "p=" + quote("(u'app',)"))[0]
    assert (wrapped["field"], wrapped["value"]) == ("p", "app")
    assert webhook.failure(PINGDOM, None, None, "message=%7B")[0]["field"] == "message"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.text(max_size=40),
                      st.lists(st.dictionaries(st.sampled_from(["type", "data", "created_on"]),
                                               st.sampled_from(["incident.trigger", "null", 1,
                                                                "2014-11-12T18:53:47 00:00"]),
                                               max_size=3), max_size=3)
                      .map(lambda m: json.dumps({"messages": m}))))  # fmt: skip
def test_pagerduty_malformed_never_crash(webhook: Webhook, body: str) -> None:
    never_crashes(webhook, PAGERDUTY, body, JSON)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.sampled_from(["message", "p", "aid", "x"]),
                              st.one_of(st.text(max_size=20), st.sampled_from([
                                  '{"action":"assign"}', '{"action":"x"}', "(u'a',)", "[]"])),
                              max_size=3))  # fmt: skip
def test_pingdom_malformed_never_crash(webhook: Webhook, params: dict[str, str]) -> None:
    never_crashes(webhook, PINGDOM, None, None, urlencode(params))
