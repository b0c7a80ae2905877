"""Property tests: any text and any nested JSON survive the wire; bad input fails cleanly."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.tracker import (
    Event,
    InvalidEventError,
    ManualClock,
    PageView,
    SelfDescribing,
    SelfDescribingJson,
    Structured,
    Tracker,
)
from plowline.tracker.emitters.store import StoredEvent
from plowline.tracker.emitters.wire import Batch, get_target, post_body, split_for_post
from plowline.tracker.neutral import EVENT_TYPES, event_from_neutral, subject_from_neutral
from plowline.tracker.testing import RecordedRequest

SCHEMA = "iglu:com.acme/anything/jsonschema/1-0-0"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
contexts = st.lists(st.builds(SelfDescribingJson, st.just(SCHEMA), json_values), max_size=3)


class ListEmitter:
    def __init__(self) -> None:
        self.payloads: list[dict[str, str]] = []

    def input(self, payload: dict[str, str]) -> None:
        self.payloads.append(payload)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> bool:
        return True


def _through_the_wire(event: Event, *, encode_base64: bool, method: str) -> dict[str, str]:
    """Track, serialise as the emitter does, parse as a collector does."""
    emitter = ListEmitter()
    Tracker(emitter, encode_base64=encode_base64, clock=ManualClock(1)).track(event)
    [payload] = emitter.payloads
    stored = StoredEvent(0, payload)
    if method == "GET":
        path, _, query = get_target("/i", stored, "2").partition("?")
        request = RecordedRequest("GET", path, query, {}, b"", 200)
    else:
        body = post_body(Batch((stored,)), "2")
        request = RecordedRequest("POST", "/tp2", "", {}, body, 200)
    [wire] = request.events()
    return wire


def _json_param(wire: dict[str, str], plain: str, encoded: str) -> Any:
    if encoded in wire:
        text = base64.urlsafe_b64decode(wire[encoded]).decode("utf-8")
        return json.loads(text)
    return json.loads(wire[plain])


@given(
    url=st.text(min_size=1),
    title=st.text(),
    referrer=st.none() | st.text(),
    entities=contexts,
    encode_base64=st.booleans(),
    method=st.sampled_from(["GET", "POST"]),
)
def test_page_view_text_and_contexts_round_trip(
    url: str,
    title: str,
    referrer: str | None,
    entities: list[SelfDescribingJson],
    encode_base64: bool,
    method: str,
) -> None:
    event = PageView(page_url=url, page_title=title, referrer=referrer, contexts=entities)
    wire = _through_the_wire(event, encode_base64=encode_base64, method=method)
    assert (wire["url"], wire["page"], wire.get("refr")) == (url, title, referrer)
    assert wire["stm"] == "2"
    if entities:
        decoded = _json_param(wire, "co", "cx")
        assert decoded["data"] == [e.to_dict() for e in entities]
    else:
        assert "co" not in wire
        assert "cx" not in wire


@given(
    data=json_values,
    entities=contexts,
    encode_base64=st.booleans(),
    method=st.sampled_from(["GET", "POST"]),
)
def test_self_describing_data_round_trips(
    data: Any, entities: list[SelfDescribingJson], encode_base64: bool, method: str
) -> None:
    event = SelfDescribing(event=SelfDescribingJson(SCHEMA, data), contexts=entities)
    wire = _through_the_wire(event, encode_base64=encode_base64, method=method)
    assert _json_param(wire, "ue_pr", "ue_px")["data"] == {"schema": SCHEMA, "data": data}


@given(
    category=st.text(min_size=1),
    action=st.text(min_size=1),
    value=st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_structured_numbers_read_back_as_the_same_value(
    category: str, action: str, value: float | None
) -> None:
    event = Structured(category=category, action=action, value=value)
    wire = _through_the_wire(event, encode_base64=False, method="GET")
    assert (wire["se_ca"], wire["se_ac"]) == (category, action)
    if value is None:
        assert "se_va" not in wire
    elif isinstance(value, int):
        assert int(wire["se_va"]) == value  # exact: enrich reads it as a BigDecimal
    else:
        assert float(wire["se_va"]) == value


@given(surrogate=st.text(st.characters(categories=["Cs"]), min_size=1), prefix=st.text())
def test_unencodable_text_is_refused_at_the_call(surrogate: str, prefix: str) -> None:
    with pytest.raises(InvalidEventError, match="UTF-8"):
        PageView(page_url=prefix + surrogate)
    with pytest.raises(InvalidEventError, match="UTF-8"):
        Tracker(ListEmitter()).track(
            SelfDescribing(event=SelfDescribingJson(SCHEMA, {"k": prefix + surrogate}))
        )


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=30),
    limit=st.integers(min_value=200, max_value=3_000),
)
def test_post_split_keeps_order_and_limit(sizes: list[int], limit: int) -> None:
    events = [StoredEvent(n, {"e": "pv", "url": "x" * size}) for n, size in enumerate(sizes)]
    batches = split_for_post(events, limit, "1665398554084")
    assert [e.key for b in batches for e in b.events] == list(range(len(sizes)))
    for batch in batches:
        body = post_body(batch, "1665398554084")
        assert len(body) <= limit or len(batch.events) == 1
        assert [item["url"] for item in json.loads(body)["data"]] == [
            e.payload["url"] for e in batch.events
        ]


neutral_keys = st.sampled_from(
    [
        "page_url", "page_title", "referrer", "min_x", "max_x", "min_y", "max_y", "category",
        "action", "label", "property", "value", "event", "name", "id", "variant", "screen_type",
        "target_url", "element_classes", "form_id", "elements", "element_id", "node_name",
        "terms", "filters", "total_results", "timing", "variable", "order_id", "total_value",
        "items", "sku", "quantity", "contexts", "true_timestamp_ms", "bogus",
    ]
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from([*EVENT_TYPES, "nope"]) | st.text() | st.integers() | st.none(),
    fields=st.dictionaries(neutral_keys, json_values, max_size=6),
)
def test_neutral_event_parser_never_fails_uncleanly(kind: Any, fields: dict[str, Any]) -> None:
    try:
        event = event_from_neutral({"type": kind, **fields})
    except InvalidEventError:
        return
    assert isinstance(event, Event)
    with contextlib.suppress(InvalidEventError):  # encoding may refuse it, with the typed error
        Tracker(ListEmitter()).track(event)


@given(
    spec=st.dictionaries(
        st.sampled_from(
            ["user_id", "screen_resolution", "viewport", "color_depth", "session_index", "x"]
        ),
        json_values,
    )
)
def test_neutral_subject_parser_never_fails_uncleanly(spec: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidEventError):
        subject_from_neutral(spec)
