"""`plowline up` as a real process accepts every vendor webhook at Snowplow's path and serves
it from ``/micro/good`` as a good event with its vendor schema (issue 18 acceptance). StatusGator
is left out: its schema is a test fixture of the unit suite, not embedded in spec/schemas."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote, urlencode

import pytest

WEBHOOKS: list[tuple[str, str, str | None, str | None, str]] = [
    ("/com.mailchimp/v1", "",
     urlencode({"type": "subscribe", "fired_at": "2009-03-26 21:35:57", "data[id]": "8a25ff1d98",
                "data[email]": "api@mailchimp.com", "data[merges][FNAME]": "Mailchimp"}),
     "application/x-www-form-urlencoded", "iglu:com.mailchimp/subscribe/jsonschema/1-0-0"),
    ("/com.sendgrid/v3", "",
     json.dumps([{"email": "example@test.com", "timestamp": 1446549615, "event": "open",
                  "sg_event_id": "sZROwMGMagFgnOEmSdvhig==", "sg_message_id": "14c5d75ce93"}]),
     "application/json", "iglu:com.sendgrid/open/jsonschema/3-0-0"),
    ("/com.pingdom/v1",
     "message=" + quote(json.dumps({"check": "1421338", "checkname": "Webhooks_Test",
                                    "host": "7eef51c2.ngrok.com", "action": "assign",
                                    "incidentid": 3})),
     None, None, "iglu:com.pingdom/incident_assign/jsonschema/1-0-0"),
    ("/com.google.analytics/v1", "",
     "v=1&tid=UA-XXXXX-Y&cid=555&t=event&ec=video&ea=play&el=holiday&ev=300",
     "application/x-www-form-urlencoded",
     "iglu:com.google.analytics.measurement-protocol/event/jsonschema/1-0-0"),
    ("/com.mandrill/v1", "",
     urlencode({"mandrill_events": json.dumps([{"event": "send", "_id": "exampleaaaa",
                                                 "ts": 1415267366,
                                                 "msg": {"ts": 1365109999, "state": "sent"}}])}),
     "application/x-www-form-urlencoded", "iglu:com.mandrill/message_sent/jsonschema/1-0-0"),
    ("/com.mailgun/v1", "",
     urlencode({"event": "delivered", "recipient": "alice@example.com",
                "timestamp": "1467743714", "token": "c" * 50, "signature": "d" * 64}),
     "application/x-www-form-urlencoded", "iglu:com.mailgun/message_delivered/jsonschema/1-0-0"),
    ("/com.pagerduty/v1", "",
     json.dumps({"messages": [{"type": "incident.resolve", "id": "3c3e8ee0",
                               "created_on": "2014-11-12T18:53:47Z"}]}),
     "application/json", "iglu:com.pagerduty/incident/jsonschema/1-0-0"),
    ("/com.olark/v1", "",
     urlencode({"data": json.dumps({"kind": "Conversation", "id": "T1", "operators": {},
                                    "items": [{"kind": "MessageToVisitor", "body": "Hi",
                                               "timestamp": "1307116657.1"}]})}),
     "application/x-www-form-urlencoded", "iglu:com.olark/transcript/jsonschema/1-0-0"),
    ("/com.unbounce/v1", "",
     urlencode({"page_id": "f7afd389-65a3-45fa-8bad-b7a42236044c", "page_name": "Test",
                "variant": "a", "page_url": "http://unbouncepages.com/test",
                "data.json": json.dumps({"email": ["test@example.com"]})}),
     "application/x-www-form-urlencoded", "iglu:com.unbounce/form_post/jsonschema/1-0-0"),
    ("/com.urbanairship.connect/v1", "",
     json.dumps({"id": "e3314efb-9058-dbaf-c4bb-b754fca73613", "offset": "1",
                 "occurred": "2015-11-13T16:31:52.393Z", "processed": "2015-11-13T16:31:52.393Z",
                 "type": "CLOSE", "body": {"session_id": "27c75cab-a0b8-9da2-bc07-6d7253e0e13f"}}),
     None, "iglu:com.urbanairship.connect/CLOSE/jsonschema/1-0-0"),
    ("/com.getvero/v1", "",
     json.dumps({"type": "unsubscribed", "unsubscribed_at": 1435016238,
                 "user": {"id": "123", "email": "steve@getvero.com"}}),
     "application/json", "iglu:com.getvero/unsubscribed/jsonschema/1-0-0"),
    ("/com.hubspot/v1", "",
     json.dumps([{"eventId": 1, "subscriptionId": 25, "portalId": 33,
                  "occurredAt": 1564113600000, "subscriptionType": "contact.creation",
                  "attemptNumber": 0, "objectId": 123, "changeSource": "CRM",
                  "changeFlag": "NEW", "appId": 54321}]),
     "application/json", "iglu:com.hubspot/contact_creation/jsonschema/1-0-0"),
    ("/com.marketo/v1", "",
     json.dumps({"name": "webhook for A", "step": 6, "datetime": "2018-03-07 14:28:16"}),
     "application/json", "iglu:com.marketo/event/jsonschema/2-0-0"),
    ("/com.callrail/v1", urlencode({"id": "201235151", "datetime": "2014-10-09 16:23:45",
                                    "answered": "true", "duration": "247"}),
     None, None, "iglu:com.callrail/call_complete/jsonschema/1-0-2"),
]  # fmt: skip


def _pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def _request(method: str, url: str, body: str | None = None,
             content_type: str | None = None) -> tuple[int, bytes]:  # fmt: skip
    """http.client, not urllib: urllib adds a form Content-Type to every body, and Urban
    Airship's webhook must arrive without one."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        headers = {} if content_type is None else {"Content-Type": content_type}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, None if body is None else body.encode(), headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def up_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines: list[str] = []
    assert proc.stdout is not None
    assert proc.stderr is not None
    readers = [threading.Thread(target=_pump, args=(s, lines), daemon=True)
               for s in (proc.stdout, proc.stderr)]  # fmt: skip
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 90
        url = None
        while url is None:
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "no banner: " + "".join(lines)
            found = [re.search(r"collector (http://\S+)", line) for line in list(lines)]
            url = next((m.group(1) for m in found if m), None)
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        for reader in readers:
            reader.join(10)
        proc.stdout.close()
        proc.stderr.close()


def test_up_serves_webhook_events_as_good(up_url: str) -> None:
    for path, query, body, content_type, _ in WEBHOOKS:
        method = "GET" if body is None else "POST"
        target = f"{up_url}{path}" + (f"?{query}" if query else "")
        status, _ = _request(method, target, body, content_type)
        assert status == 200, path
    deadline = time.monotonic() + 60
    while True:
        counts = json.loads(_request("GET", f"{up_url}/micro/all")[1])
        if counts["total"] >= len(WEBHOOKS):
            break
        assert time.monotonic() < deadline, counts
        time.sleep(0.1)
    bad = json.loads(_request("GET", f"{up_url}/micro/bad")[1])
    assert bad == [], json.dumps(bad)[:3000]
    good: list[dict[str, Any]] = json.loads(_request("GET", f"{up_url}/micro/good")[1])
    schemas = set()
    for item in good:
        unstruct = item["event"]["unstruct_event"]
        if isinstance(unstruct, str):
            unstruct = json.loads(unstruct)
        schemas.add(unstruct["data"]["schema"])
    assert schemas == {expected for *_, expected in WEBHOOKS}
