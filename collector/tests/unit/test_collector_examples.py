"""The documented example requests produce the documented responses and payload fields
(Snowplow docs' example POST; collector Routes.scala; CollectorPayload thrift)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from plowline.collector.service import PIXEL
from plowline.collector.testing import Harness

Make = Callable[..., Harness]

# The docs' example POST (values elided with "…" in the docs are filled in here).
EXAMPLE_BODY = {
    "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
    "data": [
        {
            "e": "pv",
            "url": "https://snowplow.io/",
            "page": "Snowplow",
            "eid": "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e",
            "tv": "js-3.5.0",
            "tna": "biz1",
            "aid": "website",
            "p": "web",
            "cookie": "1",
            "cs": "UTF-8",
            "lang": "en-GB",
            "res": "3440x1440",
            "cd": "30",
            "tz": "Europe/London",
            "dtm": "1665398554084",
            "vp": "693x1302",
            "ds": "678x8188",
            "vid": "29",
            "sid": "be9520e7-0d7b-4b1c-a3a3-2b0a7b1b2c3d",
            "duid": "85094061-2f4d-4e8b-9a0c-0d1e2f3a4b5c",
            "stm": "1665398554084",
        }
    ],
}


def test_docs_example_post(collector: Make) -> None:
    h = collector()
    body = orjson.dumps(EXAMPLE_BODY)
    response = h.request(
        "POST",
        "/com.snowplowanalytics.snowplow/tp2",
        headers=[
            ("Host", "collector.snowplow.io"),
            ("Content-Type", "application/json"),
            ("User-Agent", "Mozilla/5.0 (Macintosh)"),
            ("Origin", "https://snowplow.io"),
            ("Referer", "https://snowplow.io/"),
        ],
        body=body,
        client_ip="198.51.100.20",
    )
    assert response.status == 200
    assert response.body == b"ok"
    assert response.header("access-control-allow-origin") == "https://snowplow.io"
    assert response.header("access-control-allow-credentials") == "true"
    [cookie] = response.header_values("set-cookie")
    assert cookie.startswith("sp=")
    [payload] = h.payloads()
    assert payload.schema == "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
    assert payload.ip_address == "198.51.100.20"
    assert payload.encoding == "UTF-8"
    assert payload.collector.startswith("plowline-collector-")
    assert payload.user_agent == "Mozilla/5.0 (Macintosh)"
    assert payload.referer_uri == "https://snowplow.io/"
    assert payload.path == "/com.snowplowanalytics.snowplow/tp2"
    assert payload.querystring is None
    assert orjson.loads(payload.body or "") == EXAMPLE_BODY
    assert payload.content_type == "application/json"
    assert payload.hostname == "collector.snowplow.io"
    assert payload.network_user_id == cookie.split(";")[0][3:]
    assert payload.headers is not None
    # The request's headers only, nothing added (the Scala collector's `headers`).
    assert "application/json" not in payload.headers
    assert "Content-Type: application/json" in payload.headers
    assert "Origin: https://snowplow.io" in payload.headers


def test_docs_example_get(collector: Make) -> None:
    h = collector()
    query = (
        "e=pv&url=https%3A%2F%2Fsnowplow.io%2F&page=Snowplow&tv=js-3.5.0&tna=biz1&aid=website"
        "&p=web&tz=Europe%2FLondon&dtm=1665398554084&stm=1665398554084"
    )
    response = h.request("GET", "/i", query=query, headers=[("Host", "c.acme.com")])
    assert (response.status, response.body) == (200, PIXEL)
    [payload] = h.payloads()
    assert payload.path == "/i"
    assert payload.querystring == query  # raw, still percent-encoded
    assert payload.body is None
    assert payload.hostname == "c.acme.com"
