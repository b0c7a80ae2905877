"""The 131 enriched-event fields in TSV order, with the JSON kinds and length limits enrich uses.

Derived from ``plowline.spec.enriched_fields``, which is generated from
spec/enriched/fields.yaml (the one source of truth) and drift-checked by ``plowline-spec check``.
"""

from __future__ import annotations

from typing import Final, Literal

from plowline.spec.enriched_fields import FIELD_COUNT, FIELD_INDEX, FIELD_NAMES
from plowline.spec.enriched_fields import FIELDS as SPEC_FIELDS
from plowline.spec.enriched_fields import Field as SpecField

Kind = Literal["str", "int", "num", "bool", "tstamp", "contexts", "unstruct"]

_KINDS: Final[dict[str, Kind]] = {
    "string": "str",
    "uuid": "str",
    "int": "int",
    "decimal": "num",
    "double": "num",
    "bool": "bool",
    "timestamp": "tstamp",
}


def _kind(field: SpecField) -> Kind:
    """How the analytics-SDK JSON form writes the field (json: an entity list or one event)."""
    if field.type == "json":
        return "unstruct" if field.name == "unstruct_event" else "contexts"
    return _KINDS[field.type]


FIELDS: Final[tuple[tuple[str, Kind], ...]] = tuple((f.name, _kind(f)) for f in SPEC_FIELDS)
FIELD_KINDS: Final[dict[str, Kind]] = dict(FIELDS)

# Length limits enrich checks after the pipeline: the atomic schema's maxLength, or enrich's own
# default where it differs (page_url/page_referrer 10000, mkt_clickid 1000; fields.yaml).
MAX_LENGTHS: Final[dict[str, int]] = {
    f.name: f.length_limit
    for f in SPEC_FIELDS
    if f.length_limit is not None and f.type in ("string", "uuid")
}

__all__ = ["FIELDS", "FIELD_COUNT", "FIELD_INDEX", "FIELD_KINDS", "FIELD_NAMES", "MAX_LENGTHS"]
