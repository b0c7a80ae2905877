"""``plowline-spec mirror`` and Snowplow's default resolver config (issue 17 item 1).

Registries are served on loopback only: a static one (files by path) and an Iglu Server
stand-in (``/api/schemas`` listing, private schemas behind the ``apikey`` header)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from plowline.spec.cli import main
from plowline.spec.errors import ResolutionError
from plowline.spec.iglu import SchemaKey
from plowline.spec.mirror import (
    DEFAULT_RESOLVER_CONFIG,
    IGLU_CENTRAL,
    IGLU_CENTRAL_MIRROR,
    MirrorError,
    keys_in,
    list_schemas,
    mirror,
)
from plowline.spec.registries import EmbeddedRegistry, HttpRegistry
from plowline.spec.resolver import Resolver

KEY = "abc-123"
PUBLIC = SchemaKey.parse("iglu:com.acme/page/jsonschema/1-0-0")
PRIVATE = SchemaKey.parse("iglu:com.acme/secret/jsonschema/2-0-1")


def schema(key: SchemaKey) -> dict[str, Any]:
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {"vendor": key.vendor, "name": key.name, "format": key.format,
                 "version": str(key.version)},
        "type": "object",
    }  # fmt: skip


class Registry(BaseHTTPRequestHandler):
    """``/static`` is a static registry; ``/api`` an Iglu Server (listing + apikey)."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        apikey = self.headers.get("apikey")
        type(self).seen.append((self.path, apikey))
        public = {f"/schemas/{PUBLIC.path}": PUBLIC}
        private = {f"/schemas/{PRIVATE.path}": PRIVATE}
        prefix, _, rest = self.path[1:].partition("/")
        rest = "/" + rest
        body: Any = None
        if prefix in ("static", "api") and rest in public:
            body = schema(public[rest])
        elif prefix == "api" and rest in private and apikey == KEY:
            body = schema(private[rest])
        elif prefix == "api" and rest == "/schemas":
            body = [PUBLIC.uri] + ([PRIVATE.uri] if apikey == KEY else [])
        data = json.dumps(body).encode()
        self.send_response(404 if body is None else 200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    Registry.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_iglu_server_is_mirrored_whole_with_its_api_key(base: str, tmp_path: Path) -> None:
    assert list_schemas(f"{base}/api") == [PUBLIC]
    lines: list[str] = []
    report = mirror(f"{base}/api", tmp_path / "m", apikey=KEY, progress=lines.append)
    assert report.copied == [PUBLIC.uri, PRIVATE.uri]
    assert lines == [f"[1/2] {PUBLIC.uri}", f"[2/2] {PRIVATE.uri}",
                     f"2 copied, 0 failed, into {tmp_path / 'm'}"]  # fmt: skip
    assert ("/api/schemas", KEY) in Registry.seen
    # The copy is an embedded registry a resolver can use offline.
    offline = Resolver([EmbeddedRegistry("mirror", tmp_path / "m" / "schemas")])
    assert offline.lookup(PRIVATE)["self"]["name"] == "secret"
    assert sorted(k.uri for k in keys_in(tmp_path / "m")) == sorted([PUBLIC.uri, PRIVATE.uri])


def test_static_registry_needs_named_schemas(base: str, tmp_path: Path) -> None:
    with pytest.raises(MirrorError, match="static registry such as Iglu Central"):
        list_schemas(f"{base}/static")
    report = mirror(f"{base}/static", tmp_path / "m", keys=[PUBLIC, PRIVATE])
    assert report.copied == [PUBLIC.uri]
    assert report.failed == {PRIVATE.uri: "not found (HTTP 404)"}


def test_cli_mirror_prints_progress_and_exit_status(base: str, tmp_path: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["mirror", str(tmp_path / "m"), "--from", f"{base}/static",
                       "--schema", PUBLIC.uri])  # fmt: skip
    assert status == 0
    assert out.getvalue().splitlines()[0] == f"[1/1] {PUBLIC.uri}"
    # Refresh from the copy's own keys; a key the source lacks makes the exit status 1.
    (tmp_path / "m" / "schemas" / PRIVATE.path).parent.mkdir(parents=True)
    (tmp_path / "m" / "schemas" / PRIVATE.path).write_text(json.dumps(schema(PRIVATE)))
    with redirect_stdout(io.StringIO()):
        status = main(["mirror", str(tmp_path / "m2"), "--from", f"{base}/static",
                       "--keys-from", str(tmp_path / "m")])  # fmt: skip
    assert status == 1
    assert (tmp_path / "m2" / "schemas" / PUBLIC.path).is_file()


def test_default_resolver_config_is_iglu_central_and_its_mirror() -> None:
    resolver = Resolver.from_config(DEFAULT_RESOLVER_CONFIG, include_spec_schemas=False)
    remote = [r for r in resolver.registries if isinstance(r, HttpRegistry)]
    assert [(r.name, r.uri, r.priority) for r in remote] == [
        ("Iglu Central", IGLU_CENTRAL, 0),
        ("Iglu Central - GCP Mirror", IGLU_CENTRAL_MIRROR, 1),
    ]


def test_resolution_error_names_every_registry_tried(base: str) -> None:
    resolver = Resolver(
        [HttpRegistry("static", f"{base}/static", timeout=2),
         HttpRegistry("server", f"{base}/api", apikey="wrong", timeout=2)],
        include_spec_schemas=False,
    )  # fmt: skip
    with pytest.raises(ResolutionError) as caught:
        resolver.lookup(PRIVATE)
    assert list(caught.value.lookup_history) == ["static", "server"]
