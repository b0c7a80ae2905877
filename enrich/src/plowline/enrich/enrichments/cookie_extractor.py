"""Cookie extractor: one ``org.ietf/http_cookie`` derived entity per configured cookie."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0"
CONTEXT: Final = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"


def request_cookies(headers: list[str] | None) -> list[tuple[str, str]]:
    """Name/value pairs of every ``Cookie:`` header, in order."""
    out: list[tuple[str, str]] = []
    for header in headers or []:
        name, _, value = header.partition(":")
        if name.strip().lower() != "cookie":
            continue
        for piece in value.split(";"):
            cookie_name, equals, cookie_value = piece.strip().partition("=")
            if equals and cookie_name:
                out.append((cookie_name.strip(), cookie_value.strip()))
    return out


class CookieExtractor(Enrichment):
    name: ClassVar[str] = "cookie_extractor_config"

    def __init__(self, cookies: list[str]) -> None:
        self.config_schema = SCHEMA
        self.cookies = frozenset(cookies)

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> CookieExtractor:
        return cls(list(parameters["cookies"]))

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        for name, value in request_cookies(state.raw.payload.headers):
            if name in self.cookies:
                event.derived_contexts.append(
                    {"schema": CONTEXT, "data": {"name": name[:4096], "value": value[:4096]}}
                )
