"""SendGrid Event Webhook ``/com.sendgrid/v3`` (enrich SendgridAdapter.scala and its spec)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.sendgrid/v3"
JSON = "application/json"

# The processed event of SendgridAdapterSpec (the shape of SendGrid's Event Webhook reference,
# docs.sendgrid.com/for-developers/tracking-events/event).
PROCESSED = {
    "email": "example@test.com",
    "timestamp": 1446549615,
    "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
    "event": "processed",
    "category": "cat facts",
    "sg_event_id": "sZROwMGMagFgnOEmSdvhig==",
    "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    "marketing_campaign_id": 12345,
    "marketing_campaign_name": "campaign name",
    "marketing_campaign_version": "B",
    "marketing_campaign_split_id": 13471,
}
OPEN = {
    "email": "example@test.com", "timestamp": 1446549615, "event": "open",
    "sg_event_id": "FOTFFO0ecsBE-zxFXfs6WA==", "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001",
    "useragent": "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322)",
    "ip": "255.255.255.255", "category": ["cat facts"],
}  # fmt: skip


def test_documented_processed_and_open(webhook: Webhook) -> None:
    body = json.dumps([PROCESSED, OPEN])
    first, second = webhook.events(PATH, body, JSON, "aid=mail")
    assert first.values["v_tracker"] == "com.sendgrid-v3"
    assert first.values["platform"] == "srv"
    assert first.values["app_id"] == "mail"
    expected = {k: v for k, v in PROCESSED.items() if k != "event"}
    expected["timestamp"] = "2015-11-03T11:20:15.000Z"
    assert first.unstruct_event == {
        "schema": "iglu:com.sendgrid/processed/jsonschema/3-0-0", "data": expected,
    }  # fmt: skip
    assert second.unstruct_event is not None
    assert second.unstruct_event["schema"] == "iglu:com.sendgrid/open/jsonschema/3-0-0"
    assert "event" not in second.unstruct_event["data"]


def test_one_bad_item_fails_the_whole_body(webhook: Webhook) -> None:
    messages = webhook.failure(PATH, json.dumps([PROCESSED, {"event": "nope"}, {}]), JSON)
    assert [m["expectation"] for m in messages] == [
        "no schema associated with the provided type parameter at index 1",
        "cannot determine event type: type parameter not provided at index 2",
    ]


def test_not_json_not_array_wrong_type(webhook: Webhook) -> None:
    assert webhook.failure(PATH, "[", JSON)[0]["field"] == "body"
    assert "error" in webhook.failure(PATH, "[", JSON)[0]
    assert webhook.failure(PATH, "{}", JSON)[0]["expectation"] == "body is not a json array"
    assert webhook.failure(PATH, "[]", JSON)[0]["expectation"] == "empty list of events"
    assert webhook.failure(PATH, "[]", "text/plain")[0]["field"] == "contentType"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["processed", "open", "click", "bounce"]),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["event", "timestamp", "email", "url", "x"]), c, max_size=4),
    max_leaves=10,
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.text(max_size=40), JSON_VALUES.map(json.dumps)),
       content_type=st.sampled_from([JSON, "application/json; charset=utf-8", None]))  # fmt: skip
def test_malformed_bodies_never_crash(
    webhook: Webhook, body: str, content_type: str | None
) -> None:
    never_crashes(webhook, PATH, body, content_type)


# The example array of SendGrid's Event Webhook reference, one event of each type. Its
# placeholder "sg_event_id" is shorter than the com.sendgrid schemas allow (minLength 22), so
# the ids here are real-looking ones.
def _docs_event(event: str, **extra: object) -> dict[str, object]:
    return {
        "email": "example@test.com", "timestamp": 1513299569,
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "event": event,
        "category": "cat facts", "sg_event_id": "rbtnWrG1DVDGGGFHFyun0A==",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000",
        **extra,
    }  # fmt: skip


UA = "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)"
DOCS = [
    _docs_event("processed"),
    _docs_event("deferred", response="400 try again later", attempt="5"),
    _docs_event("delivered", response="250 OK"),
    _docs_event("open", useragent=UA, ip="255.255.255.255"),
    _docs_event("click", useragent=UA, ip="255.255.255.255", url="http://www.sendgrid.com/"),
    _docs_event("bounce", reason="500 unknown recipient", status="5.0.0"),
    _docs_event("dropped", reason="Bounced Address", status="5.0.0"),
    _docs_event("spamreport"),
    _docs_event("unsubscribe"),
    _docs_event("group_unsubscribe", useragent=UA, ip="255.255.255.255",
                url="http://www.sendgrid.com/", asm_group_id=10),
    _docs_event("group_resubscribe", useragent=UA, ip="255.255.255.255",
                url="http://www.sendgrid.com/", asm_group_id=10),
]  # fmt: skip


def test_documented_example_array_every_event_type(webhook: Webhook) -> None:
    unstruct = webhook.unstruct(PATH, json.dumps(DOCS), JSON)
    assert [ue["schema"] for ue in unstruct] == [
        f"iglu:com.sendgrid/{e['event']}/jsonschema/3-0-0" for e in DOCS
    ]
    assert all(ue["data"]["timestamp"] == "2017-12-15T00:59:29.000Z" for ue in unstruct)
    assert unstruct[9]["data"]["asm_group_id"] == 10
