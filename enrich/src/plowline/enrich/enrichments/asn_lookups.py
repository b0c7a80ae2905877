"""ASN lookups: ``likelyBot`` on the ``asn`` entity (enrich 6; Snowplow docs "ASN lookup").

Configured by ``iglu:com.snowplowanalytics.snowplow.enrichments/asn_lookups/jsonschema/1-0-0``:
``botAsnsFile`` (a CSV whose first line is a header and whose first column is an AS number),
``botAsns`` (more numbers; ``name`` is informative only) and ``bypassPlatforms``. The IP
lookups enrichment's ASN database (``GeoLite2-ASN.mmdb``) gives the ``asn/1-0-1`` entity; this
step runs after it and rewrites that entity as ``{number, organization, likelyBot}``, with
``likelyBot`` true when the number is listed. Events of a bypassed platform keep the entity
as IP lookups wrote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.files import data_file
from plowline.enrich.enrichments.ip_lookups import ASN_CONTEXT
from plowline.enrich.event import EnrichedEvent


def read_bot_asns(path: Path) -> set[int]:
    """AS numbers of the CSV's first column, after its header line (as enrich reads it)."""
    numbers: set[int] = set()
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    for number, line in enumerate(lines, 2):
        if not line.strip():
            continue
        first = line.split(",", 1)[0].strip()
        try:
            numbers.add(int(first))
        except ValueError:
            raise ValueError(f"{path.name} line {number}: {first!r} is not an AS number") from None
    return numbers


class AsnLookups(Enrichment):
    name: ClassVar[str] = "asn_lookups"

    def __init__(self, bot_asns: set[int], bypass_platforms: set[str]) -> None:
        self.bot_asns = frozenset(bot_asns)
        self.bypass_platforms = frozenset(bypass_platforms)

    @classmethod
    def from_config(cls, parameters: dict[str, Any], base_dir: Path | None = None) -> AsnLookups:
        numbers = {int(item["asn"]) for item in parameters.get("botAsns") or []}
        spec = parameters.get("botAsnsFile")
        if spec is not None:
            numbers |= read_bot_asns(data_file(spec["uri"], spec["database"], base_dir))
        return cls(numbers, set(parameters.get("bypassPlatforms") or []))

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        if event.get("platform") in self.bypass_platforms:
            return
        for entity in event.derived_contexts:
            if entity.get("schema") != ASN_CONTEXT:
                continue
            data = entity["data"]
            number = data.get("number")
            if not isinstance(number, int):
                continue
            rewritten: dict[str, Any] = {"number": number}
            if data.get("organization") is not None:
                rewritten["organization"] = data["organization"]
            rewritten["likelyBot"] = number in self.bot_asns
            entity["data"] = rewritten
