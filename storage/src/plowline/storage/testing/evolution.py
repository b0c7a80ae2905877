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


# A second family for type evolution: legal SchemaVer relaxations (1-0-1), a narrowing
# (1-0-2) and type changes no migration allows (1-1-0: integer to string, 1-1-1: to boolean).
EVO = "iglu:com.acme/evo/jsonschema/"


def _evo(version: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    doc = schema(version, properties, required)
    doc["self"] = {"vendor": "com.acme", "name": "evo", "format": "jsonschema", "version": version}
    return doc


_CODE = {"type": "string", "maxLength": 4}
EVO_SCHEMAS = {
    EVO + "1-0-0": _evo(
        "1-0-0",
        {
            "label": {"type": "string", "maxLength": 10},
            "count": {"type": "integer", "minimum": 0, "maximum": 100},
            "amount": {"type": "integer"},
            "code": {"type": "string", "maxLength": 4},
        },
        ["code"],
    ),
    EVO + "1-0-1": _evo(
        "1-0-1",
        {
            "label": {"type": "string", "maxLength": 100},  # maxLength grows
            "count": {"type": "integer", "minimum": 0},  # maximum removed
            "amount": {"type": "number"},  # integer -> number
            "code": {"type": "string"},  # maxLength removed, no longer required
        },
        [],
    ),
    EVO + "1-0-2": _evo(
        "1-0-2",
        {
            "label": {"type": "string", "maxLength": 5},  # narrower: the column stays wide
            "count": {"type": "integer", "minimum": 0, "maximum": 10},
            "amount": {"type": "integer"},
            "code": {"type": "string", "maxLength": 2},
        },
        [],
    ),
    EVO + "1-1-0": _evo("1-1-0", {"code": _CODE, "amount": {"type": "string"}}, ["code"]),
    EVO + "1-1-1": _evo("1-1-1", {"code": _CODE, "amount": {"type": "boolean"}}, ["code"]),
}


def evo_lines(version: str, data: dict[str, Any], count: int, seed: int) -> list[bytes]:
    """Generated events whose only entity is one com.acme/evo of `version`."""
    ctx = contexts({"schema": EVO + version, "data": data})
    return [
        with_fields(line, contexts=ctx, derived_contexts="", unstruct_event="")
        for line in enriched_lines(count, seed=seed)
    ]
