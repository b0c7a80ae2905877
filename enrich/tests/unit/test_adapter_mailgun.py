"""Mailgun webhook ``/com.mailgun/v1`` (enrich MailgunAdapter.scala and its specs)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.mailgun/v1"
FORM = "application/x-www-form-urlencoded"
TOKEN = "cd87f5a30002794e37aa49e67fb46990e578b1e9197773d817"
SIGNATURE = "c902ff9e3dea54c2dbe1871f9041653292ea9689d3d2b2d2ecfa996f025b9669"

# A legacy "delivered" webhook as Mailgun documents it (documentation.mailgun.com, legacy
# webhooks: form fields) and MailgunAdapterSpec sends it.
DELIVERED = {
    "domain": "sandbox57070072075d4cfd9008d4332108734c.mailgun.org",
    "my_var_1": "Mailgun Variable #1",
    "my-var-2": "awesome",
    "Message-Id": "<20160803232600.104285.68474.C6EB9AAA@sandbox57070072075d4cfd9008d4332108734c.mailgun.org>",  # noqa: E501
    "X-Mailgun-Sid": "WyIxZjQzMiIsICJhbGljZUBleGFtcGxlLmNvbSIsICI2ZmY4NiJd",
    "recipient": "alice@example.com",
    "event": "delivered",
    "timestamp": "1467743714",
    "token": TOKEN,
    "signature": SIGNATURE,
    "body-plain": "",
    "attachment-count": "2",
}


def test_documented_delivered_form(webhook: Webhook) -> None:
    (event,) = webhook.events(PATH, urlencode(DELIVERED), FORM)
    assert event.values["v_tracker"] == "com.mailgun-v1"
    assert event.unstruct_event == {
        "schema": "iglu:com.mailgun/message_delivered/jsonschema/1-0-0",
        "data": {
            "domain": DELIVERED["domain"], "myVar1": "Mailgun Variable #1", "myVar2": "awesome",
            "messageId": DELIVERED["Message-Id"], "xMailgunSid": DELIVERED["X-Mailgun-Sid"],
            "recipient": "alice@example.com", "timestamp": "2016-07-05T18:35:14.000Z",
            "token": TOKEN, "signature": SIGNATURE, "attachmentCount": 2,
        },
    }  # fmt: skip


def test_multipart_form(webhook: Webhook) -> None:
    boundary = "353d603f-eede-4b49-97ac-724fbc54ea3c"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in {"event": "opened", "recipient": "bob@example.com", "timestamp": "1467743714",
                     "token": TOKEN, "signature": SIGNATURE, "city": "Berlin"}.items()
    ) + f"--{boundary}--\r\n"  # fmt: skip
    (ue,) = webhook.unstruct(PATH, parts, f"multipart/form-data; boundary={boundary}")
    assert ue["schema"] == "iglu:com.mailgun/message_opened/jsonschema/1-0-0"
    assert ue["data"] == {"recipient": "bob@example.com", "timestamp": "2016-07-05T18:35:14.000Z",
                          "token": TOKEN, "signature": SIGNATURE, "city": "Berlin"}  # fmt: skip


def test_webhooks_v3_json(webhook: Webhook) -> None:
    # Shape of Mailgun's current webhook payload (and enrich's blackbox MailgunAdapterSpec).
    body = {
        "signature": {"token": TOKEN[:50], "timestamp": "1657907833", "signature": SIGNATURE},
        "event-data": {"id": "CPgfbmQMTCKtHW6uIWtuVe", "timestamp": 1521472262.908181,
                       "log-level": "info", "event": "delivered", "recipient": "alice@example.com",
                       "user-variables": {"my_var_1": "Mailgun Variable #1"}},
    }  # fmt: skip
    (ue,) = webhook.unstruct(PATH, json.dumps(body), "application/json")
    assert ue["data"] == {
        "id": "CPgfbmQMTCKtHW6uIWtuVe", "timestamp": "2022-07-15T17:57:13.000Z",
        "logLevel": "info", "recipient": "alice@example.com",
        "userVariables": {"myVar1": "Mailgun Variable #1"}, "token": TOKEN[:50],
        "signature": SIGNATURE,
    }  # fmt: skip


def test_failures(webhook: Webhook) -> None:
    no_token = {k: v for k, v in DELIVERED.items() if k != "token"}
    assert webhook.failure(PATH, urlencode(no_token), FORM) == [
        {"field": "token", "value": None, "expectation": "missing 'token'"}
    ]
    assert webhook.failure(PATH, "a=1", FORM)[0]["expectation"].startswith("no `event`")
    assert webhook.failure(PATH, "event=x", FORM)[0]["actual"] == "x"
    assert webhook.failure(PATH, "event=a b", FORM)[0]["expectation"].startswith(
        "could not parse body: Illegal character"
    )
    assert webhook.failure(PATH, "event=opened", "text/plain")[0]["field"] == "contentType"
    assert webhook.failure(PATH, "", FORM)[0]["field"] == "body"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.text(max_size=60),
        st.dictionaries(st.sampled_from(["event", "timestamp", "token", "signature",
                                         "attachment-count", "body-plain", "X-A_b", "-", "_"]),
                        st.sampled_from(["delivered", "opened", "1467743714", "x", "", "2", "-9"]),
                        max_size=6).map(urlencode),
    ),
    content_type=st.sampled_from([FORM, "multipart/form-data; boundary=b", "application/json",
                                  None]),
)  # fmt: skip
def test_malformed_bodies_never_crash(
    webhook: Webhook, body: str, content_type: str | None
) -> None:
    never_crashes(webhook, PATH, body, content_type)
