"""Bad rows the collector itself emits (only size violations; everything else is enrich's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import orjson
from plowline.collector import __version__

SIZE_VIOLATION: Final = (
    "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0"
)
ARTIFACT: Final = "plowline-collector"


def _timestamp(now_ms: int) -> str:
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now_ms % 1000:03d}Z"


def size_violation(
    payload_text: str, *, actual_bytes: int, maximum_bytes: int, expectation: str, now_ms: int
) -> bytes:
    """A compact ``size_violation`` bad row; the payload is cut to ``maximum_bytes / 10`` chars."""
    row = {
        "schema": SIZE_VIOLATION,
        "data": {
            "processor": {"artifact": ARTIFACT, "version": __version__},
            "failure": {
                "timestamp": _timestamp(now_ms),
                "maximumAllowedSizeBytes": maximum_bytes,
                "actualSizeBytes": actual_bytes,
                "expectation": expectation[:256],
            },
            "payload": payload_text[: maximum_bytes // 10],
        },
    }
    return orjson.dumps(row)
