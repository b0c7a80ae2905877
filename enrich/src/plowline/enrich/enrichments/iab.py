"""Spiders and robots: the ``com.iab.snowplow/spiders_and_robots`` entity (IAB enrichment docs).

The IAB/ABC lists are licensed, so Plowline bundles its own small lists in a simple format
(see the files under ``plowline/enrich/data``): CIDRs; browser substrings that must appear;
robot substrings ``pattern|ACTIVE|IMPACT``. Configs point at them with ``uri: "bundled:"`` or
at local files in the same format. Checks run on the IP before anonymisation.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.files import data_file
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/"
    "jsonschema/1-0-1"
)
CONTEXT: Final = "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class RobotPattern:
    pattern: str
    active: bool
    impact: str


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def parse_robot(line: str) -> RobotPattern:
    pattern, _, rest = line.partition("|")
    state, _, impact = rest.partition("|")
    return RobotPattern(
        pattern.lower(), state.strip().upper() != "INACTIVE", impact.strip() or "UNKNOWN"
    )


class SpidersAndRobots(Enrichment):
    name: ClassVar[str] = "iab_spiders_and_robots_enrichment"

    def __init__(
        self, networks: list[Network], include: list[str], exclude: list[RobotPattern]
    ) -> None:
        self.config_schema = SCHEMA
        self.networks = networks
        self.include = [p.lower() for p in include]
        self.exclude = exclude
        self._classify = lru_cache(maxsize=8192)(self._classify_uncached)

    @classmethod
    def from_config(
        cls, parameters: dict[str, Any], base_dir: Path | None = None
    ) -> SpidersAndRobots:
        def file(key: str) -> Path:
            spec = parameters[key]
            return data_file(spec["uri"], spec["database"], base_dir)

        networks = [ipaddress.ip_network(line, strict=False) for line in _lines(file("ipFile"))]
        include = _lines(file("includeUseragentFile")) + list(
            parameters.get("includeUseragents", [])
        )
        exclude = [parse_robot(line) for line in _lines(file("excludeUseragentFile"))]
        exclude += [
            RobotPattern(p.lower(), True, "UNKNOWN")
            for p in parameters.get("excludeUseragents", [])
        ]
        return cls(networks, include, exclude)

    def _ip_listed(self, ip: str | None) -> bool:
        if ip is None:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def _classify_uncached(self, useragent: str | None, ip: str | None) -> dict[str, Any]:
        if self._ip_listed(ip):
            return _result(True, "SPIDER_OR_ROBOT", "FAILED_IP_EXCLUDE", "UNKNOWN")
        agent = (useragent or "").lower()
        if not any(p in agent for p in self.include):
            return _result(True, "SPIDER_OR_ROBOT", "FAILED_UA_INCLUDE", "UNKNOWN")
        for robot in self.exclude:
            if robot.pattern in agent:
                category = "ACTIVE_SPIDER_OR_ROBOT" if robot.active else "INACTIVE_SPIDER_OR_ROBOT"
                return _result(True, category, "FAILED_UA_EXCLUDE", robot.impact)
        return _result(False, "BROWSER", "PASSED_ALL", "NONE")

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        useragent, ip = event.get("useragent"), event.get("user_ipaddress")
        if useragent is None and ip is None:
            return
        event.derived_contexts.append(
            {"schema": CONTEXT, "data": dict(self._classify(useragent, ip))}
        )


def _result(robot: bool, category: str, reason: str, impact: str) -> dict[str, Any]:
    return {"spiderOrRobot": robot, "category": category, "reason": reason, "primaryImpact": impact}
