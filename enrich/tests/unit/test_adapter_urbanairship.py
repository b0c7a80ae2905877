"""Urban Airship Connect ``/com.urbanairship.connect/v1`` (enrich UrbanAirshipAdapter.scala and
its spec)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.urbanairship.connect/v1"

# A Connect CLOSE event as Urban Airship documents the Connect stream
# (docs.airship.com/developer/api-integrations/connect), as UrbanAirshipAdapterSpec sends it.
CLOSE = {
    "id": "e3314efb-9058-dbaf-c4bb-b754fca73613",
    "offset": "1",
    "occurred": "2015-11-13T16:31:52.393Z",
    "processed": "2015-11-13T16:31:52.393Z",
    "device": {"amazon_channel": "cd97c95c-ed77-f15a-3a67-5c2e26799d35"},
    "body": {"session_id": "27c75cab-a0b8-9da2-bc07-6d7253e0e13f"},
    "type": "CLOSE",
}


def test_documented_close(webhook: Webhook) -> None:
    (event,) = webhook.events(PATH, json.dumps(CLOSE), None)
    assert event.values["v_tracker"] == "com.urbanairship.connect-v1"
    assert event.values["event_id"] == CLOSE["id"]
    assert event.values["true_tstamp"] == "2015-11-13 16:31:52.393"
    assert event.values["collector_tstamp"] == "2015-11-13 16:31:52.393"
    assert event.unstruct_event == {
        "schema": "iglu:com.urbanairship.connect/CLOSE/jsonschema/1-0-0", "data": CLOSE,
    }  # fmt: skip


def test_failures(webhook: Webhook) -> None:
    assert webhook.failure(PATH, "{}", "application/json")[0] == {
        "field": "contentType", "value": "application/json",
        "expectation": "expected no content type",
    }  # fmt: skip
    messages = webhook.failure(PATH, json.dumps({"type": "NOPE", "id": 1}), None)
    assert [m.get("field") or m.get("actual") for m in messages] == [
        "occurred", "id", "processed", "NOPE",
    ]  # fmt: skip
    assert messages[1]["expectation"] == (
        "could not extract 'id': Got value '1' with wrong type, expecting string: DownField(id)"
    )
    assert webhook.failure(PATH, "{", None)[0]["field"] == "body"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.text(max_size=40), st.dictionaries(
    st.sampled_from(["type", "id", "occurred", "processed", "body"]),
    st.one_of(st.sampled_from(["CLOSE", "SEND", "2015-11-13T16:31:52.393Z", "x", ""]),
              st.integers(), st.none()), max_size=5).map(json.dumps)))  # fmt: skip
def test_malformed_bodies_never_crash(webhook: Webhook, body: str) -> None:
    never_crashes(webhook, PATH, body, None)
