"""The 131 enriched-event fields (from spec/enriched/fields.yaml) as the loaders need them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from plowline.spec.data import data_path

FIELD_COUNT = 131
_LIMIT = re.compile(r"^(?:VARCHAR|CHAR)\((\d+)\)")


@dataclass(frozen=True, slots=True)
class Field:
    index: int
    name: str
    type: str  # string | int | decimal | double | bool | timestamp | uuid | json
    nullable: bool
    postgres: str | None  # column type in atomic.events; None: shredded into entity tables

    @property
    def limit(self) -> int | None:
        """Longest string the atomic.events column holds."""
        match = _LIMIT.match(self.postgres or "")
        return int(match.group(1)) if match else None


@cache
def fields() -> tuple[Field, ...]:
    raw: dict[str, Any] = yaml.safe_load(data_path("enriched", "fields.yaml").read_text())
    out = tuple(
        Field(
            index=int(f["index"]),
            name=str(f["name"]),
            type=str(f["type"]),
            nullable=bool(f["nullable"]),
            postgres=str(f["postgres"]) if f.get("postgres") else None,
        )
        for f in raw["fields"]
    )
    if len(out) != FIELD_COUNT or any(f.index != i for i, f in enumerate(out)):
        raise RuntimeError(f"fields.yaml must list {FIELD_COUNT} fields in index order")
    return out


@cache
def atomic_columns() -> tuple[Field, ...]:
    """The atomic.events columns, in TSV order: every field but the three JSON ones."""
    return tuple(f for f in fields() if f.postgres is not None)


@cache
def index_of(name: str) -> int:
    for f in fields():
        if f.name == name:
            return f.index
    raise KeyError(name)


CONTEXTS = 52
UNSTRUCT_EVENT = 58
DERIVED_CONTEXTS = 122
EVENT_ID = 6
COLLECTOR_TSTAMP = 3
