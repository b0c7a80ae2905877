"""Mandrill webhook ``/com.mandrill/v1`` (enrich MandrillAdapter.scala, MandrillAdapterSpec)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.mandrill/v1"
FORM = "application/x-www-form-urlencoded"

# The "send" sample Mandrill's webhook test sends (mailchimp.com/developer/transactional/docs/
# webhooks/), as in MandrillAdapterSpec.
SEND = {
    "event": "send",
    "msg": {
        "ts": 1365109999, "subject": "This an example webhook message",
        "email": "example.webhook@mandrillapp.com", "sender": "example.sender@mandrillapp.com",
        "tags": ["webhook-example"], "opens": [], "clicks": [], "state": "sent",
        "metadata": {"user_id": 111}, "_id": "exampleaaaaaaaaaaaaaaaaaaaaaaaaa",
        "_version": "exampleaaaaaaaaaaaaaaa",
    },
    "_id": "exampleaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ts": 1415267366,
}  # fmt: skip


def body(events: object) -> str:
    return urlencode({"mandrill_events": json.dumps(events)})


def test_documented_send_and_unsub(webhook: Webhook) -> None:
    unsub = {**SEND, "event": "unsub"}
    unsub["msg"] = {k: v for k, v in SEND["msg"].items()  # type: ignore[attr-defined]
                    if k not in ("_version",)}  # fmt: skip
    sent, unsubscribed = webhook.unstruct(PATH, body([SEND, unsub]), FORM)
    assert sent == {
        "schema": "iglu:com.mandrill/message_sent/jsonschema/1-0-0",
        "data": {
            "msg": {**SEND["msg"], "ts": "2013-04-04T21:13:19.000Z"},  # type: ignore[dict-item]
            "_id": "exampleaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ts": "2014-11-06T09:49:26.000Z",
        },
    }
    assert unsubscribed["schema"] == "iglu:com.mandrill/recipient_unsubscribed/jsonschema/1-0-1"


def test_form_shape_failures(webhook: Webhook) -> None:
    assert webhook.failure(PATH, "a=1&b=2", FORM)[0]["expectation"] == (
        "body should have size 1: actual size 2"
    )
    assert webhook.failure(PATH, "a=1", FORM)[0]["expectation"] == (
        "no `mandrill_events` parameter provided"
    )
    assert webhook.failure(PATH, "mandrill_events=", FORM)[0]["expectation"] == (
        "`mandrill_events` field is empty"
    )
    assert webhook.failure(PATH, "mandrill_events=%7B", FORM)[0]["field"] == "mandril_events"
    assert webhook.failure(PATH, "mandrill_events=1", FORM)[0]["expectation"] == "not a json array"
    (mapping,) = webhook.failure(PATH, body([{"event": "x"}]), FORM)
    assert mapping["actual"] == "x"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.one_of(
        st.text(max_size=30),
        st.lists(st.fixed_dictionaries(
            {"event": st.sampled_from(["send", "open", "click", "spam", "", "?"])},
            optional={"ts": st.one_of(st.integers(), st.text(max_size=5), st.none()),
                      "msg": st.dictionaries(st.sampled_from(["ts", "email"]),
                                             st.integers() | st.text(max_size=4))}),
            max_size=3).map(json.dumps),
    ),
    extra=st.sampled_from(["", "&x=1", "&mandrill_events=2"]),
)  # fmt: skip
def test_malformed_bodies_never_crash(webhook: Webhook, events: str, extra: str) -> None:
    never_crashes(webhook, PATH, urlencode({"mandrill_events": events}) + extra, FORM)
