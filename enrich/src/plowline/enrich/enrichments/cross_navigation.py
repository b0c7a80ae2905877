"""Cross navigation: the ``cross_navigation/1-0-0`` entity from the page URL's ``_sp``.

``_sp=<duid>.<ms>[.<session id>.<b64 user id>.<b64 source id>.<source platform>.<b64 reason>]``
(enrich's base64 decoding). refr_domain_userid / refr_dvce_tstamp are filled by the pipeline anyway;
this enrichment adds the entity (only when both duid and timestamp are present).
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from plowline.enrich.conversions import decode_base64url, tstamp_to_iso
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0"
)
CONTEXT: Final = "iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0"


class CrossNavigation(Enrichment):
    name: ClassVar[str] = "cross_navigation_config"

    def __init__(self) -> None:
        self.config_schema = SCHEMA

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        duid, tstamp = event.get("refr_domain_userid"), event.get("refr_dvce_tstamp")
        if duid is None or tstamp is None:
            return
        value = next((v for k, v in reversed(state.page_query) if k == "_sp"), None) or ""
        parts = value.split(".")

        def part(i: int, encoded: bool = False) -> str | None:
            if len(parts) <= i or not parts[i]:
                return None
            return decode_base64url(parts[i]) if encoded else parts[i]

        data: dict[str, Any] = {
            "domain_user_id": duid,
            "timestamp": tstamp_to_iso(tstamp),
            "session_id": part(2),
            "user_id": part(3, encoded=True),
            "source_id": part(4, encoded=True),
            "source_platform": part(5),
            "reason": part(6, encoded=True),
        }
        event.derived_contexts.append({"schema": CONTEXT, "data": data})
