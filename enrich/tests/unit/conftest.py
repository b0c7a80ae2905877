"""Fixtures of the enrich unit tests: vendor adapters, loopback API servers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from plowline.enrich.adapters.testing import Webhook
from plowline.enrich.context import EnrichContext


@pytest.fixture
def webhook(ctx: EnrichContext) -> Webhook:
    return Webhook(ctx)


@pytest.fixture
def serve_http() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    """Start a loopback HTTP server for a handler class; its base URL; stopped at teardown."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()
