"""Helpers shared by `plowline up`'s tests and benchmark: a server in a thread, a tiny HTTP
client (stdlib only) and tracker-protocol request bodies."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from plowline.conformance.up.server import UpOptions, UpServer

PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
TP2 = "/com.snowplowanalytics.snowplow/tp2"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(
    method: str,
    url: str,
    body: bytes | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> HttpReply:
    sent = dict(headers or {})
    data: bytes | None
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    else:
        data = body
    if not url.startswith("http://"):
        raise ValueError("loopback http:// URLs only")
    request = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpReply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return HttpReply(exc.code, dict(exc.headers.items()), exc.read())


def page_view(
    url: str = "http://example.com/", title: str = "Example", **extra: str
) -> dict[str, str]:
    event = {"e": "pv", "p": "web", "tv": "plowline-test-1", "url": url, "page": title}
    event["eid"] = str(uuid.uuid4())
    event.update(extra)
    return event


def self_describing(schema: str, data: dict[str, Any], **extra: str) -> dict[str, str]:
    ue = {
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": schema, "data": data},
    }
    event = {"e": "ue", "p": "web", "tv": "plowline-test-1", "ue_pr": json.dumps(ue)}
    event["eid"] = str(uuid.uuid4())
    event.update(extra)
    return event


def contexts(*entities: dict[str, Any]) -> str:
    return json.dumps(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
            "data": list(entities),
        }
    )


def tp2_body(*events: dict[str, str]) -> dict[str, Any]:
    return {"schema": PAYLOAD_DATA, "data": list(events)}


def wait_for(check: Callable[[], T | None], timeout: float = 20, what: str = "condition") -> T:
    """Poll until ``check`` returns a truthy value (functional waits, not timing asserts)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def running(options: UpOptions | None = None) -> Iterator[UpServer]:
    """A `plowline up` server on a free loopback port, stopped (flushed) afterwards."""
    server = UpServer(replace(options or UpOptions(), port=0))
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop()
