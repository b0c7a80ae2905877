"""Decoding the wire and judging it: meaning over bytes, subset match, formats, invariants."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from plowline.conformance.harness.collector import RecordedRequest
from plowline.conformance.harness.judge import check_event, judge
from plowline.conformance.harness.wire import decode_json_param, decode_request

EID = "e0000000-0000-4000-8000-000000000001"
EID2 = "e0000000-0000-4000-8000-000000000002"
PAYLOAD = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def _req(
    index: int, method: str = "POST", body: bytes = b"", query: str = "", status: int | None = 200,
    path: str | None = None, headers: dict[str, str] | None = None,
) -> RecordedRequest:  # fmt: skip
    default = "/i" if method == "GET" else "/com.snowplowanalytics.snowplow/tp2"
    return RecordedRequest(
        index=index, method=method, path=path or default, query=query,
        headers=headers or {"content-type": "application/json; charset=utf-8"}, body=body,
        received_s=float(index), status=status, known_path=True,
    )  # fmt: skip


def _post(index: int, *events: dict[str, str], status: int | None = 200) -> RecordedRequest:
    body = json.dumps({"schema": PAYLOAD, "data": list(events)}).encode()
    return _req(index, body=body, status=status)


def _event(eid: str = EID, **params: str) -> dict[str, str]:
    return {"e": "pv", "tv": "t-1", "eid": eid, **params}


def _b64(doc: Any, pad: bool) -> str:
    text = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()
    return text if pad else text.rstrip("=")


def test_get_querystring_is_one_event_url_decoded() -> None:
    decoded = decode_request(_req(0, "GET", query="e=pv&url=https%3A%2F%2Fa.example%2F%C3%BC&x="))
    assert decoded.events[0].params == {"e": "pv", "url": "https://a.example/ü", "x": ""}


def test_post_body_items_and_schema() -> None:
    decoded = decode_request(_post(0, _event(), _event(EID2)))
    assert decoded.payload_schema == PAYLOAD
    assert [e.params["eid"] for e in decoded.events] == [EID, EID2]


def test_non_string_values_are_problems() -> None:
    body = json.dumps({"schema": PAYLOAD, "data": [{"e": "pv", "vid": 3}]}).encode()
    decoded = decode_request(_req(0, body=body))
    assert decoded.problems == ["request 0: data[0].vid is not a string: 3"]


def test_base64_padding_does_not_matter() -> None:
    doc = {"schema": "s", "data": [{"a": "é"}]}
    assert decode_json_param("cx", _b64(doc, pad=True)) == doc
    assert decode_json_param("cx", _b64(doc, pad=False)) == doc


def test_meaning_not_bytes() -> None:
    expect = {"decoded": {"co": {"b": 1, "a": [1.0, True]}}}
    assert check_event("e", expect, {"co": '{"a": [1, true], "b": 1.0}'}) == []
    assert check_event("e", expect, {"co": '{"a": [1, 1], "b": 1}'}) != []


def test_subset_match_present_absent_formats() -> None:
    params = {"e": "pv", "url": "u", "stm": "1665398554084", "eid": EID, "extra": "ignored"}
    expect = {
        "params": {"e": "pv"},
        "present": ["stm"],
        "absent": ["ttm"],
        "formats": {"eid": "uuid", "stm": "timestamp-ms"},
    }
    assert check_event("e", expect, params) == []
    bad = check_event("e", expect, {**params, "ttm": "1", "stm": "soon", "e": "se"})
    assert len(bad) == 3


def test_event_sent_again_after_200_is_a_failure() -> None:
    problems = judge({}, [decode_request(_post(0, _event())), decode_request(_post(1, _event()))])
    assert any("sent again after request 0 was accepted" in p for p in problems)


def test_retries_after_failure_are_fine() -> None:
    decoded = [decode_request(_post(0, _event(), status=500)), decode_request(_post(1, _event()))]
    expect = {
        "events": [{"params": {"eid": EID}}],
        "requests": {"count": 2, "attempts_per_event": 2},
    }
    assert judge(expect, decoded) == []


def test_transport_expectations() -> None:
    decoded = [decode_request(_post(0, _event()))]
    ok = {
        "method": "POST",
        "content_type": "application/json; charset=UTF-8",
        "payload_schema": PAYLOAD,
        "events_per_request": [1],
        "query_empty": True,
        "max_body_bytes": 10_000,
    }
    assert judge({"requests": ok}, decoded) == []
    wrong = {"method": "GET", "content_type": "text/plain", "count": 2, "events_per_request": [2]}
    assert len(judge({"requests": wrong}, decoded)) == 4


def test_invariants_need_e_tv_and_uuid_eid() -> None:
    problems = judge({}, [decode_request(_post(0, {"eid": "X"}))])
    assert len(problems) == 3


def test_min_gap() -> None:
    decoded = [decode_request(_post(0, _event(), status=503)), decode_request(_post(1, _event()))]
    assert judge({"requests": {"min_gap_ms": [{"after": 0, "ms": 900}]}}, decoded) == []
    assert judge({"requests": {"min_gap_ms": [{"after": 0, "ms": 1100}]}}, decoded) != []


@given(st.binary(max_size=300), st.text(max_size=200), st.sampled_from(["GET", "POST"]))
def test_decoding_never_raises(body: bytes, query: str, method: str) -> None:
    decoded = decode_request(_req(0, method, body=body, query=query))
    assert all(isinstance(p, str) for p in decoded.problems)


@given(st.text(max_size=100), st.sampled_from(["co", "cx", "ue_pr", "ue_px"]))
def test_json_params_fail_only_with_value_error(text: str, name: str) -> None:
    with contextlib.suppress(ValueError):
        decode_json_param(name, text)
