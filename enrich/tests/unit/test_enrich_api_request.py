"""API request enrichment against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.api_request import ApiRequest
from plowline.enrich.enrichments.jsonpath import compile_path
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request

COOKIE = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"


class Api(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str, bytes, str | None]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Api.calls.append((self.command, self.path, body, self.headers.get("Authorization")))
        if self.path.startswith("/fail"):
            self.send_response(500)
            self.end_headers()
            return
        user = self.path.rsplit("/", 1)[-1]
        payload = json.dumps({"user": {"name": user, "tier": "gold"}, "n": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer  # noqa: N815 - http.server's naming
    do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def api_url() -> Iterator[str]:
    Api.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def params(uri: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    return {
        "inputs": [{"key": "user", "pojo": {"field": "user_id"}}],
        "api": {"http": {"method": method, "uri": uri, "timeout": 2000,
                         "authentication": {"httpBasic": {"username": "u", "password": "p"}}}},
        "outputs": [{"schema": COOKIE, "json": {"jsonPath": "$.user"}}],
        "cache": {"size": 10, "ttl": 60},
        **extra,
    }  # fmt: skip


def run(ctx: EnrichContext, enrichment: ApiRequest, query: str) -> list[object]:
    ctx = EnrichContext(ctx.validator, [enrichment], clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)
    return list(enrich(payload_from_request("GET", "/i", query), ctx))


def test_real_answer_is_validated(ctx: EnrichContext, api_url: str) -> None:
    enrichment = ApiRequest(params(f"{api_url}/users/{{{{user}}}}"))
    [row] = run(ctx, enrichment, "e=pv&p=web&tv=t&uid=al%20ice")
    assert Api.calls[-1][1] == "/users/al%20ice"
    # {"name", "tier"} is not a valid http_cookie entity: derived contexts are validated.
    assert isinstance(row, BadRow)
    assert row.kind == "schema_violations"


def test_outputs_become_derived_contexts(ctx: EnrichContext, api_url: str) -> None:
    enrichment = ApiRequest(params(f"{api_url}/users/{{{{user}}}}"))
    # Serve an answer that is a valid http_cookie entity by pointing the path at it.
    enrichment.outputs = [(COOKIE, compile_path("$"))]

    def fetch(method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
              ) -> tuple[int, bytes]:  # fmt: skip
        Api.calls.append((method, url, body or b"", headers.get("Authorization")))
        return 200, json.dumps({"name": "tier", "value": "gold"}).encode()

    enrichment.fetch = fetch
    for _ in range(3):
        [event] = run(ctx, enrichment, "e=pv&p=web&tv=t&uid=alice")
        assert isinstance(event, EnrichedEvent)
        assert event.derived_contexts == [
            {"schema": COOKIE, "data": {"name": "tier", "value": "gold"}}
        ]
    assert len(Api.calls) == 1  # cached
    assert Api.calls[0][1].endswith("/users/alice")
    assert Api.calls[0][3] == "Basic dTpw"


def test_real_http_call_url_encoding_and_post_body(ctx: EnrichContext, api_url: str) -> None:
    enrichment = ApiRequest(params(f"{api_url}/users/{{{{user}}}}", method="POST"))
    enrichment.outputs = [("iglu:org.ietf/http_header/jsonschema/1-0-0", compile_path("$"))]
    [row] = run(ctx, enrichment, "e=pv&p=web&tv=t&uid=a%2Fb")
    method, path, body, auth = Api.calls[-1]
    assert (method, path) == ("POST", "/users/a%2Fb")
    assert json.loads(body) == {"user": "a/b"}
    assert auth == "Basic dTpw"
    assert isinstance(row, BadRow)  # the raw answer is not an http_header entity
    assert row.kind == "schema_violations"


def test_missing_input_skips_the_call(ctx: EnrichContext, api_url: str) -> None:
    [event] = run(ctx, ApiRequest(params(f"{api_url}/users/{{{{user}}}}")), "e=pv&p=web&tv=t")
    assert isinstance(event, EnrichedEvent)
    assert event.derived_contexts == []
    assert Api.calls == []


def test_errors_fail_or_are_ignored(ctx: EnrichContext, api_url: str) -> None:
    [row] = run(ctx, ApiRequest(params(f"{api_url}/fail/{{{{user}}}}")), "e=pv&p=web&tv=t&uid=x")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"
    assert "HTTP 500" in row.to_json()
    ignoring = ApiRequest(params(f"{api_url}/fail/{{{{user}}}}", ignoreOnError=True))
    [event] = run(ctx, ignoring, "e=pv&p=web&tv=t&uid=x")
    assert isinstance(event, EnrichedEvent)
    [row] = run(ctx, ApiRequest(params("http://127.0.0.1:9/{{user}}")), "e=pv&p=web&tv=t&uid=x")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"
