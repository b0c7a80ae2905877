"""The resolver against static Iglu registries served by this test on 127.0.0.1.

The server scripts every failure a real registry can show: 404, 500, slow headers, a body
trickled byte by byte, garbage, oversize answers, redirects, a closed port.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from plowline.spec.errors import RepoFailureError, ResolutionError, SchemaNotFoundError
from plowline.spec.fetch import FetchError, http_get
from plowline.spec.iglu import SchemaKey
from plowline.spec.registries import EmbeddedRegistry, HttpRegistry
from plowline.spec.resolver import Resolver

ACME = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-0")
ACME_PATH = "/schemas/com.acme/thing/jsonschema/1-0-0"
TIMEOUT = 0.5  # seconds; scripted delays are far longer, so only the deadline can end them


def schema_for(key: SchemaKey, **extra: Any) -> dict[str, Any]:
    return {
        "self": {
            "vendor": key.vendor,
            "name": key.name,
            "format": key.format,
            "version": str(key.version),
        },
        "type": "object",
        **extra,
    }


def body_of(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    trickle: float = 0.0  # between body bytes
    content_length: bool = True


class RegistryServer:
    """A scriptable static registry: ``routes[path] = Route(...)``; unknown paths are 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path, Route(404, b"not found"))
                if route.delay and server.stop.wait(route.delay):
                    return
                try:
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    if route.content_length:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    if not route.trickle:
                        self.wfile.write(route.body)
                        return
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if server.stop.wait(route.trickle):
                            return
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up, as it should

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def hits(self, path: str = ACME_PATH) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def serve(self, key: SchemaKey, schema: dict[str, Any], prefix: str = "") -> None:
        self.routes[f"{prefix}/schemas/{key.path}"] = Route(body=body_of(schema))


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    server = RegistryServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(5)


def http(server: RegistryServer, name: str = "static", **kwargs: Any) -> HttpRegistry:
    kwargs.setdefault("timeout", TIMEOUT)
    return HttpRegistry(name, server.url, **kwargs)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


# --- one registry -----------------------------------------------------------------------------


def test_fetches_a_schema(registry: RegistryServer) -> None:
    registry.serve(ACME, schema_for(ACME))
    assert http(registry).lookup(ACME) == schema_for(ACME)
    (path, headers) = registry.requests[0]
    assert path == ACME_PATH
    assert headers["Accept"] == "application/json"
    assert "apikey" not in {k.lower() for k in headers}


def test_sends_the_apikey_and_keeps_the_uri_path(registry: RegistryServer) -> None:
    registry.serve(ACME, schema_for(ACME), prefix="/api")
    reg = HttpRegistry("server", registry.url + "/api/", apikey="0b1c-key", timeout=TIMEOUT)
    assert reg.lookup(ACME)["self"]["name"] == "thing"
    path, headers = registry.requests[0]
    assert path == "/api" + ACME_PATH
    assert headers["apikey"] == "0b1c-key"


def test_404_is_not_found(registry: RegistryServer) -> None:
    with pytest.raises(SchemaNotFoundError):
        http(registry).lookup(ACME)


@pytest.mark.parametrize("status", [500, 503, 403, 401, 204])
def test_other_statuses_are_repo_failures(registry: RegistryServer, status: int) -> None:
    registry.routes[ACME_PATH] = Route(status, body_of(schema_for(ACME)))
    with pytest.raises(RepoFailureError, match=f"unexpected HTTP status {status}"):
        http(registry).lookup(ACME)


def test_slow_headers_hit_the_deadline(registry: RegistryServer) -> None:
    registry.routes[ACME_PATH] = Route(body=body_of(schema_for(ACME)), delay=30)
    with pytest.raises(RepoFailureError, match=r"timed out after 0\.5s"):
        http(registry).lookup(ACME)


def test_a_trickled_body_hits_the_total_deadline(registry: RegistryServer) -> None:
    # Each byte arrives well within any per-read timeout; only a total deadline stops this.
    registry.routes[ACME_PATH] = Route(body=body_of(schema_for(ACME)), trickle=0.05)
    with pytest.raises(RepoFailureError, match=r"timed out after 0\.5s"):
        http(registry).lookup(ACME)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Iglu is down</html>", "is not JSON"),
        (b"\xff\xfe\x00", "is not JSON"),
        (b"", "is not JSON"),
        (b'["not", "a", "schema"]', "is not a JSON Schema"),
        (b'{"type": "object"}', "is not a self-describing schema"),
        (
            body_of(schema_for(SchemaKey.parse("iglu:com.acme/other/jsonschema/1-0-0"))),
            "declares itself iglu:com.acme/other/jsonschema/1-0-0",
        ),
    ],
)
def test_garbage_answers_are_repo_failures(
    registry: RegistryServer, body: bytes, message: str
) -> None:
    registry.routes[ACME_PATH] = Route(body=body)
    with pytest.raises(RepoFailureError, match=message):
        http(registry).lookup(ACME)


def test_oversize_answers_are_refused(registry: RegistryServer) -> None:
    big = body_of(schema_for(ACME, description="x" * 5000))
    registry.routes[ACME_PATH] = Route(body=big)
    with pytest.raises(RepoFailureError, match="over the limit of 1000"):
        http(registry, max_bytes=1000).lookup(ACME)
    # Without Content-Length the cap is enforced while reading.
    registry.routes[ACME_PATH] = Route(body=big, content_length=False)
    with pytest.raises(RepoFailureError, match="over the limit of 1000 bytes"):
        http(registry, max_bytes=1000).lookup(ACME)
    assert http(registry, max_bytes=10_000).lookup(ACME)["description"] == "x" * 5000


