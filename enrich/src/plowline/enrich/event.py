"""The canonical enriched event: 131 fields, its TSV line and its analytics-SDK JSON forms."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from plowline.enrich.conversions import tstamp_to_iso
from plowline.enrich.fields import FIELD_KINDS, FIELD_NAMES, FIELDS
from plowline.enrich.jsonutil import SDJ, compact

CONTEXTS_SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
UNSTRUCT_SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
_JSON_FIELDS: Final = frozenset({"contexts", "unstruct_event", "derived_contexts"})
_EMPTY: Final = ("",) * len(FIELD_NAMES)
_SCALARS: Final = tuple(name for name in FIELD_NAMES if name not in _JSON_FIELDS)
_CAMEL: Final = re.compile(r"([^A-Z_])([A-Z])")
_IGLU_URI: Final = re.compile(
    r"^iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/(\d+)-"
)


@dataclass(slots=True)
class EnrichedEvent:
    """Scalar fields are held as their TSV strings (absent = null); JSON fields as objects."""

    values: dict[str, str] = field(default_factory=dict)
    contexts: list[SDJ] = field(default_factory=list)
    unstruct_event: SDJ | None = None
    derived_contexts: list[SDJ] = field(default_factory=list)
    # True for PII-enrichment events, which go to the separate PII stream.
    pii: bool = False

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str | None) -> None:
        if value is None:
            self.values.pop(name, None)
        else:
            self.values[name] = value

    def json_field(self, name: str) -> str | None:
        """The TSV text of contexts / unstruct_event / derived_contexts (null when empty)."""
        if name == "contexts":
            return (
                compact({"schema": CONTEXTS_SCHEMA, "data": self.contexts})
                if self.contexts
                else None
            )
        if name == "derived_contexts":
            if not self.derived_contexts:
                return None
            return compact({"schema": CONTEXTS_SCHEMA, "data": self.derived_contexts})
        if name == "unstruct_event":
            if self.unstruct_event is None:
                return None
            return compact({"schema": UNSTRUCT_SCHEMA, "data": self.unstruct_event})
        raise KeyError(name)

    def field_text(self, name: str) -> str | None:
        if name in _JSON_FIELDS:
            return self.json_field(name)
        return self.values.get(name)

    def to_tsv(self) -> str:
        """The 131-field, tab-separated line (no trailing newline)."""
        row = list(map(self.values.get, FIELD_NAMES, _EMPTY))
        row[52] = self.json_field("contexts") or ""
        row[58] = self.json_field("unstruct_event") or ""
        row[122] = self.json_field("derived_contexts") or ""
        return "\t".join(row)

    def partially_enriched(self) -> dict[str, Any]:
        """The ``enriched`` object of a bad row's EnrichmentPayload (snowplow-badrows)."""
        out: dict[str, Any] = {}
        for name, kind in FIELDS:
            text = self.field_text(name)
            if text is None:
                out[name] = None
            elif kind in ("int", "bool") and name != "txn_id":
                out[name] = int(text)
            elif name in ("geo_latitude", "geo_longitude"):
                out[name] = float(text)
            else:
                out[name] = text
        return out


def tsv_to_json(line: str, *, lossy: bool = True, schema_versions: bool = False) -> dict[str, Any]:
    """Convert an enriched TSV line to the analytics-SDK JSON form (as the analytics SDKs write it).

    ``lossy=True`` is the flattened form (``contexts_<vendor>_<name>_<model>`` keys);
    ``lossy=False`` keeps ``contexts``/``derived_contexts``/``unstruct_event`` as objects.
    ``schema_versions=True`` adds ``_schema_version`` to each flattened context's data, as the
    Scala analytics SDK >= 3.2 does (the Python SDK 0.2.3 does not).
    Raises ValueError when the line does not have 131 fields.
    """
    import json

    row = line.rstrip("\n").split("\t")
    if len(row) != len(FIELD_NAMES):
        raise ValueError(f"expected {len(FIELD_NAMES)} tab-separated fields, got {len(row)}")
    out: dict[str, Any] = {}
    flat_contexts: dict[str, list[Any]] = {}
    for name, text in zip(FIELD_NAMES, row, strict=True):
        kind = FIELD_KINDS[name]
        if kind in ("contexts", "unstruct"):
            parsed = json.loads(text) if text else None
            if not lossy:
                out[name] = parsed if parsed is not None else ({} if kind == "contexts" else None)
            elif parsed is not None and kind == "contexts":
                for entity in parsed["data"]:
                    key = "contexts_" + shred_name(entity["schema"])
                    data = entity["data"]
                    if schema_versions and isinstance(data, dict):
                        data = {**data, "_schema_version": entity["schema"].rsplit("/", 1)[1]}
                    flat_contexts.setdefault(key, []).append(data)
            elif parsed is not None:
                inner = parsed["data"]
                out["unstruct_event_" + shred_name(inner["schema"])] = inner["data"]
            continue
        out[name] = _typed(kind, text)
    out.update(flat_contexts)
    latitude, longitude = out.get("geo_latitude"), out.get("geo_longitude")
    if latitude is not None and longitude is not None:
        out["geo_location"] = f"{latitude},{longitude}"
    return out


def event_to_json(
    event: EnrichedEvent, *, lossy: bool = True, schema_versions: bool = False
) -> dict[str, Any]:
    return tsv_to_json(event.to_tsv(), lossy=lossy, schema_versions=schema_versions)


def _typed(kind: str, text: str) -> Any:
    if text == "":
        return None
    if kind == "int":
        return int(text)
    if kind == "num":
        return float(text)
    if kind == "bool":
        return text == "1"
    if kind == "tstamp":
        return tstamp_to_iso(text)
    return text


def shred_name(schema_uri: str) -> str:
    """``iglu:com.acme-x/fooBar/jsonschema/1-0-0`` -> ``com_acme_x_foo_bar_1``."""
    match = _IGLU_URI.match(schema_uri)
    if match is None:
        raise ValueError(f"not an Iglu URI: {schema_uri!r}")
    vendor, name, _, model = match.groups()
    vendor = vendor.replace(".", "_").replace("-", "_").lower()
    name = _CAMEL.sub(r"\1_\2", name.replace(".", "_").replace("-", "_")).lower()
    return f"{vendor}_{name}_{model}"
