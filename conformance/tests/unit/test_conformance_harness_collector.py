"""The capture collector: answers like a Snowplow collector, records, and follows its script."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest
from plowline.conformance.harness.collector import (
    PIXEL,
    POST_PATH,
    CaptureCollector,
    ScriptedAnswer,
    retry_after_value,
)


@pytest.fixture
def collector() -> Iterator[CaptureCollector]:
    with CaptureCollector() as c:
        yield c


def _send(
    collector: CaptureCollector, method: str, target: str, body: bytes | None = None
) -> tuple[int, bytes, dict[str, str]]:
    host, port = collector.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        headers = {"Content-Type": "application/json; charset=utf-8"} if body else {}
        conn.request(method, target, body, headers)
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def test_listens_on_loopback(collector: CaptureCollector) -> None:
    assert collector.endpoint.startswith("http://127.0.0.1:")


def test_get_pixel_is_a_gif(collector: CaptureCollector) -> None:
    status, body, headers = _send(collector, "GET", "/i?e=pv&url=https%3A%2F%2Fa.example%2F")
    assert (status, body, headers["Content-Type"]) == (200, PIXEL, "image/gif")
    (recorded,) = collector.requests()
    assert (recorded.method, recorded.path, recorded.query) == (
        "GET",
        "/i",
        "e=pv&url=https%3A%2F%2Fa.example%2F",
    )
    assert recorded.accepted


def test_post_tp2_answers_ok_and_records_the_body(collector: CaptureCollector) -> None:
    payload = json.dumps({"schema": "x", "data": [{"e": "pv"}]}).encode()
    status, body, _ = _send(collector, "POST", POST_PATH, payload)
    assert (status, body) == (200, b"ok")
    (recorded,) = collector.requests()
    assert recorded.body == payload
    assert recorded.header("Content-Type") == "application/json; charset=utf-8"


def test_unknown_path_is_404_and_not_accepted(collector: CaptureCollector) -> None:
    status, _, _ = _send(collector, "GET", "/elsewhere")
    assert status == 404
    assert not collector.requests()[0].accepted


def test_script_is_followed_in_order_then_200(collector: CaptureCollector) -> None:
    collector.reset([ScriptedAnswer(status=503, retry_after="7"), ScriptedAnswer(status=400)])
    first = _send(collector, "GET", "/i?e=pv")
    second = _send(collector, "GET", "/i?e=pv")
    third = _send(collector, "GET", "/i?e=pv")
    assert (first[0], first[2]["Retry-After"]) == (503, "7")
    assert (second[0], third[0]) == (400, 200)
    assert [r.status for r in collector.requests()] == [503, 400, 200]
    assert [r.accepted for r in collector.requests()] == [False, False, True]


def test_dropped_connection_has_no_answer(collector: CaptureCollector) -> None:
    collector.reset([ScriptedAnswer(drop=True)])
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _send(collector, "GET", "/i?e=pv")
    (recorded,) = collector.requests()
    assert recorded.status is None
    assert not recorded.accepted


def test_delay_is_recorded_on_arrival(collector: CaptureCollector) -> None:
    collector.reset([ScriptedAnswer(delay_ms=200)])
    started = time.monotonic()
    status, _, _ = _send(collector, "GET", "/i?e=pv")
    assert status == 200
    assert collector.requests()[0].received_s < started + 0.2


def test_reset_forgets_and_custom_paths_count(collector: CaptureCollector) -> None:
    _send(collector, "GET", "/i")
    collector.reset(get_path="/px")
    assert collector.requests() == []
    assert _send(collector, "GET", "/px?e=pv")[0] == 200
    assert _send(collector, "GET", "/i?e=pv")[0] == 404


def test_wait_for_counts_requests(collector: CaptureCollector) -> None:
    assert not collector.wait_for(1, 0.05)
    _send(collector, "GET", "/i")
    assert collector.wait_for(1, 1.0)
    assert collector.wait_idle(1.0)


def test_retry_after_http_date_is_in_the_future() -> None:
    value = retry_after_value("http-date+3")
    assert parsedate_to_datetime(value).timestamp() > time.time() + 1
    assert retry_after_value("5") == "5"
    assert retry_after_value("http-date+x") == "http-date+x"


def test_chunked_post_body_is_read(collector: CaptureCollector) -> None:
    host, port = collector.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("POST", POST_PATH, iter([b'{"schema": "x", ', b'"data": []}']),
                     {"Content-Type": "application/json"}, encode_chunked=True)  # fmt: skip
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert collector.requests()[0].body == b'{"schema": "x", "data": []}'


def test_cors_preflight_is_answered_and_not_recorded(collector: CaptureCollector) -> None:
    host, port = collector.endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("OPTIONS", POST_PATH, headers={"Origin": "https://shop.example"})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") == "https://shop.example"
    assert collector.requests() == []
