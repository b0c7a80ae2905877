"""Bot detection (``bot_detection_enrichment_config`` 1-0-0 / 1-0-1) -> ``bot_detection/1-0-1``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.base import EnrichState
from plowline.enrich.enrichments.bot_detection import CLIENT_SIDE, IAB, OUTPUT, YAUAA, BotDetection
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.enrichments.ip_lookups import ASN_CONTEXT
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request

E = "iglu:com.snowplowanalytics.snowplow.enrichments"
NO_STATE = cast(EnrichState, None)


def verdict(
    enrichment: BotDetection,
    derived: list[tuple[str, Any]],
    sent: list[tuple[str, Any]] = (),  # type: ignore[assignment]
) -> Any:
    event = EnrichedEvent()
    event.derived_contexts = [{"schema": s, "data": d} for s, d in derived]
    event.contexts = [{"schema": s, "data": d} for s, d in sent]
    enrichment.apply(event, NO_STATE)
    (out,) = [c["data"] for c in event.derived_contexts if c["schema"] == OUTPUT]
    return out


ALL = BotDetection(True, True, True, True)


@pytest.mark.parametrize(("derived", "expected"), [
    ([], []),
    ([(YAUAA, {"deviceClass": "Robot", "agentClass": "Browser"})], ["yauaa"]),
    ([(YAUAA, {"deviceClass": "Desktop", "agentClass": "Robot Mobile"})], ["yauaa"]),
    ([(YAUAA, {"deviceClass": "Robot Imitator"})], ["yauaa"]),
    ([(YAUAA, {"deviceClass": "Desktop", "agentClass": "Robot Imitator"})], []),
    ([(IAB, {"spiderOrRobot": True}), (ASN_CONTEXT, {"number": 1, "likelyBot": True})],
     ["iab", "asnLookups"]),
    ([(IAB, {"spiderOrRobot": False}), (ASN_CONTEXT, {"number": 1})], []),
])  # fmt: skip
def test_each_source(derived: list[tuple[str, Any]], expected: list[str]) -> None:
    assert verdict(ALL, derived) == {"bot": bool(expected), "indicators": expected}


def test_disabled_sources_and_client_side() -> None:
    derived = [(IAB, {"spiderOrRobot": True}), (ASN_CONTEXT, {"number": 1, "likelyBot": True})]
    assert verdict(BotDetection(False, False, True), derived)["indicators"] == ["asnLookups"]
    sent = [(CLIENT_SIDE, {"bot": True, "kind": "selenium"})]
    assert verdict(ALL, derived, sent)["indicators"] == ["clientSideDetection", "iab", "asnLookups"]
    assert verdict(BotDetection(True, True, True, False), [], sent)["bot"] is False


def test_config_versions_through_the_pipeline(
    tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    folder = tmp_path / "e"
    folder.mkdir()
    params = {"useYauaa": True, "useIab": True, "useAsnLookups": True}
    (folder / "bot.json").write_text(json.dumps({
        "schema": f"{E}/bot_detection_enrichment_config/jsonschema/1-0-0",
        "data": {"name": "bot_detection_enrichment_config", "vendor": "v", "enabled": True,
                 "parameters": params},
    }))  # fmt: skip
    run = EnrichContext(
        ctx.validator, load_enrichments(folder, validator), clock_ms=ctx.clock_ms,
        new_uuid=ctx.new_uuid,
    )  # fmt: skip
    (event,) = enrich(payload_from_request("GET", "/i", "e=pv&p=web&tv=t"), run)
    assert isinstance(event, EnrichedEvent)
    (data,) = [c["data"] for c in event.derived_contexts if c["schema"] == OUTPUT]
    assert data == {"bot": False, "indicators": []}
    assert validator.check(OUTPUT, data) is None
    assert validator.check(CLIENT_SIDE, {"bot": True, "kind": "selenium"}) is None
