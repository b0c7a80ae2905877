"""Remote adapters (enrich RemoteAdapter.scala) against a loopback HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.remote import (
    RemoteAdapterConfig,
    register_remote_adapters,
    unregister_remote_adapters,
)
from plowline.enrich.adapters.testing import Webhook, never_crashes

PATH = "/com.acme.remote/v1"
JSON = "application/json"
ANY_KIND = frozenset({
    "adapter_failures", "schema_violations", "tracker_protocol_violations",
    "enrichment_failures",
})  # fmt: skip


class Service:
    """What the loopback service answers next, and what it was sent."""

    status = 200
    answer = ""
    delay = 0.0
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one per test, reset in the fixture


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        Service.received.append(json.loads(self.rfile.read(length)))
        if Service.delay:
            threading.Event().wait(Service.delay)
        data = Service.answer.encode()
        self.send_response(Service.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[RemoteAdapterConfig]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Service.status, Service.answer, Service.delay, Service.received = 200, "", 0.0, []
    config = RemoteAdapterConfig("com.acme.remote", "v1",
                                 f"http://127.0.0.1:{server.server_address[1]}/enrich",
                                 connection_timeout_ms=1000, read_timeout_ms=300)  # fmt: skip
    register_remote_adapters([config])
    yield config
    unregister_remote_adapters([config])
    server.shutdown()
    server.server_close()


def test_events_from_the_remote_service(webhook: Webhook, service: RemoteAdapterConfig) -> None:
    Service.answer = json.dumps({"events": [
        {"e": "pv", "p": "srv", "tv": "remote-1", "url": "http://example.com/a"},
        {"e": "se", "p": "srv", "tv": "remote-1", "se_ca": "cat", "se_ac": "act"},
    ]})  # fmt: skip
    page, structured = webhook.events(PATH, '{"x": 1}', JSON, "a=1")
    assert page.values["event"] == "page_view"
    assert page.values["page_url"] == "http://example.com/a"
    assert structured.values["se_category"] == "cat"
    (sent,) = Service.received
    assert sent["contentType"] == JSON
    assert sent["queryString"] == {"a": "1"}
    assert sent["body"] == '{"x": 1}'
    assert any(h.lower().startswith("content-type") for h in sent["headers"])


@pytest.mark.parametrize(
    ("status", "answer", "expectation"),
    [
        (500, "boom", "Request failed with status 500 and body boom"),
        (200, '{"events": []}', "empty list of events"),
        (200, '{"events": [{"e": 1}]}', "could not be decoded as a list of json objects"),
        (200, '{"nope": 1}', "could not be decoded as a list of json objects"),
    ],
)
def test_bad_answers_are_bad_rows(
    webhook: Webhook, service: RemoteAdapterConfig, status: int, answer: str, expectation: str
) -> None:
    Service.status, Service.answer = status, answer
    (message,) = webhook.failure(PATH, "{}", JSON)
    assert expectation in message["expectation"]


def test_not_json_timeout_unreachable_empty(webhook: Webhook, service: RemoteAdapterConfig) -> None:
    Service.answer = "{"
    assert webhook.failure(PATH, "{}", JSON)[0]["field"] == "body"
    Service.answer, Service.delay = '{"events": [{"e": "pv"}]}', 1.0
    (timeout,) = webhook.failure(PATH, "{}", JSON)
    assert timeout["expectation"].startswith(
        f"could not get response from remote adapter {service.url}: "
    )
    Service.delay = 0.0
    assert webhook.failure(PATH, None, JSON)[0]["expectation"] == (
        f"empty body: not a valid remote adapter {service.url} payload"
    )
    down = RemoteAdapterConfig("com.acme.down", "v1", "http://127.0.0.1:9/x", 200, 200)
    register_remote_adapters([down])
    try:
        (refused,) = webhook.failure("/com.acme.down/v1", "{}", JSON)
        assert refused["expectation"].startswith("could not get response from remote adapter")
    finally:
        unregister_remote_adapters([down])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=st.one_of(st.text(max_size=30), st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["events", "e", "p"]), c,
                                                        max_size=3),
    max_leaves=8).map(json.dumps)), status=st.sampled_from([200, 204, 404, 500]))  # fmt: skip
def test_any_answer_never_crashes(
    webhook: Webhook, service: RemoteAdapterConfig, answer: str, status: int
) -> None:
    Service.status, Service.answer = status, answer
    # The service's events are tracker-protocol parameters: any bad-row kind may follow.
    never_crashes(webhook, PATH, "{}", JSON, kinds=ANY_KIND)
