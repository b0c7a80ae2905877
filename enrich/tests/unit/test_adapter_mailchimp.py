"""Mailchimp webhook ``/com.mailchimp/v1`` (enrich MailchimpAdapter.scala, MailchimpAdapterSpec)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.mailchimp/v1"
FORM = "application/x-www-form-urlencoded"

# The subscribe example of Mailchimp's webhook documentation
# (mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks/).
SUBSCRIBE = {
    "type": "subscribe",
    "fired_at": "2009-03-26 21:35:57",
    "data[id]": "8a25ff1d98",
    "data[list_id]": "a6b5da1054",
    "data[email]": "api@mailchimp.com",
    "data[email_type]": "html",
    "data[merges][EMAIL]": "api@mailchimp.com",
    "data[merges][FNAME]": "Mailchimp",
    "data[merges][LNAME]": "API",
    "data[merges][INTERESTS]": "Group1,Group2",
    "data[ip_opt]": "10.20.10.30",
    "data[ip_signup]": "10.20.10.30",
}


def test_documented_subscribe(webhook: Webhook) -> None:
    (event,) = webhook.events(PATH, urlencode(SUBSCRIBE), FORM, "aid=shop")
    assert event.values["platform"] == "srv"
    assert event.values["app_id"] == "shop"
    assert event.values["v_tracker"] == "com.mailchimp-v1"
    assert event.unstruct_event == {
        "schema": "iglu:com.mailchimp/subscribe/jsonschema/1-0-0",
        "data": {
            "type": "subscribe",
            "fired_at": "2009-03-26T21:35:57.000Z",
            "data": {
                "id": "8a25ff1d98", "list_id": "a6b5da1054", "email": "api@mailchimp.com",
                "email_type": "html", "ip_opt": "10.20.10.30", "ip_signup": "10.20.10.30",
                "merges": {"EMAIL": "api@mailchimp.com", "FNAME": "Mailchimp", "LNAME": "API",
                           "INTERESTS": "Group1,Group2"},
            },
        },
    }  # fmt: skip


def test_every_type_has_its_schema(webhook: Webhook) -> None:
    # The upemail example of MailchimpAdapterSpec.
    body = urlencode({
        "type": "upemail", "fired_at": "2014-10-22 13:10:40", "data[new_id]": "8ccce9a9e8",
        "data[new_email]": "new@example.com", "data[old_email]": "old@example.com",
        "data[list_id]": "f1243a3b12",
    })  # fmt: skip
    (ue,) = webhook.unstruct(PATH, body, FORM)
    assert ue["schema"] == "iglu:com.mailchimp/email_address_change/jsonschema/1-0-0"
    assert ue["data"]["data"]["new_email"] == "new@example.com"


def test_unknown_type_is_a_schema_mapping_failure(webhook: Webhook) -> None:
    (message,) = webhook.failure(PATH, "type=bogus", FORM)
    assert message["actual"] == "bogus"
    assert message["expectation"] == "no schema associated with the provided type parameter"
    assert message["expectedMapping"]["campaign"].startswith("iglu:com.mailchimp/campaign_sending")


def test_missing_type_content_type_or_body(webhook: Webhook) -> None:
    assert webhook.failure(PATH, "fired_at=x", FORM)[0]["expectation"].startswith("no `type`")
    assert webhook.failure(PATH, "type=subscribe", "application/json")[0] == {
        "field": "contentType", "value": "application/json",
        "expectation": "expected application/x-www-form-urlencoded",
    }  # fmt: skip
    assert webhook.failure(PATH, "type=subscribe", None)[0]["field"] == "contentType"
    assert webhook.failure(PATH, None, FORM)[0]["field"] == "body"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(st.text(max_size=80),
                   st.lists(st.sampled_from(["type=subscribe", "type=", "fired_at=2014-13-99",
                                             "data[merges]=1", "data[merges][A]=2", "[]=",
                                             "data]]=3", "%zz", "type=campaign", ";", "&"]),
                            max_size=6).map("&".join)),
    content_type=st.sampled_from([FORM, None, "text/plain"]),
)  # fmt: skip
def test_malformed_bodies_never_crash(
    webhook: Webhook, body: str, content_type: str | None
) -> None:
    never_crashes(webhook, PATH, body, content_type)


# The other examples of Mailchimp's webhook documentation, one per event type.
DOCUMENTED = [
    ("unsubscribe", {"type": "unsubscribe", "fired_at": "2009-03-26 21:40:57",
                     "data[action]": "unsub", "data[reason]": "manual", "data[id]": "8a25ff1d98",
                     "data[list_id]": "a6b5da1054", "data[email]": "api+unsub@mailchimp.com",
                     "data[email_type]": "html", "data[merges][EMAIL]": "api+unsub@mailchimp.com",
                     "data[merges][FNAME]": "Mailchimp", "data[merges][LNAME]": "API",
                     "data[merges][INTERESTS]": "Group1,Group2", "data[ip_opt]": "10.20.10.30",
                     "data[campaign_id]": "cb398d21d2"}),
    ("profile_update", {"type": "profile", "fired_at": "2009-03-26 21:31:21",
                        "data[id]": "8a25ff1d98", "data[list_id]": "a6b5da1054",
                        "data[email]": "api@mailchimp.com", "data[email_type]": "html",
                        "data[merges][EMAIL]": "api@mailchimp.com",
                        "data[merges][FNAME]": "Mailchimp", "data[merges][LNAME]": "API",
                        "data[merges][INTERESTS]": "Group1,Group2",
                        "data[ip_opt]": "10.20.10.30"}),
    ("email_address_change", {"type": "upemail", "fired_at": "2009-03-26 22:15:09",
                              "data[list_id]": "a6b5da1054", "data[new_id]": "51da8c3259",
                              "data[new_email]": "api+new@mailchimp.com",
                              "data[old_email]": "api+old@mailchimp.com"}),
    ("cleaned_email", {"type": "cleaned", "fired_at": "2009-03-26 22:01:00",
                       "data[list_id]": "a6b5da1054", "data[campaign_id]": "4fjk2ma9xd",
                       "data[reason]": "hard", "data[email]": "api+cleaned@mailchimp.com"}),
    ("campaign_sending_status", {"type": "campaign", "fired_at": "2009-03-26 21:31:21",
                                 "data[id]": "5aa2102003", "data[subject]": "Test Subject",
                                 "data[status]": "sent", "data[reason]": "",
                                 "data[list_id]": "a6b5da1054"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "form"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_documented_examples_of_every_type(
    webhook: Webhook, name: str, form: dict[str, str]
) -> None:
    (ue,) = webhook.unstruct(PATH, urlencode(form), FORM)
    assert ue["schema"] == f"iglu:com.mailchimp/{name}/jsonschema/1-0-0"
    assert ue["data"]["fired_at"].endswith(".000Z")
    assert ue["data"]["type"] == form["type"]
