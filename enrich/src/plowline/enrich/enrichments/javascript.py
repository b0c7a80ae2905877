"""JavaScript enrichment on an embedded engine (QuickJS via the ``quickjs`` package).

The script (base64 in the config, as Snowplow's) defines ``process(event, params)``. ``event`` has
Snowplow's getters/setters per field (``getApp_id()``, ``setApp_id(v)``, ``getUnstruct_event()``
returning the JSON text...), plus ``drop()`` and ``eraseDerived_contexts()``. ``process``
returns an array of self-describing JSON (added to derived_contexts) or nothing. A throw, a
time-out or a bad return value is an enrichment failure. Each call runs under a time limit.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar, Final

import quickjs  # type: ignore[import-untyped]
from plowline.enrich.conversions import tsv_safe
from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.fields import FIELD_NAMES
from plowline.enrich.jsonutil import JsonError, parse_json
from plowline.enrich.validation import sdj_error

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-1"
JSON_FIELDS: Final = ("contexts", "unstruct_event", "derived_contexts")

# Builds the event facade around the user's process(); returns everything as one JSON string.
_HARNESS: Final = """
var __plowline_fields = %s;
function __plowline_cap(name) { return name.charAt(0).toUpperCase() + name.slice(1); }
function __plowline_run(eventJson, paramsJson) {
  var values = JSON.parse(eventJson);
  var changed = {};
  var state = {dropped: false, erased: false};
  var event = {
    drop: function () { state.dropped = true; },
    eraseDerived_contexts: function () { state.erased = true; values.derived_contexts = null; }
  };
  __plowline_fields.forEach(function (name) {
    event['get' + __plowline_cap(name)] = function () {
      var v = values[name]; return v === undefined ? null : v;
    };
    event['set' + __plowline_cap(name)] = function (v) {
      values[name] = (v === null || v === undefined) ? null : String(v);
      changed[name] = true;
    };
  });
  var out = process(event, JSON.parse(paramsJson));
  var result = {changed: {}, contexts: out === undefined ? null : out,
                dropped: state.dropped, erased: state.erased};
  Object.keys(changed).forEach(function (k) { result.changed[k] = values[k]; });
  return JSON.stringify(result);
}
"""


class JavascriptEnrichment(Enrichment):
    name: ClassVar[str] = "javascript_script_config"

    def __init__(
        self, script: str, params: dict[str, Any] | None = None, time_limit: int = 2
    ) -> None:
        self.config_schema = SCHEMA
        self.params_json = json.dumps(params or {})
        self.time_limit = time_limit
        self._context: Any = quickjs.Context()
        try:
            self._context.eval(_HARNESS % json.dumps(list(FIELD_NAMES)))
            self._context.eval(script)
            if self._context.eval("typeof process") != "function":
                raise ValueError("the script does not define a function process(event, params)")
        except quickjs.JSException as exc:
            raise ValueError(f"the script does not compile: {exc}") from exc
        self._context.set_time_limit(time_limit)
        self._run: Any = self._context.get("__plowline_run")

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> JavascriptEnrichment:
        try:
            padded = parameters["script"] + "=" * (-len(parameters["script"]) % 4)
            script = base64.b64decode(padded.replace("-", "+").replace("_", "/")).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"script is not base64-encoded UTF-8: {exc}") from exc
        return cls(script, parameters.get("config"))

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        values: dict[str, str | None] = {name: event.field_text(name) for name in FIELD_NAMES}
        try:
            text = self._run(json.dumps(values), self.params_json)
        except quickjs.JSException as exc:
            raise EnrichmentError(f"javascript: {str(exc).splitlines()[0]}") from exc
        try:
            result = parse_json(str(text), max_depth=100)
        except JsonError as exc:  # pragma: no cover - the harness always returns JSON
            raise EnrichmentError(f"javascript: bad result: {exc}") from exc
        for name, value in result["changed"].items():
            self._set(event, name, value)
            if name in ("contexts", "unstruct_event"):
                state.revalidate_inputs = True
        if result["erased"]:
            event.derived_contexts = []
        if result["dropped"]:
            state.dropped = True
        contexts = result["contexts"]
        if contexts is None:
            return
        if not isinstance(contexts, list) or any(sdj_error(c) is not None for c in contexts):
            raise EnrichmentError(
                "javascript: process() must return an array of self-describing JSON"
            )
        event.derived_contexts.extend({"schema": c["schema"], "data": c["data"]} for c in contexts)

    @staticmethod
    def _set(event: EnrichedEvent, name: str, value: Any) -> None:
        if name not in JSON_FIELDS:
            event.set(name, tsv_safe(value) if isinstance(value, str) else None)
            return
        if value is None:
            parsed: Any = None
        else:
            try:
                parsed = parse_json(str(value))
            except JsonError as exc:
                raise EnrichmentError(f"javascript: {name} set to invalid JSON: {exc}") from exc
        data = parsed.get("data") if isinstance(parsed, dict) else None
        if name == "unstruct_event":
            event.unstruct_event = data if isinstance(data, dict) else None
        elif name == "contexts":
            event.contexts = data if isinstance(data, list) else []
        else:
            event.derived_contexts = data if isinstance(data, list) else []
