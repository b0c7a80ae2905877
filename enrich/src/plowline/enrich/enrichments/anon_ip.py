"""IP anonymisation: trailing IPv4 octets / IPv6 segments replaced by ``x`` (anon_ip docs)."""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1"


class AnonIp(Enrichment):
    name: ClassVar[str] = "anon_ip"

    def __init__(self, octets: int, segments: int | None = None) -> None:
        self.config_schema = SCHEMA
        self.octets = octets
        self.segments = segments if segments is not None else octets

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> AnonIp:
        segments = parameters.get("anonSegments")
        return cls(int(parameters["anonOctets"]), int(segments) if segments is not None else None)

    def anonymise(self, ip: str) -> str:
        """``1.2.3.4`` -> ``1.2.x.x`` (2 octets); IPv6 is expanded first. Non-IPs are kept."""
        if ip.count(".") == 3 and ":" not in ip:
            parts = ip.split(".")
            keep = max(0, 4 - self.octets)
            return ".".join(parts[:keep] + ["x"] * (4 - keep))
        if ":" in ip:
            try:
                expanded = ipaddress.IPv6Address(ip.split("%", 1)[0]).exploded
            except ValueError:
                return ip
            groups = expanded.split(":")
            keep = max(0, 8 - self.segments)
            return ":".join(groups[:keep] + ["x"] * (8 - keep))
        return ip

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        ip = event.get("user_ipaddress")
        if ip is not None:
            event.set("user_ipaddress", self.anonymise(ip))
