"""Helpers shared by the storage tests, benchmarks and other components' tests."""

from __future__ import annotations

import importlib
import json
from typing import Any

from plowline.spec.data import data_path

# Imported by name: whether its type stubs are installed varies, its behaviour does not.
jsonschema: Any = importlib.import_module("jsonschema")


def check_bad_row(row: bytes) -> dict[str, Any]:
    """Parse a loader bad row and validate it against its Iglu schema; returns its data."""
    doc = json.loads(row)
    vendor, name, fmt, version = doc["schema"].removeprefix("iglu:").split("/")
    schema = json.loads(data_path("schemas", vendor, name, fmt, version).read_text())
    # Iglu's self-describing meta-schema is draft 4 underneath.
    jsonschema.Draft4Validator(schema).validate(doc["data"])
    data: dict[str, Any] = doc["data"]
    return data
