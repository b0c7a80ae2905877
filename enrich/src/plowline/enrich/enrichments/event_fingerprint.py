"""Event fingerprint: a hash over the raw tracker parameters (Snowplow's enrichment docs)."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1"
ALGORITHMS: Final = {
    "MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512",
}  # fmt: skip
UNIT_SEPARATOR: Final = "\x1f"


class EventFingerprint(Enrichment):
    name: ClassVar[str] = "event_fingerprint_config"

    def __init__(self, exclude: list[str], algorithm: str = "MD5") -> None:
        self.config_schema = SCHEMA
        self.exclude = frozenset(exclude)
        self.algorithm = ALGORITHMS[algorithm]

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> EventFingerprint:
        return cls(list(parameters["excludeParameters"]), parameters["hashAlgorithm"])

    def fingerprint(self, params: dict[str, str | None]) -> str:
        """hex(hash(concat of ``name␟value␟`` over the params sorted by name, minus excluded))."""
        parts: list[str] = []
        for name in sorted(params):
            if name in self.exclude:
                continue
            parts.extend((name, UNIT_SEPARATOR, params[name] or "", UNIT_SEPARATOR))
        return hashlib.new(self.algorithm, "".join(parts).encode("utf-8")).hexdigest()

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        event.set("event_fingerprint", self.fingerprint(state.raw.parameters))
