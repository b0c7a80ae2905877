"""ASN lookups (``asn_lookups`` 1-0-0): ``likelyBot`` on the IP lookups' ``asn`` entity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.asn_lookups import read_bot_asns
from plowline.enrich.enrichments.config import EnrichmentConfigError, load_enrichments
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request, write_mmdb

S = "iglu:com.snowplowanalytics.snowplow"
E = "iglu:com.snowplowanalytics.snowplow.enrichments"
ASN = f"{S}/asn/jsonschema/1-0-1"


def sdj(schema: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    data = {"name": name, "vendor": "v", "enabled": True, "parameters": parameters}
    return {"schema": schema, "data": data}


@pytest.fixture
def asn_ctx(tmp_path: Path, validator: IgluValidator, ctx: EnrichContext) -> EnrichContext:
    data = tmp_path / "data"
    data.mkdir()
    write_mmdb(str(data / "GeoLite2-ASN.mmdb"), {
        "203.0.113.0/24": {"autonomous_system_number": 64500,
                           "autonomous_system_organization": "Hosting Co"},
        "198.51.100.0/24": {"autonomous_system_number": 64501},
        "192.0.2.0/24": {"autonomous_system_number": 64502,
                         "autonomous_system_organization": "Home ISP"},
    })  # fmt: skip
    (data / "bots.csv").write_text("asn,name\n64500,Hosting Co\n\n")
    folder = tmp_path / "enrichments"
    folder.mkdir()
    (folder / "ip_lookups.json").write_text(json.dumps(sdj(
        f"{S}/ip_lookups/jsonschema/2-0-1", "ip_lookups",
        {"asn": {"database": "GeoLite2-ASN.mmdb", "uri": data.as_uri()}},
    )))  # fmt: skip
    (folder / "asn_lookups.json").write_text(json.dumps(sdj(
        f"{E}/asn_lookups/jsonschema/1-0-0", "asn_lookups",
        {"botAsnsFile": {"database": "bots.csv", "uri": data.as_uri()},
         "botAsns": [{"asn": 64501, "name": "Cloud"}], "bypassPlatforms": ["srv"]},
    )))  # fmt: skip
    enrichments = load_enrichments(folder, validator)
    return EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)


def asn_of(ctx: EnrichContext, ip: str, platform: str = "web") -> list[Any]:
    payload = payload_from_request("GET", "/i", f"e=pv&p={platform}&tv=t", ip=ip)
    (event,) = enrich(payload, ctx)
    assert isinstance(event, EnrichedEvent)
    found = [c["data"] for c in event.derived_contexts if c["schema"] == ASN]
    for data in found:
        assert ctx.validator.check(ASN, data) is None
    return found


def test_listed_numbers_are_likely_bots(asn_ctx: EnrichContext) -> None:
    assert asn_of(asn_ctx, "203.0.113.9") == [
        {"number": 64500, "organization": "Hosting Co", "likelyBot": True}
    ]
    assert asn_of(asn_ctx, "198.51.100.1") == [{"number": 64501, "likelyBot": True}]
    assert asn_of(asn_ctx, "192.0.2.7") == [
        {"number": 64502, "organization": "Home ISP", "likelyBot": False}
    ]
    assert asn_of(asn_ctx, "10.1.1.1") == []  # no entity, nothing to mark


def test_bypassed_platform_keeps_the_entity_as_ip_lookups_wrote_it(
    asn_ctx: EnrichContext,
) -> None:
    assert asn_of(asn_ctx, "203.0.113.9", "srv") == [
        {"number": 64500, "organization": "Hosting Co"}
    ]


def test_bad_csv_stops_the_start(tmp_path: Path, validator: IgluValidator) -> None:
    (tmp_path / "bots.csv").write_text("asn\nAS64500\n")
    with pytest.raises(ValueError, match="line 2: 'AS64500'"):
        read_bot_asns(tmp_path / "bots.csv")
    folder = tmp_path / "e"
    folder.mkdir()
    (folder / "asn.json").write_text(json.dumps(sdj(
        f"{E}/asn_lookups/jsonschema/1-0-0", "asn_lookups",
        {"botAsnsFile": {"database": "bots.csv", "uri": tmp_path.as_uri()}},
    )))  # fmt: skip
    with pytest.raises(EnrichmentConfigError, match=r"asn\.json: cannot configure asn_lookups"):
        load_enrichments(folder, validator)
