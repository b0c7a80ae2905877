"""The enrichment interface and the fixed pipeline order (enrich EnrichmentManager.scala)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from plowline.enrich.event import EnrichedEvent
from plowline.enrich.querystring import parse_form_pairs
from plowline.enrich.raw import RawEvent

# Position of each step in enrich's fixed order; built-in steps use the same scale.
ORDER: Final[dict[str, int]] = {
    "v_collector": 10,
    "page_uri": 20,
    "derived_tstamp": 30,
    "iab_spiders_and_robots_enrichment": 40,
    "ua_parser_config": 50,
    "referer_uri": 60,
    "referer_parser": 65,
    "page_query": 70,
    "campaign_attribution": 75,
    "cross_navigation": 80,
    "cross_navigation_config": 85,
    "event_fingerprint_config": 90,
    "cookie_extractor_config": 100,
    "http_header_extractor_config": 110,
    "event_schema": 120,
    "currency_conversion_config": 125,
    "ip_lookups": 130,
    "asn_lookups": 135,
    "bot_detection_enrichment_config": 137,
    "weather_enrichment_config": 138,
    "javascript_script_config": 140,
    "sql_query_enrichment_config": 150,
    "api_request_enrichment_config": 160,
    "anon_ip": 170,
    "pii_enrichment_config": 180,
}


class EnrichmentError(Exception):
    """An enrichment could not process an event; becomes an enrichment_failures message.

    ``message`` is either a string or an InputData-shaped dict.
    """

    def __init__(self, message: str | dict[str, Any]) -> None:
        self.message = message
        super().__init__(str(message))


@dataclass(slots=True)
class EnrichState:
    """Per-event scratch space shared by the steps of one pipeline run."""

    raw: RawEvent
    # The page URL's raw querystring; parsed on first use (most steps never need it).
    page_querystring: str | None = None
    _page_query: list[tuple[str, str | None]] | None = None
    # Events emitted besides the main one (PII emitEvent), in order.
    extra_events: list[EnrichedEvent] = field(default_factory=list)
    # Set by the JavaScript enrichment's drop(): the event is discarded (no output at all).
    dropped: bool = False
    # JavaScript may rewrite ue/contexts: they are validated again in phase 3.
    revalidate_inputs: bool = False

    @property
    def page_query(self) -> list[tuple[str, str | None]]:
        if self._page_query is None:
            text = self.page_querystring
            self._page_query = parse_form_pairs(text) if text else []
        return self._page_query


class Enrichment:
    """Base class: subclasses set ``name``/``schema`` and implement ``apply``."""

    name: ClassVar[str] = ""
    config_schema: str = ""

    @property
    def order(self) -> int:
        return ORDER[self.name]

    @property
    def identifier(self) -> str:
        return self.name

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections or files (no-op for most enrichments)."""
