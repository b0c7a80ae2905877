"""A small schema family for evolution tests: 1-0-0, then 1-0-1 (adds a column), then 2-0-0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plowline.storage.testing.events import contexts, enriched_lines, with_fields

VENDOR = "com.acme"
NAME = "cartItem"
META = "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"


def schema(version: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": META,
        "self": {"vendor": VENDOR, "name": NAME, "format": "jsonschema", "version": version},
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


SCHEMAS = {
    "1-0-0": schema(
        "1-0-0",
        {
            "sku": {"type": "string", "maxLength": 20},
            "quantity": {"type": "integer", "minimum": 0, "maximum": 1000},
        },
        ["sku"],
    ),
    "1-0-1": schema(
        "1-0-1",
        {
            "sku": {"type": "string", "maxLength": 20},
            "quantity": {"type": "integer", "minimum": 0, "maximum": 1000},
            "priceDetail": {"type": "object", "properties": {"unitPrice": {"type": "number"}}},
        },
        ["sku"],
    ),
    "2-0-0": schema(
        "2-0-0",
        {"sku": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        ["sku"],
    ),
}


def write_schemas(root: Path, versions: tuple[str, ...] = ("1-0-0", "1-0-1", "2-0-0")) -> Path:
    folder = root / VENDOR / NAME / "jsonschema"
    folder.mkdir(parents=True, exist_ok=True)
    for v in versions:
        (folder / v).write_text(json.dumps(SCHEMAS[v]))
    return root


def uri(version: str) -> str:
    return f"iglu:{VENDOR}/{NAME}/jsonschema/{version}"


def lines_with(version: str, data: dict[str, Any], count: int, seed: int) -> list[bytes]:
    """Generated events whose only entity is one cartItem of `version`."""
    ctx = contexts({"schema": uri(version), "data": data})
    return [
        with_fields(line, contexts=ctx, derived_contexts="", unstruct_event="")
        for line in enriched_lines(count, seed=seed)
    ]
