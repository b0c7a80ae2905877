"""Referer parser: refr_medium / refr_source / refr_term from page_referrer (Snowplow docs).

The referers data file has the Snowplow ``referers.json`` shape:
``{medium: {source: {"domains": [...], "parameters": [...]}}}``. Plowline ships its own small
file (``bundled:`` + ``referers.json``); inline ``referrers`` in the config extend it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Final

from plowline.enrich.conversions import tsv_safe
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.files import data_file
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.querystring import parse_form_pairs

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1"


class RefererParser(Enrichment):
    name: ClassVar[str] = "referer_parser"

    def __init__(self, referers: dict[str, Any], internal_domains: list[str]) -> None:
        self.config_schema = SCHEMA
        self.internal = frozenset(d.lower() for d in internal_domains)
        # domain (maybe with a path) -> (medium, source, parameters)
        self.lookup: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        for medium, sources in referers.items():
            for source, spec in sources.items():
                parameters = tuple(spec.get("parameters", []))
                for domain in spec["domains"]:
                    self.lookup[domain.lower()] = (medium, source, parameters)

    @classmethod
    def from_config(cls, parameters: dict[str, Any], base_dir: Path | None = None) -> RefererParser:
        path = data_file(parameters["uri"], parameters["database"], base_dir)
        referers: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for medium, sources in (parameters.get("referrers") or {}).items():
            referers.setdefault(medium, {}).update(sources)
        return cls(referers, list(parameters.get("internalDomains", [])))

    def classify(
        self, host: str, path: str | None, query: str | None, page_host: str | None
    ) -> tuple[str, str | None, str | None]:
        host = host.lower()
        if host == (page_host or "").lower() or host in self.internal:
            return "internal", None, None
        found = self._find(host, path or "")
        if found is None:
            return "unknown", None, None
        medium, source, parameters = found
        term = None
        if parameters and query:
            values = dict(parse_form_pairs(query))
            term = next((values[p] for p in parameters if p in values), None)
        return medium, source, term

    def _find(self, host: str, path: str) -> tuple[str, str, tuple[str, ...]] | None:
        segments = [s for s in path.split("/") if s]
        # host+path prefixes first (longest first), then the host and its parent domains.
        for i in range(len(segments), 0, -1):
            hit = self.lookup.get(host + "/" + "/".join(segments[:i]))
            if hit is not None:
                return hit
        labels = host.split(".")
        for i in range(len(labels) - 1):
            hit = self.lookup.get(".".join(labels[i:]))
            if hit is not None:
                return hit
        return None

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        host, scheme = event.get("refr_urlhost"), event.get("refr_urlscheme")
        if host is None or scheme not in ("http", "https"):
            return
        medium, source, term = self.classify(
            host, event.get("refr_urlpath"), event.get("refr_urlquery"), event.get("page_urlhost")
        )
        event.set("refr_medium", medium)
        event.set("refr_source", source)
        event.set("refr_term", tsv_safe(term) if term is not None else None)
