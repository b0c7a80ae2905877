"""UA parser: the ``ua_parser_context`` derived entity from ``useragent`` (Snowplow docs).

Uses the ``ua-parser`` package (uap-core rules, precompiled in ``ua-parser-builtins``);
results are memoised because real traffic repeats a small set of user agents.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar, Final

import ua_parser
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1"
CONTEXT: Final = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"


def _dot(part: str | None) -> str:
    return "." + part if part is not None else ""


def _space(part: str | None) -> str:
    return " " + part if part is not None else ""


@lru_cache(maxsize=8192)
def ua_context(useragent: str) -> dict[str, Any]:
    """The context data enrich builds from uap-core's answer ("Other" when nothing matches)."""
    result = ua_parser.parse(useragent)
    agent, os, device = result.user_agent, result.os, result.device
    ua_family = agent.family if agent else "Other"
    ua_major, ua_minor, ua_patch = (
        (agent.major, agent.minor, agent.patch) if agent else (None, None, None)
    )
    os_family = os.family if os else "Other"
    os_major, os_minor, os_patch, os_patch_minor = (
        (os.major, os.minor, os.patch, os.patch_minor) if os else (None, None, None, None)
    )
    return {
        "useragentFamily": ua_family,
        "useragentMajor": ua_major,
        "useragentMinor": ua_minor,
        "useragentPatch": ua_patch,
        "useragentVersion": ua_family + _space(ua_major) + _dot(ua_minor) + _dot(ua_patch),
        "osFamily": os_family,
        "osMajor": os_major,
        "osMinor": os_minor,
        "osPatch": os_patch,
        "osPatchMinor": os_patch_minor,
        "osVersion": os_family
        + _space(os_major)
        + _dot(os_minor)
        + _dot(os_patch)
        + _dot(os_patch_minor),
        "deviceFamily": device.family if device else "Other",
    }


class UaParser(Enrichment):
    name: ClassVar[str] = "ua_parser_config"

    def __init__(self) -> None:
        self.config_schema = SCHEMA

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> UaParser:
        if parameters.get("database") or parameters.get("uri"):
            # A custom regexes.yaml is not supported yet: say so instead of ignoring it.
            raise ValueError("ua_parser_config: custom database/uri is not supported")
        return cls()

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        useragent = event.get("useragent")
        if useragent is None:
            return
        event.derived_contexts.append({"schema": CONTEXT, "data": dict(ua_context(useragent))})
