"""The inspection store and the event documents: corrupt files moved aside, the flattened
form equal to plowline-enrich's, failed events for /micro/events, arbitrary records."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.collector.payload import CollectorPayload, encode
from plowline.conformance.up.events import (
    FAILURE_KEY,
    BadItem,
    GoodItem,
    flatten,
    process_record,
)
from plowline.conformance.up.store import InspectionStore, QueryError, StoreError, prepare_file
from plowline.conformance.up.testing import contexts, page_view, self_describing, tp2_body
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import tsv_to_json
from plowline.enrich.iglu import IgluValidator

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"


@pytest.fixture(scope="module")
def ctx() -> EnrichContext:
    return EnrichContext(IgluValidator.from_resolver_file(None))


def _record(
    body: dict[str, object] | str, path: str = "/com.snowplowanalytics.snowplow/tp2"
) -> bytes:
    text = body if isinstance(body, str) else json.dumps(body)
    return encode(
        CollectorPayload(
            "127.0.0.1",
            int(time.time() * 1000),
            "test",
            path=path,
            body=text,
            content_type="application/json",
            headers=["Host: test"],
            network_user_id=str(uuid.uuid4()),
        )
    )


def test_flatten_matches_enrich_lossy_form(ctx: EnrichContext) -> None:
    entity = {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-000000000001"}}
    events = [
        page_view(co=contexts(entity, entity)),
        self_describing(LINK_CLICK, {"targetUrl": "http://x.example/"}, co=contexts(entity)),
        page_view(),
    ]
    items = process_record(_record(tp2_body(*events)), ctx)
    assert len(items) == 3
    for item in items:
        assert isinstance(item, GoodItem)
        assert item.flat == tsv_to_json(item.tsv, lossy=True)
        assert flatten(item.doc["event"]) == item.flat


def test_failed_event_for_the_events_query(ctx: EnrichContext) -> None:
    [item] = process_record(
        _record(tp2_body(self_describing("iglu:com.acme/nope/jsonschema/1-0-0", {}))), ctx
    )
    assert isinstance(item, BadItem)
    assert item.kind == "schema_violations"
    assert item.vendor == "com.snowplowanalytics.snowplow"
    assert item.flat is not None
    failure = item.flat[FAILURE_KEY][0]
    assert failure["failureType"] == "ValidationError"
    assert "com.acme/nope" in failure["errors"][0]["message"]


def test_undecodable_record_is_a_format_violation(ctx: EnrichContext) -> None:
    [item] = process_record(b"\x00garbage", ctx)
    assert isinstance(item, BadItem)
    assert item.kind == "collector_payload_format_violation"
    assert item.doc["collectorPayload"] is None
    assert item.doc["errors"][0].startswith("collector_payload_format_violation")


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(max_size=300),
    path=st.sampled_from(["/com.snowplowanalytics.snowplow/tp2", "/i", "/x/y", "/bad"]),
)
def test_any_request_becomes_items(ctx: EnrichContext, body: str, path: str) -> None:
    for item in process_record(_record(body, path), ctx):
        json.dumps(item.doc)  # documents are JSON
        if isinstance(item, BadItem):
            assert len(item.doc["errors"]) >= 2


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_become_bad_items(ctx: EnrichContext, record: bytes) -> None:
    items = process_record(record, ctx)
    assert items
    assert all(isinstance(i, BadItem) for i in items)


def test_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    damaged = b"SQLite format 3\x00" + b"\x13garbage" * 512
    path.write_bytes(damaged)
    report = prepare_file(path)
    assert report.moved_aside is not None
    assert report.moved_aside.name.startswith("events.sqlite.corrupt-")
    assert report.moved_aside.read_bytes() == damaged
    assert report.reason
    assert not path.exists()


def test_readable_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    InspectionStore(path).close()
    assert prepare_file(path).moved_aside is None
    assert path.exists()


@pytest.mark.parametrize("kind", ["folder", "text", "foreign database", "fifo"])
def test_anything_but_a_store_is_refused_and_left_alone(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "target"
    if kind == "folder":
        path.mkdir()
        (path / "inside").write_text("kept")
    elif kind == "text":
        path.write_text("not a database\n" * 50)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(StoreError):
        prepare_file(path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_store_filters_and_reset(tmp_path: Path, ctx: EnrichContext) -> None:
    store = InspectionStore(tmp_path / "s.sqlite")
    try:
        entity = {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-000000000001"}}
        items = process_record(
            _record(tp2_body(page_view(co=contexts(entity)), page_view(aid="x"))), ctx
        )
        store.add(items)
        assert store.counts() == {"total": 2, "good": 2, "bad": 0}
        assert len(json.loads(store.good(contexts=[WEB_PAGE.removeprefix("iglu:")]))) == 1
        assert len(json.loads(store.good(event_type="pv"))) == 2
        page = store.events(filters=[("app_id", ["x"])])
        assert page["totalItems"] == 1
        with pytest.raises(QueryError):
            store.events(filters=[("no such column", ["x"])])
        with pytest.raises(QueryError):
            store.events(sort_column="app_id); DROP TABLE x; --")
        store.reset()
        assert store.counts() == {"total": 0, "good": 0, "bad": 0}
    finally:
        store.close()
