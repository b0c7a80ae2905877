"""The JSON event shape of `/micro/good` as Micro returns it (the Scala analytics SDK's JSON):
`contexts` and `derived_contexts` in the contexts 1-0-0 wrapper, `{}` when there are none,
`unstruct_event` in unstruct_event 1-0-0 or null, keys in the enriched event's field order;
through a real `plowline up` process over HTTP."""

from __future__ import annotations

from plowline.conformance.up.testing import (
    TP2,
    contexts,
    http,
    page_view,
    self_describing,
    tp2_body,
    up_process,
    wait_for,
)
from plowline.enrich.fields import FIELD_NAMES

SDK_CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"


def test_good_event_json_has_micro_wrappers_empty_objects_and_key_order() -> None:
    page = "0b9f0d8c-6f2e-4a6e-8a2f-3c1d5e7f9a10"
    with up_process() as up:
        events = [
            page_view(co=contexts({"schema": WEB_PAGE, "data": {"id": page}})),
            self_describing(LINK_CLICK, {"targetUrl": "http://example.com/a"}),
        ]
        assert http("POST", up.url + TP2, tp2_body(*events)).status == 200
        good = wait_for(
            lambda: len(g := http("GET", up.url + "/micro/good").json()) == 2 and g,
            what="two good events",
        )
    by_name = {g["event"]["event_name"]: g["event"] for g in good}
    pv, click = by_name["page_view"], by_name["link_click"]
    assert pv["contexts"] == {
        "schema": SDK_CONTEXTS,
        "data": [{"schema": WEB_PAGE, "data": {"id": page}}],
    }
    assert pv["unstruct_event"] is None
    assert click["contexts"] == {}
    assert click["derived_contexts"] == {}
    assert click["unstruct_event"] == {
        "schema": UNSTRUCT,
        "data": {"schema": LINK_CLICK, "data": {"targetUrl": "http://example.com/a"}},
    }
    order = {name: i for i, name in enumerate(FIELD_NAMES)}
    keys = [k for k in pv if k in order]
    assert keys == sorted(keys, key=order.__getitem__)
    assert list(pv)[:3] == ["app_id", "platform", "etl_tstamp"]
