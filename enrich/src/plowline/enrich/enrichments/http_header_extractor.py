"""HTTP header extractor: ``org.ietf/http_header`` entities for headers matching a regex."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0"
)
CONTEXT: Final = "iglu:org.ietf/http_header/jsonschema/1-0-0"


class HttpHeaderExtractor(Enrichment):
    name: ClassVar[str] = "http_header_extractor_config"

    def __init__(self, pattern: str) -> None:
        self.config_schema = SCHEMA
        self.pattern = re.compile(pattern)

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> HttpHeaderExtractor:
        return cls(parameters["headersPattern"])

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        for header in state.raw.payload.headers or []:
            name, colon, value = header.partition(":")
            if not colon:
                continue
            name = name.strip()
            if self.pattern.fullmatch(name):
                event.derived_contexts.append(
                    {"schema": CONTEXT, "data": {"name": name, "value": value.strip()}}
                )
