"""Campaign attribution: mkt_* fields from the page URL querystring (Snowplow's enrichment docs)."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from plowline.enrich.conversions import tsv_safe
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1"
DEFAULT_CLICK_IDS: Final = {"gclid": "Google", "msclkid": "Microsoft", "dclid": "DoubleClick"}
_FIELDS: Final = (
    ("mktMedium", "mkt_medium"),
    ("mktSource", "mkt_source"),
    ("mktTerm", "mkt_term"),
    ("mktContent", "mkt_content"),
    ("mktCampaign", "mkt_campaign"),
)


class CampaignAttribution(Enrichment):
    name: ClassVar[str] = "campaign_attribution"

    def __init__(
        self, fields: dict[str, list[str]], click_ids: dict[str, str] | None = None
    ) -> None:
        self.config_schema = SCHEMA
        self.fields = [(target, list(fields.get(key, []))) for key, target in _FIELDS]
        self.click_ids = {**DEFAULT_CLICK_IDS, **(click_ids or {})}

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> CampaignAttribution:
        fields = parameters["fields"]
        return cls(
            {key: fields[key] for key, _ in _FIELDS if key in fields}, fields.get("mktClickId")
        )

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        if not state.page_query:
            return
        query: dict[str, str | None] = dict(state.page_query)
        for target, names in self.fields:
            for name in names:
                if name in query:
                    event.set(target, tsv_safe(query[name] or ""))
                    break
        for name, network in self.click_ids.items():
            if name in query:
                event.set("mkt_clickid", tsv_safe(query[name] or ""))
                event.set("mkt_network", network)
                break
