"""Olark ``/com.olark/v1``, Unbounce ``/com.unbounce/v1`` and Vero ``/com.getvero/v1``
(enrich OlarkAdapter.scala, UnbounceAdapter.scala, VeroAdapter.scala and their specs)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
OLARK = "/com.olark/v1"
UNBOUNCE = "/com.unbounce/v1"
VERO = "/com.getvero/v1"
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Olark's transcript webhook example (olark.com/help/webhooks), as OlarkAdapterSpec sends it.
TRANSCRIPT = {
    "kind": "Conversation",
    "tags": ["olark", "customer"],
    "items": [
        {"body": "Hi there. Need any help?", "timestamp": "1307116657.1",
         "kind": "MessageToVisitor", "nickname": "John", "operatorId": "1234"},
        {"body": "Yes, please help me with billing.", "timestamp": "1307116661.25",
         "kind": "MessageToOperator", "nickname": "Bob"},
    ],
    "visitor": {"city": "San Francisco", "kind": "Visitor", "organization": "Visitor Organization",
                "conversationBeginPage": "http://www.example.com/path", "countryCode": "US",
                "referrer": "http://www.google.com", "ip": "127.0.0.1", "region": "CA",
                "chat_feedback": {"overall_chat": 4, "responsiveness": 5, "friendliness": 5,
                                  "knowledge": 4},
                "operatingSystem": "Windows", "emailAddress": "bob@example.com",
                "country": "United States", "phoneNumber": "(555) 555-5555",
                "fullName": "Bob Doe", "id": "NOTAREALVISITORIDS5LGl6QUrK2OaPP",
                "browser": "Internet Explorer 11"},
    "operators": {"1234": {"username": "jdoe", "emailAddress": "john@example.com",
                           "kind": "Operator", "nickname": "John", "id": "1234"}},
    "groups": [{"kind": "Group", "name": "My Sales Group", "id": "0123456789abcdef"}],
    "id": "NOTAREALTRANSCRIPT5LGcbVTa3hKBRB",
    "manuallySubmitted": False,
}  # fmt: skip


def test_olark_documented_transcript(webhook: Webhook) -> None:
    (ue,) = webhook.unstruct(OLARK, urlencode({"data": json.dumps(TRANSCRIPT)}), FORM)
    assert ue["schema"] == "iglu:com.olark/transcript/jsonschema/1-0-0"
    data = ue["data"]
    assert [i["timestamp"] for i in data["items"]] == [
        "2011-06-03T15:57:37.100Z", "2011-06-03T15:57:41.250Z",
    ]  # fmt: skip
    assert data["visitor"]["chatFeedback"] == {
        "overallChat": 4, "responsiveness": 5, "friendliness": 5, "knowledge": 4,
    }  # fmt: skip
    offline = {k: v for k, v in TRANSCRIPT.items() if k in ("kind", "id", "groups")}
    offline["items"] = [{"kind": "OfflineMessage", "timestamp": "1307116667.6", "body": "Hi"}]
    offline["visitor"] = {"fullName": "Bob Doe", "kind": "Visitor", "id": "x"}
    (ue,) = webhook.unstruct(OLARK, urlencode({"data": json.dumps(offline)}), FORM)
    assert ue["schema"] == "iglu:com.olark/offline_message/jsonschema/1-0-0"


def test_olark_failures(webhook: Webhook) -> None:
    assert webhook.failure(OLARK, "a=1", FORM)[0] == {
        "field": "data", "value": None, "expectation": "missing 'data' field",
    }  # fmt: skip
    assert webhook.failure(OLARK, "data=%7B", FORM)[0]["field"] == "data"
    bad_ts = urlencode({"data": json.dumps({"items": [{"timestamp": "1.2.3"}]})})
    assert webhook.failure(OLARK, bad_ts, FORM)[0]["expectation"] == "unexpected timestamp format"
    assert webhook.failure(OLARK, "data=1", "text/plain")[0] == {
        "field": "contentType", "value": None, "expectation": f"expected {FORM}",
    }  # fmt: skip


# Unbounce's form webhook (documentation.unbounce.com, "webhooks"), as UnbounceAdapterSpec
# sends it.
UNBOUNCE_FORM = {
    "page_id": "f7afd389-65a3-45fa-8bad-b7a42236044c",
    "page_name": "Test-Webhook",
    "variant": "a",
    "page_url": "http://unbouncepages.com/test-webhook-1",
    "data.json": json.dumps({
        "userfield1": ["asdfasdfasdfasd"], "name": ["Test Name"],
        "email": ["test@snowplowanalytics.com"], "company_name": ["Test Company"],
        "ip_address": ["79.92.101.39"], "page_uuid": ["f7afd389-65a3-45fa-8bad-b7a42236044c"],
        "variant": ["a"], "time_submitted": ["10:44 AM UTC"], "date_submitted": ["2017-11-15"],
    }),
    "data.xml": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><form_data></form_data>",
}  # fmt: skip


def test_unbounce_documented_form_post(webhook: Webhook) -> None:
    (ue,) = webhook.unstruct(UNBOUNCE, urlencode(UNBOUNCE_FORM), FORM)
    assert ue["schema"] == "iglu:com.unbounce/form_post/jsonschema/1-0-0"
    data = ue["data"]
    assert set(data) == {"pageId", "pageName", "variant", "pageUrl", "data.json"}
    assert data["data.json"]["companyName"] == ["Test Company"]
    assert data["pageUrl"] == "http://unbouncepages.com/test-webhook-1"


def test_unbounce_failures(webhook: Webhook) -> None:
    missing = {k: v for k, v in UNBOUNCE_FORM.items() if k != "variant"}
    assert webhook.failure(UNBOUNCE, urlencode(missing), FORM)[0]["expectation"] == (
        "missing 'variant' field in body"
    )
    empty = {**UNBOUNCE_FORM, "data.json": ""}
    assert webhook.failure(UNBOUNCE, urlencode(empty), FORM)[0]["expectation"] == (
        "empty 'data.json' field in body"
    )
    assert webhook.failure(UNBOUNCE, "page_id=a b", FORM)[0]["expectation"].startswith(
        "could not parse body"
    )


# Vero's webhook "sent" example (developers.getvero.com, webhooks), ids as strings as the
# com.getvero schemas type them.
SENT = {
    "sent_at": 1435016238, "type": "sent",
    "user": {"id": "123", "email": "steve@getvero.com"},
    "campaign": {"id": "987", "type": "transactional", "name": "Order confirmation",
                 "subject": "Your order is being processed!", "trigger-event": "purchased item",
                 "permalink": "http://app.getvero.com/view/1/341d64944577ac1f70f560e37db54a25",
                 "variation": "Variation A"},
}  # fmt: skip


def test_vero_documented_sent_and_updated(webhook: Webhook) -> None:
    (ue,) = webhook.unstruct(VERO, json.dumps(SENT), JSON)
    expected = {k: v for k, v in SENT.items() if k != "type"}
    expected["sent_at"] = "2015-06-22T23:37:18.000Z"
    assert ue == {"schema": "iglu:com.getvero/sent/jsonschema/1-0-0", "data": expected}
    tags = {"add": ["active-customer"], "remove": ["unactive-180-days"]}
    updated = {"type": "user_updated", "user": {"id": "123", "email": "steve@getvero.com"},
               "changes": {"_tags": tags}}  # fmt: skip
    (ue,) = webhook.unstruct(VERO, json.dumps(updated), JSON)
    assert ue["schema"] == "iglu:com.getvero/updated/jsonschema/1-0-0"
    assert ue["data"]["changes"] == {"tags": tags}


def test_vero_failures(webhook: Webhook) -> None:
    assert webhook.failure(VERO, "{}", JSON)[0]["expectation"] == (
        "could not extract 'type': Attempt to decode value on failed cursor: DownField(type)"
    )
    assert webhook.failure(VERO, '{"type": "x"}', JSON)[0]["actual"] == "x"
    assert webhook.failure(VERO, "{", JSON)[0]["field"] == "body"
    assert webhook.failure(VERO, None, JSON)[0]["field"] == "body"


@SETTINGS
@given(body=st.one_of(st.text(max_size=40), st.dictionaries(
    st.sampled_from(["data", "page_id", "page_name", "variant", "page_url", "data.json", "x"]),
    st.one_of(st.text(max_size=10), st.sampled_from(['{"items":[{"timestamp":"1.5"}]}',
                                                      '{"operators":null}', "[]", "{"])),
    max_size=6).map(urlencode)), path=st.sampled_from([OLARK, UNBOUNCE]))  # fmt: skip
def test_forms_malformed_never_crash(webhook: Webhook, body: str, path: str) -> None:
    never_crashes(webhook, path, body, FORM)


@SETTINGS
@given(body=st.one_of(st.text(max_size=40), st.dictionaries(
    st.sampled_from(["type", "sent_at", "triggered_at", "_tags", "user"]),
    st.one_of(st.integers(), st.text(max_size=8), st.sampled_from(["sent", "user_updated"]),
              st.none()), max_size=4).map(json.dumps)))  # fmt: skip
def test_vero_malformed_never_crash(webhook: Webhook, body: str) -> None:
    never_crashes(webhook, VERO, body, JSON)
