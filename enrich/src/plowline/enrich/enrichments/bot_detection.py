"""Bot detection: one ``bot_detection/1-0-1`` entity from the other enrichments' verdicts.

As enrich 6 defines it (Snowplow docs "Bot detection enrichment"): with
``bot_detection_enrichment_config`` 1-0-0 / 1-0-1 each enabled source adds its name to
``indicators`` when its entity says bot, and ``bot`` is true when any did:

- ``yauaa``: ``nl.basjes/yauaa_context/1-0-5`` with ``deviceClass`` Robot, Robot Mobile or Robot
  Imitator, or ``agentClass`` Robot or Robot Mobile;
- ``iab``: ``com.iab.snowplow/spiders_and_robots/1-0-0`` with ``spiderOrRobot`` true;
- ``asnLookups``: ``asn/1-0-1`` with ``likelyBot`` true (the ASN lookups enrichment);
- ``clientSideDetection`` (1-0-1 ``useClientSideDetection``): the tracker-sent
  ``client_side_bot_detection/1-0-0`` entity with ``bot`` true.

A source whose entity is absent is skipped. The entity is always added. Indicator order is
enrich's: tracker entities first (enrich folds each hit onto the front of its list, so the last
tracker entity comes first), then derived ones in the order their enrichments added them
(enrich keeps derived contexts latest first, and the same fold reverses that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.ip_lookups import ASN_CONTEXT
from plowline.enrich.event import EnrichedEvent

OUTPUT: Final = "iglu:com.snowplowanalytics.snowplow/bot_detection/jsonschema/1-0-1"
YAUAA: Final = "iglu:nl.basjes/yauaa_context/jsonschema/1-0-5"
IAB: Final = "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0"
CLIENT_SIDE: Final = (
    "iglu:com.snowplowanalytics.snowplow/client_side_bot_detection/jsonschema/1-0-0"
)
_BOT_DEVICES: Final = frozenset({"Robot", "Robot Mobile", "Robot Imitator"})
_BOT_AGENTS: Final = frozenset({"Robot", "Robot Mobile"})

Indicator = tuple[str, Callable[[Any], bool]]


def _flag(name: str) -> Callable[[Any], bool]:
    return lambda data: isinstance(data, dict) and data.get(name) is True


def _yauaa(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    return data.get("deviceClass") in _BOT_DEVICES or data.get("agentClass") in _BOT_AGENTS


class BotDetection(Enrichment):
    name: ClassVar[str] = "bot_detection_enrichment_config"

    def __init__(
        self, use_yauaa: bool, use_iab: bool, use_asn_lookups: bool, use_client_side: bool = False
    ) -> None:
        self.derived: dict[str, Indicator] = {}
        if use_yauaa:
            self.derived[YAUAA] = ("yauaa", _yauaa)
        if use_iab:
            self.derived[IAB] = ("iab", _flag("spiderOrRobot"))
        if use_asn_lookups:
            self.derived[ASN_CONTEXT] = ("asnLookups", _flag("likelyBot"))
        self.inputs: dict[str, Indicator] = (
            {CLIENT_SIDE: ("clientSideDetection", _flag("bot"))} if use_client_side else {}
        )

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> BotDetection:
        return cls(
            bool(parameters["useYauaa"]),
            bool(parameters["useIab"]),
            bool(parameters["useAsnLookups"]),
            bool(parameters.get("useClientSideDetection", False)),  # 1-0-0 has no such source
        )

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        indicators = _triggered(event.contexts, self.inputs)[::-1]
        indicators += _triggered(event.derived_contexts, self.derived)
        event.derived_contexts.append(
            {"schema": OUTPUT, "data": {"bot": bool(indicators), "indicators": indicators}}
        )


def _triggered(entities: list[dict[str, Any]], by_schema: dict[str, Indicator]) -> list[str]:
    if not by_schema:
        return []
    found = []
    for entity in entities:
        indicator = by_schema.get(entity.get("schema", ""))
        if indicator is not None and indicator[1](entity.get("data")):
            found.append(indicator[0])
    return found