def test_redirects_are_followed_within_limits(registry: RegistryServer) -> None:
    registry.serve(ACME, schema_for(ACME), prefix="/moved")
    registry.routes[ACME_PATH] = Route(302, headers={"Location": "/moved" + ACME_PATH})
    assert http(registry).lookup(ACME)["self"]["name"] == "thing"
    registry.routes[ACME_PATH] = Route(301, headers={"Location": ACME_PATH})
    with pytest.raises(RepoFailureError, match="more than 5 redirects"):
        http(registry).lookup(ACME)


def test_a_closed_port_is_a_repo_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reg = HttpRegistry("closed", f"http://127.0.0.1:{port}", timeout=TIMEOUT)
    with pytest.raises(RepoFailureError, match=r"GET http://127\.0\.0\.1:\d+/schemas/.*Refused"):
        reg.lookup(ACME)


def test_http_get_refuses_unusable_urls() -> None:
    with pytest.raises(FetchError, match="unsupported URL"):
        http_get("file:///etc/passwd", timeout=1, max_bytes=10)
    with pytest.raises(FetchError, match="invalid port"):
        http_get("http://127.0.0.1:99999999/", timeout=1, max_bytes=10)


def test_a_redirect_to_an_unusable_url_is_a_repo_failure(registry: RegistryServer) -> None:
    registry.routes[ACME_PATH] = Route(302, headers={"Location": "ftp://127.0.0.1/x"})
    with pytest.raises(RepoFailureError, match="unsupported URL"):
        http(registry).lookup(ACME)


# --- resolver over HTTP -----------------------------------------------------------------------


def test_vendor_prefix_beats_priority_and_class(registry: RegistryServer, tmp_path: Path) -> None:
    registry.serve(ACME, schema_for(ACME, description="general"), prefix="/general")
    registry.serve(ACME, schema_for(ACME, description="acme"), prefix="/acme")
    general = HttpRegistry("general", registry.url + "/general", priority=0, timeout=TIMEOUT)
    acme = HttpRegistry(
        "acme", registry.url + "/acme", priority=9, vendor_prefixes=["com.acme"], timeout=TIMEOUT
    )
    local_dir = tmp_path / "com.acme/thing/jsonschema"
    local_dir.mkdir(parents=True)
    (local_dir / "1-0-0").write_text(json.dumps(schema_for(ACME, description="embedded")))
    embedded = EmbeddedRegistry("embedded", tmp_path)
    r = Resolver([general, embedded, acme], include_spec_schemas=False)
    assert r.lookup(ACME)["description"] == "acme"
    # Without a matching prefix, embedded (class 2) comes before any HTTP registry (class 100).
    r = Resolver([general, embedded], include_spec_schemas=False)
    assert r.lookup(ACME)["description"] == "embedded"
    # Between HTTP registries, the configured priority decides.
    low = HttpRegistry("low", registry.url + "/acme", priority=1, timeout=TIMEOUT)
    r = Resolver([low, general], include_spec_schemas=False)
    assert r.lookup(ACME)["description"] == "general"


def test_cache_hit_and_ttl_expiry(registry: RegistryServer) -> None:
    registry.serve(ACME, schema_for(ACME))
    clock = FakeClock()
    r = Resolver([http(registry)], include_spec_schemas=False, cache_ttl=600, clock=clock)
    r.lookup(ACME)
    r.lookup(ACME)
    assert registry.hits() == 1
    clock.now += 600
    r.lookup(ACME)
    assert registry.hits() == 2


def test_not_found_lands_in_the_lookup_history(registry: RegistryServer, tmp_path: Path) -> None:
    clock = FakeClock()
    r = Resolver(
        [http(registry, "Iglu static"), EmbeddedRegistry("local", tmp_path)],
        include_spec_schemas=False,
        cache_ttl=60,
        clock=clock,
    )
    with pytest.raises(ResolutionError) as caught:
        r.lookup(ACME)
    assert caught.value.is_not_found
    history = caught.value.lookup_history
    assert [(name, h.errors, h.attempts) for name, h in history.items()] == [
        ("local", (SchemaNotFoundError(),), 1),
        ("Iglu static", (SchemaNotFoundError(),), 1),
    ]
    with pytest.raises(ResolutionError):
        r.lookup(ACME)
    assert registry.hits() == 1  # NotFound is cached until the TTL


def test_timeouts_land_in_the_history_and_are_retried(registry: RegistryServer) -> None:
    registry.routes[ACME_PATH] = Route(body=body_of(schema_for(ACME)), delay=30)
    clock = FakeClock()
    r = Resolver([http(registry, "slow")], include_spec_schemas=False, clock=clock)
    for attempt in (1, 2):
        with pytest.raises(ResolutionError) as caught:
            r.lookup(ACME)
        history = caught.value.lookup_history["slow"]
        assert history.attempts == attempt
        (error,) = history.errors
        assert isinstance(error, RepoFailureError)
        assert "timed out" in error.message
        clock.now += 60  # past the back-off
    assert registry.hits() == 2
    registry.routes[ACME_PATH] = Route(body=body_of(schema_for(ACME)))
    assert r.lookup(ACME)["type"] == "object"


def test_garbage_lands_in_the_history(registry: RegistryServer) -> None:
    registry.routes[ACME_PATH] = Route(body=b"<html>")
    r = Resolver([http(registry, "garbage")], include_spec_schemas=False)
    with pytest.raises(ResolutionError) as caught:
        r.lookup(ACME)
    rendered = caught.value.lookup_history["garbage"].to_json("garbage")
    assert rendered["repository"] == "garbage"
    assert rendered["errors"][0]["error"] == "RepoFailure"
    assert "is not JSON" in rendered["errors"][0]["message"]
    assert rendered["attempts"] == 1
    assert time.strptime(rendered["lastAttempt"][:19], "%Y-%m-%dT%H:%M:%S")
