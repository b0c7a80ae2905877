"""Self-describing JSON (SDJ): ``{"schema": "iglu:vendor/name/format/M-R-A", "data": ...}``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plowline.tracker.errors import InvalidEventError

# iglu:<vendor>/<name>/<format>/<model>-<revision>-<addition> (Iglu's own URI grammar).
_IGLU_URI = re.compile(
    r"^iglu:[a-zA-Z0-9_.\-]+/[a-zA-Z0-9_\-]+/[a-zA-Z0-9_\-]+/[0-9]+-[0-9]+-[0-9]+$"
)

CONTEXTS_SCHEMA = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
UNSTRUCT_EVENT_SCHEMA = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
PAYLOAD_DATA_SCHEMA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


@dataclass(frozen=True, slots=True)
class SelfDescribingJson:
    """A schema URI and the data it describes. ``data`` must be JSON-serialisable."""

    schema: str
    data: Any

    def __post_init__(self) -> None:
        if not isinstance(self.schema, str) or not _IGLU_URI.match(self.schema):
            raise InvalidEventError(
                f"schema must be an Iglu URI like 'iglu:com.acme/thing/jsonschema/1-0-0', "
                f"got {self.schema!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object form, ``schema`` first (the key order Snowplow writes)."""
        return {"schema": self.schema, "data": self.data}

    @classmethod
    def from_dict(cls, value: Any) -> SelfDescribingJson:
        """Build from a ``{"schema": ..., "data": ...}`` mapping, with a clear error otherwise."""
        if isinstance(value, SelfDescribingJson):
            return value
        if not isinstance(value, Mapping) or set(value) != {"schema", "data"}:
            raise InvalidEventError(
                f"a self-describing JSON must be an object with exactly 'schema' and 'data', "
                f"got {value!r:.200}"
            )
        return cls(value["schema"], value["data"])
