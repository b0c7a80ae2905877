"""`plowline up`'s inspection API against the Micro facts (§7): shapes, filters, reset, iglu,
the paged events query, the OpenAPI document, and bad input in /micro/bad with a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from plowline.conformance.up.server import UpServer
from plowline.conformance.up.testing import (
    TP2,
    contexts,
    http,
    page_view,
    running,
    self_describing,
    tp2_body,
    wait_for,
)

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
PAGE_VIEW = "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"
GOOD_KEYS = {"rawEvent", "eventType", "schema", "contexts", "event", "incomplete"}
RAW_KEYS = {"api", "parameters", "contentType", "source", "context"}


@pytest.fixture(scope="module")
def up() -> Iterator[UpServer]:
    with running() as server:
        yield server


@pytest.fixture
def url(up: UpServer) -> str:
    assert http("POST", up.base_url + "/micro/reset").status == 200
    return up.base_url


def _send(url: str, *events: dict[str, str]) -> None:
    reply = http("POST", url + TP2, tp2_body(*events))
    assert reply.status == 200, reply.body


def _counts(url: str) -> dict[str, int]:
    counts: dict[str, int] = http("GET", url + "/micro/all").json()
    return counts


def _wait_counts(url: str, good: int, bad: int = 0) -> None:
    wait_for(
        lambda: _counts(url) == {"total": good + bad, "good": good, "bad": bad},
        what=f"{good} good and {bad} bad events",
    )


def test_all_and_reset_shapes(url: str) -> None:
    assert _counts(url) == {"total": 0, "good": 0, "bad": 0}
    assert http("POST", url + "/micro/all").json() == {"total": 0, "good": 0, "bad": 0}
    _send(url, page_view(), page_view())
    _wait_counts(url, 2)
    reset = http("GET", url + "/micro/reset")
    assert reset.status == 200
    assert reset.json() == {"total": 0, "good": 0, "bad": 0}
    assert http("GET", url + "/micro/good").json() == []


def test_good_event_shape(url: str) -> None:
    entity = {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-000000000001"}}
    event = page_view("http://shop.example/p?x=1", "Shoes", aid="shop", co=contexts(entity))
    _send(url, event)
    _wait_counts(url, 1)
    [good] = http("GET", url + "/micro/good").json()
    assert set(good) == GOOD_KEYS
    assert good["eventType"] == "page_view"
    assert good["schema"] == PAGE_VIEW
    assert good["contexts"] == [WEB_PAGE]
    assert good["incomplete"] is False
    raw = good["rawEvent"]
    assert set(raw) == RAW_KEYS
    assert raw["api"] == {"vendor": "com.snowplowanalytics.snowplow", "version": "tp2"}
    assert raw["parameters"]["eid"] == event["eid"]
    assert raw["contentType"] == "application/json"
    assert raw["context"]["ipAddress"] == "127.0.0.1"
    ev = good["event"]
    assert ev["event_id"] == event["eid"]
    assert ev["app_id"] == "shop"
    assert ev["page_urlhost"] == "shop.example"
    assert ev["page_urlquery"] == "x=1"
    assert ev["collector_tstamp"].endswith("Z")
    # Non-lossy analytics-SDK form: contexts kept as self-describing JSON.
    assert ev["contexts"]["data"] == [entity]
    assert ev["unstruct_event"] is None
    assert ev["derived_contexts"] == {}


def test_good_filters(url: str) -> None:
    click = {"targetUrl": "http://example.com/next"}
    entity = {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-000000000002"}}
    _send(
        url,
        page_view(),
        page_view(co=contexts(entity)),
        self_describing(LINK_CLICK, click),
        self_describing(LINK_CLICK, click, co=contexts(entity)),
    )
    _wait_counts(url, 4)

    def good(filters: dict[str, object]) -> list[dict[str, object]]:
        reply = http("POST", url + "/micro/good", filters)
        assert reply.status == 200, reply.body
        events: list[dict[str, object]] = reply.json()
        return events

    assert len(good({})) == 4
    assert len(good({"event_type": "page_view"})) == 2
    assert len(good({"event_type": "pv"})) == 2  # the tracker's code works too
    assert len(good({"event_type": "unstruct"})) == 2
    assert len(good({"schema": LINK_CLICK})) == 2
    assert len(good({"schema": LINK_CLICK.removeprefix("iglu:")})) == 2
    assert len(good({"contexts": [WEB_PAGE]})) == 2
    assert len(good({"schema": LINK_CLICK, "contexts": [WEB_PAGE]})) == 1
    assert len(good({"contexts": [WEB_PAGE, LINK_CLICK]})) == 0  # must contain all
    limited = good({"limit": 1})
    assert len(limited) == 1
    assert limited[0]["eventType"] == "unstruct"  # the most recent
    assert good({"event_type": "struct"}) == []


def test_good_filter_errors_are_400(url: str) -> None:
    assert http("POST", url + "/micro/good", b"{not json").status == 400
    assert http("POST", url + "/micro/good", {"limit": "ten"}).status == 400
    assert http("POST", url + "/micro/good", {"contexts": "x"}).status == 400
    assert http("POST", url + "/micro/good", [1, 2]).status == 400
    assert http("DELETE", url + "/micro/good").status == 405


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "reason"),
    [
        ("POST", TP2, b"not json", {"Content-Type": "application/json"}, "not JSON"),
        ("POST", TP2, b'{"a":1}', {"Content-Type": "text/plain"}, "contentType"),
        ("POST", TP2, json.dumps(tp2_body({"e": "pv"})).encode(), {}, "tracker_protocol"),
        ("GET", "/i?e=pv&tv=t&p=web&dtm=notanumber", None, {}, "dtm"),
        ("GET", "/com.acme/v1?x=1", None, {}, "adapter_failures"),
        ("GET", "/i?e=ue&tv=t&p=web&ue_pr=%7Bbroken", None, {}, "ue_pr"),
    ],
)
def test_every_invalid_request_is_a_readable_bad_event(
    url: str, method: str, path: str, body: bytes | None, headers: dict[str, str], reason: str
) -> None:
    if body is not None and "Content-Type" not in headers:
        headers = {"Content-Type": "application/json"}
    reply = http(method, url + path, body, headers)
    assert reply.status == 200
    _wait_counts(url, 0, 1)
    [bad] = http("GET", url + "/micro/bad").json()
    assert set(bad) == {"collectorPayload", "rawEvent", "errors"}
    *reasons, row = bad["errors"]
    assert reasons, "a readable reason comes before the bad row"
    assert any(reason in r for r in reasons), reasons
    sdj = json.loads(row)
    assert sdj["schema"].startswith("iglu:com.snowplowanalytics.snowplow.badrows/")


def test_unknown_schema_is_bad_with_reason(url: str) -> None:
    _send(url, self_describing("iglu:com.acme/nope/jsonschema/1-0-0", {}))
    _wait_counts(url, 0, 1)
    [bad] = http("GET", url + "/micro/bad").json()
    assert "schema_violations" in bad["errors"][0]
    assert "com.acme/nope" in bad["errors"][0]
    assert "not found" in bad["errors"][0]
    assert bad["rawEvent"]["api"]["version"] == "tp2"


def test_bad_filters(url: str) -> None:
    http("GET", url + "/com.acme/v1?x=1")
    http("POST", url + TP2, b"nope", {"Content-Type": "application/json"})
    _wait_counts(url, 0, 2)
    assert len(http("POST", url + "/micro/bad", {}).json()) == 2
    acme = http("POST", url + "/micro/bad", {"vendor": "com.acme"}).json()
    assert len(acme) == 1
    assert acme[0]["collectorPayload"]["vendor"] == "com.acme"
    tp2 = http("POST", url + "/micro/bad", {"version": "tp2"}).json()
    assert len(tp2) == 1
    assert len(http("POST", url + "/micro/bad", {"limit": 1}).json()) == 1


def test_iglu_endpoint(url: str) -> None:
    found = http(
        "GET", url + "/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
    )
    assert found.status == 200
    assert found.json()["self"]["name"] == "web_page"
    missing = http("GET", url + "/micro/iglu/com.acme/nope/jsonschema/1-0-0")
    assert missing.status == 404
    value = missing.json()["value"]
    [(repo, history)] = value.items()
    assert repo
    assert history["errors"] == [{"error": "NotFound"}]
    assert history["attempts"] >= 1
    assert http("GET", url + "/micro/iglu/not/enough").status == 400


def test_events_query(url: str) -> None:
    _send(url, page_view(aid="a1"), page_view(aid="a2"), page_view(aid="a2"))
    _send(url, self_describing("iglu:com.acme/nope/jsonschema/1-0-0", {}, aid="a3"))
    _wait_counts(url, 3, 1)
    everything = http("POST", url + "/micro/events", {}).json()
    assert set(everything) == {"events", "totalPages", "totalItems"}
    assert everything["totalItems"] == 4
    page = http("POST", url + "/micro/events", {"page": 2, "pageSize": 3}).json()
    assert page["totalPages"] == 2
    assert len(page["events"]) == 1
    valid = http("POST", url + "/micro/events", {"validEvents": True}).json()
    assert valid["totalItems"] == 3
    assert "contexts" not in valid["events"][0]  # flattened analytics-SDK form
    failed = http("POST", url + "/micro/events", {"validEvents": False}).json()
    assert failed["totalItems"] == 1
    [event] = failed["events"]
    failure = event["contexts_com_snowplowanalytics_snowplow_failure_1"][0]
    assert "com.acme/nope" in failure["errors"][0]["message"]
    filtered = http(
        "POST", url + "/micro/events", {"filters": [{"column": "app_id", "values": ["a2"]}]}
    ).json()
    assert filtered["totalItems"] == 2
    assert {e["app_id"] for e in filtered["events"]} == {"a2"}
    ordered = http(
        "POST", url + "/micro/events", {"sorting": {"column": "app_id", "desc": False}}
    ).json()
    assert [e["app_id"] for e in ordered["events"]] == ["a1", "a2", "a2", "a3"]
    bad_column = http(
        "POST", url + "/micro/events", {"filters": [{"column": "x;--", "values": []}]}
    )
    assert bad_column.status == 400
    assert http("POST", url + "/micro/events", {"pageSize": 0}).status == 400
    columns = http("GET", url + "/micro/columns").json()
    assert len(columns) == 131
    assert columns[0] == "app_id"


def test_timeline(url: str) -> None:
    _send(url, page_view())
    _wait_counts(url, 1)
    points = http(
        "POST",
        url + "/micro/timeline",
        {"buckets": [{"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}]},
    ).json()["points"]
    assert points[0]["validEvents"] == 1
    assert points[0]["failedEvents"] == 0


def test_collector_side_micro_compat(url: str) -> None:
    reply = http("GET", url + "/i?e=pv&tv=t&p=web")
    assert reply.status == 200
    assert reply.headers["content-type"] == "image/gif"
    assert reply.headers["set-cookie"].startswith("micro=")
    assert http("GET", url + "/health").status == 200
    root = http("GET", url + "/")
    assert root.status == 302
    assert root.headers["location"] == "/micro/ui/"
    ui = http("GET", url + "/micro/ui/")
    assert ui.status == 200
    assert b"<title>plowline up</title>" in ui.body
    assert http("GET", url + "/micro/ui/app.js").headers["content-type"].startswith("text/")
    assert http("GET", url + "/micro/nothing").status == 404


def test_openapi_document_is_valid_and_lists_the_routes(url: str) -> None:
    reply = http("GET", url + "/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    validate(doc)
    assert doc["openapi"].startswith("3.")
    for path in ("/micro/all", "/micro/good", "/micro/bad", "/micro/reset", "/micro/events"):
        assert path in doc["paths"]
    assert "post" in doc["paths"]["/micro/good"]


def test_openapi_package_file_matches_served(up: UpServer) -> None:
    packaged = Path(__file__).parents[2] / "src/plowline/conformance/up/openapi.json"
    assert json.loads(packaged.read_text()) == http("GET", up.base_url + "/openapi.json").json()


def test_status_reports_store(url: str, up: UpServer) -> None:
    status = http("GET", url + "/plowline/status").json()
    assert status["store"]["temporary"] is True
    assert status["schemas"]["problems"] == []
