"""Replay: every replayable bad-row type is turned back into its input and enriched again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.records import enrich_record
from plowline.enrich.replay import NotReplayableError, replay_line, replay_row
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode

TEST_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
EID = "00000000-0000-4000-8000-00000000abcd"


@pytest.fixture
def bare(validator: IgluValidator) -> EnrichContext:
    """A context without the test schemas: com.acme events fail to resolve."""
    return EnrichContext(IgluValidator.from_resolver_file(None), clock_ms=lambda: 0)


def only_bad(results: list[EnrichedEvent | BadRow]) -> BadRow:
    [row] = results
    assert isinstance(row, BadRow)
    return row


def test_schema_violation_replays_once_the_schema_exists(
    bare: EnrichContext, ctx: EnrichContext
) -> None:
    body = json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
        "data": [{"e": "ue", "tv": "t", "p": "web", "eid": EID, "ue_pr": json.dumps({
            "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
            "data": {"schema": CHECKOUT, "data": {"step": 4}}})}],
    })  # fmt: skip
    payload = payload_from_request(
        "POST", "/com.snowplowanalytics.snowplow/tp2", "aid=shop",
        {"Content-Type": "application/json", "User-Agent": "UA", "X-Forwarded-For": "192.0.2.4"},
        body, network_user_id="c0ffee00-1111-4222-8333-444455556666",
    )  # fmt: skip
    row = only_bad(enrich(payload, bare))
    assert row.kind == "schema_violations"
    [event] = replay_row(json.loads(row.to_json()), ctx)
    assert isinstance(event, EnrichedEvent)
    v = event.values
    assert (v["event_id"], v["app_id"], v["event_name"]) == (EID, "shop", "checkout")
    assert (v["useragent"], v["user_ipaddress"]) == ("UA", "192.0.2.4")
    assert v["network_userid"] == "c0ffee00-1111-4222-8333-444455556666"
    assert v["collector_tstamp"] == "2022-10-10 10:42:34.500"


def test_protocol_violation_and_format_violation_replay(ctx: EnrichContext) -> None:
    # A tracker_protocol_violations row replays to the same violation (input rebuilt exactly).
    payload = payload_from_request("GET", "/com.snowplowanalytics.snowplow/tp2", "")
    row = only_bad(enrich(payload, ctx))
    again = only_bad(replay_row(json.loads(row.to_json()), ctx))
    assert again.kind == row.kind
    assert again.data["payload"] == row.data["payload"]
    # A format violation carries the raw record, which replays byte for byte.
    raw = encode(payload_from_request("GET", "/a/b/c", "e=pv"))
    row = only_bad(enrich_record(raw, ctx))
    again = only_bad(replay_row(json.loads(row.to_json()), ctx))
    assert again.data["payload"] == row.data["payload"]


def test_adapter_failure_replay_rebuilds_the_querystring(ctx: EnrichContext) -> None:
    payload = payload_from_request("GET", "/com.acme/v1", "a=1&b=x%20y&c")
    row = only_bad(enrich(payload, ctx))
    again = only_bad(replay_row(json.loads(row.to_json()), ctx))
    assert again.data["payload"]["querystring"] == [
        {"name": "a", "value": "1"}, {"name": "b", "value": "x y"}, {"name": "c", "value": None},
    ]  # fmt: skip


def test_cut_values_are_not_replayed(ctx: EnrichContext) -> None:
    row = only_bad(
        enrich(payload_from_request("GET", "/i", "e=pv&p=web&tv=t&vid=x&aid=" + "a" * 600), ctx)
    )
    with pytest.raises(NotReplayableError, match="cut"):
        replay_row(json.loads(row.to_json()), ctx)
    assert replay_line(row.to_json(), ctx) is None
    assert replay_line("not json", ctx) is None
