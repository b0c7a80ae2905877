"""`plowline up` as a real process accepts vendor webhooks at Snowplow's paths and serves them
from ``/micro/good`` as good events with their vendor schemas (issue 18 acceptance)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
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
]  # fmt: skip


def _pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def _request(method: str, url: str, body: str | None = None,
             content_type: str | None = None) -> tuple[int, bytes]:  # fmt: skip
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.status, response.read()


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
    good: list[dict[str, Any]] = []
    while len(good) < len(WEBHOOKS):
        assert time.monotonic() < deadline, good
        good = json.loads(_request("GET", f"{up_url}/micro/good")[1])
        time.sleep(0.1)
    _, bad = _request("GET", f"{up_url}/micro/bad")
    assert json.loads(bad) == [], bad
    schemas = set()
    for item in good:
        unstruct = item["event"]["unstruct_event"]
        if isinstance(unstruct, str):
            unstruct = json.loads(unstruct)
        schemas.add(unstruct["data"]["schema"])
    assert schemas == {expected for *_, expected in WEBHOOKS}
