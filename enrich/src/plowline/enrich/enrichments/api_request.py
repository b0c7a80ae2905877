"""API request enrichment: call an HTTP JSON API per event, add derived contexts (Snowplow docs).

``{{key}}`` placeholders in the URI are filled with URL-encoded input values; when an input
is missing the call is skipped (no context), as in Snowplow. POST/PUT send the inputs as a
JSON object. Each output's ``jsonPath`` picks the entity data from the response. Answers are
cached (LRU with TTL) per request. Errors (timeout, non-2xx, not JSON, nothing at the path)
are enrichment failures unless ``ignoreOnError``. The HTTP client is injected (``fetch``);
the default uses the standard library with the configured timeout.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, ClassVar, Final
from urllib.parse import quote

from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.enrichments.cache import TtlLru
from plowline.enrich.enrichments.jsonpath import InputSpec, Steps, compile_path, select
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.jsonutil import JsonError, parse_json

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2"
)
_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}")

# (method, url, body, headers, timeout seconds) -> (status, body bytes)
Fetch = Callable[[str, str, bytes | None, dict[str, str], float], tuple[int, bytes]]


def urllib_fetch(
    method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
) -> tuple[int, bytes]:
    if not url.startswith(("http://", "https://")):
        raise EnrichmentError(f"api_request: only http(s) URIs are called, not {url!r}")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), bytes(response.read(10 * 1024 * 1024))
    except urllib.error.HTTPError as exc:
        return int(exc.code), b""


class ApiRequest(Enrichment):
    name: ClassVar[str] = "api_request_enrichment_config"

    def __init__(self, parameters: dict[str, Any], fetch: Fetch = urllib_fetch) -> None:
        self.config_schema = SCHEMA
        self.inputs = [(spec["key"], InputSpec(spec)) for spec in parameters["inputs"]]
        http = parameters["api"]["http"]
        self.method: str = http["method"]
        self.uri: str = http["uri"]
        self.timeout = float(http["timeout"]) / 1000.0
        basic = (http.get("authentication") or {}).get("httpBasic")
        self.headers = {"Accept": "application/json"}
        if basic:
            token = base64.b64encode(f"{basic['username']}:{basic['password']}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.outputs: list[tuple[str, Steps]] = [
            (out["schema"], compile_path(out["json"]["jsonPath"])) for out in parameters["outputs"]
        ]
        cache = parameters["cache"]
        self.cache: TtlLru[list[dict[str, Any]]] = TtlLru(int(cache["size"]), float(cache["ttl"]))
        self.ignore_on_error = bool(parameters.get("ignoreOnError"))
        self.fetch = fetch

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> ApiRequest:
        return cls(parameters)

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        values = {key: spec.value(event) for key, spec in self.inputs}
        wanted = _PLACEHOLDER.findall(self.uri)
        if any(values.get(key) is None for key in wanted):
            return  # Snowplow skips the call when the URI cannot be completed
        url = _PLACEHOLDER.sub(lambda m: quote(_text(values[m.group(1)]), safe=""), self.uri)
        body = None
        headers = dict(self.headers)
        if self.method in ("POST", "PUT"):
            body = json.dumps({k: v for k, v in values.items() if v is not None}).encode()
            headers["Content-Type"] = "application/json"
        key = (self.method, url, body)
        contexts = self.cache.get(key)
        if contexts is None:
            try:
                contexts = self._call(url, body, headers)
            except EnrichmentError:
                if self.ignore_on_error:
                    return
                raise
            self.cache.put(key, contexts)
        event.derived_contexts.extend({"schema": c["schema"], "data": c["data"]} for c in contexts)

    def _call(self, url: str, body: bytes | None, headers: dict[str, str]) -> list[dict[str, Any]]:
        try:
            status, raw = self.fetch(self.method, url, body, headers, self.timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EnrichmentError(f"api_request: {self.method} {url} failed: {exc}") from exc
        if not 200 <= status < 300:
            raise EnrichmentError(f"api_request: {self.method} {url} answered HTTP {status}")
        try:
            document = parse_json(raw.decode("utf-8", errors="replace"), max_depth=100)
        except JsonError as exc:
            raise EnrichmentError(f"api_request: {url} did not answer JSON: {exc}") from exc
        contexts = []
        for schema, steps in self.outputs:
            found = select(document, steps)
            if not found:
                raise EnrichmentError(f"api_request: nothing at the output path for {schema}")
            contexts.append({"schema": schema, "data": found[0]})
        return contexts


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
