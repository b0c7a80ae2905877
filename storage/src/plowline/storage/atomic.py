"""The 131 enriched-event fields (spec/enriched/fields.yaml, generated module) for the loaders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from plowline.spec.enriched_fields import FIELDS as SPEC_FIELDS

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
    """The 131 fields from the generated spec module (plowline.spec.enriched_fields)."""
    out = tuple(
        Field(index=f.index, name=f.name, type=f.type, nullable=f.nullable, postgres=f.postgres)
        for f in SPEC_FIELDS
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
