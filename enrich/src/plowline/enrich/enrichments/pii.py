"""PII pseudonymisation: salted hashes of atomic fields and JSON paths (Snowplow's enrichment docs).

With ``emitEvent`` a second event ``pii_transformation`` (platform ``srv``, with a
``parent_event`` context) records what was replaced; it is marked ``pii`` so the streaming
app routes it to the ``--pii`` output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.enrichments.jsonpath import (
    JsonPathError,
    Steps,
    compile_path,
    entities,
    replace,
)
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.validation import Criterion

SCHEMA: Final = (
    "iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1"
)
TRANSFORMATION: Final = "iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0"
PARENT_EVENT: Final = "iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0"
HASHES: Final = {
    "MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class JsonField:
    field: str
    criterion: Criterion
    path: str
    steps: Steps


class PiiPseudonymizer(Enrichment):
    name: ClassVar[str] = "pii_enrichment_config"

    def __init__(
        self, fields: list[str], json_fields: list[JsonField], hash_function: str, salt: str,
        emit_event: bool = False, anonymous_only: bool = False,
    ) -> None:  # fmt: skip
        if hash_function not in HASHES:
            raise ValueError(f"pii: hash function {hash_function} is not supported")
        self.config_schema = SCHEMA
        self.fields = fields
        self.json_fields = json_fields
        self.hash_function = hash_function
        self.algorithm = HASHES[hash_function]
        self.salt = salt
        self.emit_event = emit_event
        # 2-0-1 anonymousOnly: pseudonymise only events whose request carried the
        # SP-Anonymous header (Snowplow docs, PII pseudonymization enrichment).
        self.anonymous_only = anonymous_only

    @classmethod
    def from_config(
        cls, parameters: dict[str, Any], emit_event: bool = False, anonymous_only: bool = False
    ) -> PiiPseudonymizer:
        fields: list[str] = []
        json_fields: list[JsonField] = []
        for item in parameters["pii"]:
            if "pojo" in item:
                fields.append(item["pojo"]["field"])
            else:
                spec = item["json"]
                json_fields.append(JsonField(
                    spec["field"], Criterion(spec["schemaCriterion"]), spec["jsonPath"],
                    compile_path(spec["jsonPath"]),
                ))  # fmt: skip
        strategy = parameters["strategy"]["pseudonymize"]
        return cls(
            fields, json_fields, strategy["hashFunction"], strategy["salt"], emit_event,
            anonymous_only=anonymous_only,
        )  # fmt: skip

    def hash(self, value: str) -> str:
        return hashlib.new(self.algorithm, (value + self.salt).encode("utf-8")).hexdigest()

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        if self.anonymous_only and not _anonymous(state.raw.payload.headers):
            return
        pojo: list[dict[str, Any]] = []
        json_changes: list[dict[str, Any]] = []
        for field in self.fields:
            value = event.get(field)
            if value:
                hashed = self.hash(value)
                event.set(field, hashed)
                pojo.append({"fieldName": field, "originalValue": value, "modifiedValue": hashed})
        for spec in self.json_fields:
            for entity in entities(event, spec.field):
                if not spec.criterion.matches(entity["schema"]):
                    continue

                def record(original: str, spec: JsonField = spec) -> str:
                    hashed = self.hash(original)
                    json_changes.append({"fieldMapping": {
                        "fieldName": spec.field, "jsonPath": spec.path, "originalValue": original,
                        "modifiedValue": hashed, "schema": spec.criterion.text,
                    }})  # fmt: skip
                    return hashed

                try:
                    entity["data"] = replace(entity["data"], spec.steps, record)
                except RecursionError as exc:  # pragma: no cover - depth is bounded upstream
                    raise EnrichmentError("pii: JSON too deep") from exc
        if self.emit_event and (pojo or json_changes):
            state.extra_events.append(self._transformation_event(event, pojo, json_changes))

    def _transformation_event(
        self, parent: EnrichedEvent, pojo: list[dict[str, Any]], json_changes: list[dict[str, Any]]
    ) -> EnrichedEvent:
        pii: dict[str, Any] = {}
        if pojo:
            pii["pojo"] = pojo
        if json_changes:
            pii["json"] = json_changes
        out = EnrichedEvent(pii=True)
        keep = ("v_collector", "v_etl", "etl_tstamp", "collector_tstamp", "derived_tstamp",
                "v_tracker", "name_tracker", "app_id")  # fmt: skip
        for name in keep:
            out.set(name, parent.get(name))
        parent_id = parent.get("event_id") or ""
        # A deterministic id derived from the parent's, so re-processing gives the same event.
        digest = hashlib.md5(("pii:" + parent_id).encode(), usedforsecurity=False).hexdigest()
        out.set(
            "event_id",
            f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}",
        )
        out.set("platform", "srv")
        out.set("event", "unstruct")
        out.set("event_vendor", "com.snowplowanalytics.snowplow")
        out.set("event_name", "pii_transformation")
        out.set("event_format", "jsonschema")
        out.set("event_version", "1-0-0")
        out.unstruct_event = {
            "schema": TRANSFORMATION,
            "data": {
                "pii": pii,
                "strategy": {"pseudonymize": {"hashFunction": self.hash_function}},
            },
        }
        out.contexts = [{"schema": PARENT_EVENT, "data": {"parentEventId": parent_id}}]
        return out


def _anonymous(headers: list[str] | None) -> bool:
    return any(h.partition(":")[0].strip().lower() == "sp-anonymous" for h in headers or [])


__all__ = ["JsonPathError", "PiiPseudonymizer", "compile_path"]
