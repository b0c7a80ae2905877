"""Loader bad rows: self-describing JSON, one compact line each (snowplow-badrows shapes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from plowline.storage import __version__

LOADER_PARSING_ERROR = (
    "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0"
)
ARTIFACT = "plowline-load"


@dataclass(frozen=True, slots=True)
class InvalidValue:
    key: str
    value: str
    message: str

    def to_json(self) -> dict[str, str]:
        # The schema caps `key` at 32 characters.
        return {
            "type": "InvalidValue",
            "key": self.key[:32],
            "value": self.value,
            "message": self.message,
        }


def _payload(line: bytes | str) -> str:
    if isinstance(line, bytes):
        return line.decode("utf-8", errors="backslashreplace")
    return line


def _row(payload: bytes | str, failure: dict[str, Any]) -> bytes:
    doc = {
        "schema": LOADER_PARSING_ERROR,
        "data": {
            "payload": _payload(payload),
            "failure": failure,
            "processor": {"artifact": ARTIFACT, "version": __version__},
        },
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def field_count_mismatch(line: bytes | str, count: int) -> bytes:
    return _row(line, {"type": "FieldNumberMismatch", "fieldCount": min(count, 1024)})


def not_tsv(line: bytes | str) -> bytes:
    return _row(line, {"type": "NotTSV"})


def invalid_values(line: bytes | str, errors: list[InvalidValue]) -> bytes:
    return _row(line, {"type": "RowDecodingError", "errors": [e.to_json() for e in errors]})


def unhandled(line: bytes | str, message: str) -> bytes:
    return _row(
        line,
        {
            "type": "RowDecodingError",
            "errors": [{"type": "UnhandledRowDecodingError", "message": message}],
        },
    )
