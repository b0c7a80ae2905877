"""Enriched TSV lines: 131 fields and the analytics-SDK JSON forms."""

from __future__ import annotations

import json

import pytest
from plowline.enrich.context import EnrichContext
from plowline.enrich.conversions import encode_base64url
from plowline.enrich.event import EnrichedEvent, shred_name, tsv_to_json
from plowline.enrich.fields import FIELD_NAMES
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request
from plowline.spec import tables

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"


def test_field_list_matches_the_spec() -> None:
    assert tables.field_names() == FIELD_NAMES
    assert len(FIELD_NAMES) == 131


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        (WEB_PAGE, "com_snowplowanalytics_snowplow_web_page_1"),
        ("iglu:com.acme-co/fooBarBaz/jsonschema/2-1-0", "com_acme_co_foo_bar_baz_2"),
        ("iglu:org.w3/PerformanceTiming/jsonschema/1-0-0", "org_w3_performance_timing_1"),
    ],
)
def test_shred_names(uri: str, name: str) -> None:
    assert shred_name(uri) == name


def test_enriched_event_to_json(ctx: EnrichContext) -> None:
    cx = encode_base64url(json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [{"schema": WEB_PAGE, "data": {"id": "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e"}}],
    }))  # fmt: skip
    ue = encode_base64url(json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": LINK_CLICK, "data": {"targetUrl": "http://t.example"}},
    }))  # fmt: skip
    payload = payload_from_request(
        "GET", "/i", f"e=ue&p=web&tv=t&cx={cx}&ue_px={ue}&cookie=1&vid=2&se_va=1.5&dtm=0"
    )
    [event] = enrich(payload, ctx)
    assert isinstance(event, EnrichedEvent)
    line = event.to_tsv()
    assert len(line.split("\t")) == 131
    flat = tsv_to_json(line)
    assert flat["br_cookies"] is True
    assert flat["domain_sessionidx"] == 2
    assert flat["dvce_created_tstamp"] == "1970-01-01T00:00:00.000Z"
    assert flat["collector_tstamp"] == "2022-10-10T10:42:34.500Z"
    assert flat["app_id"] is None
    assert flat["contexts_com_snowplowanalytics_snowplow_web_page_1"] == [
        {"id": "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e"}
    ]
    assert flat["unstruct_event_com_snowplowanalytics_snowplow_link_click_1"] == {
        "targetUrl": "http://t.example"
    }
    assert "contexts" not in flat
    versioned = tsv_to_json(line, schema_versions=True)
    assert versioned["contexts_com_snowplowanalytics_snowplow_web_page_1"][0][
        "_schema_version"
    ] == ("1-0-0")
    full = tsv_to_json(line, lossy=False)
    assert full["contexts"]["data"][0]["schema"] == WEB_PAGE
    assert full["derived_contexts"] == {}
    assert full["unstruct_event"]["data"]["schema"] == LINK_CLICK


def test_geo_location_and_wrong_field_count() -> None:
    event = EnrichedEvent()
    event.set("geo_latitude", "51.5")
    event.set("geo_longitude", "-0.12")
    assert tsv_to_json(event.to_tsv())["geo_location"] == "51.5,-0.12"
    with pytest.raises(ValueError, match="131"):
        tsv_to_json("a\tb")
