"""The JavaScript enrichment (QuickJS): getters/setters, derived contexts, failures, drop."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.enrichments.javascript import JavascriptEnrichment
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request

COOKIE = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"


def run(ctx: EnrichContext, script: str, query: str = "e=pv&p=web&tv=t&aid=shop") -> list[object]:
    js = JavascriptEnrichment(script, {"suffix": "-js"})
    ctx = EnrichContext(ctx.validator, [js], clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)
    return list(enrich(payload_from_request("GET", "/i", query), ctx))


def test_getters_setters_and_contexts(ctx: EnrichContext) -> None:
    script = f"""
    function process(event, params) {{
      event.setApp_id(event.getApp_id() + params.suffix);
      event.setTr_total(null);
      return [{{schema: "{COOKIE}", data: {{name: "platform", value: event.getPlatform()}}}}];
    }}"""
    [event] = run(ctx, script)
    assert isinstance(event, EnrichedEvent)
    assert event.values["app_id"] == "shop-js"
    assert event.derived_contexts == [
        {"schema": COOKIE, "data": {"name": "platform", "value": "web"}}
    ]


def test_throwing_script_is_an_enrichment_failure(ctx: EnrichContext) -> None:
    [row] = run(ctx, "function process(event) { throw new Error('nope'); }")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"
    assert "nope" in row.to_json()
    assert (
        row.data["failure"]["messages"][0]["enrichment"]["identifier"] == "javascript_script_config"
    )


def test_endless_script_times_out(ctx: EnrichContext) -> None:
    [row] = run(ctx, "function process(event) { while (true) {} }")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"


def test_bad_return_value_and_invalid_context(ctx: EnrichContext) -> None:
    [row] = run(ctx, "function process(event) { return [1, 2]; }")
    assert isinstance(row, BadRow)
    assert row.kind == "enrichment_failures"
    [row] = run(ctx, f'function process(e) {{ return [{{schema: "{COOKIE}", data: {{}}}}]; }}')
    assert isinstance(row, BadRow)
    assert row.kind == "schema_violations"


def test_drop_discards_the_event(ctx: EnrichContext) -> None:
    assert run(ctx, "function process(event) { event.drop(); }") == []


def test_rewritten_unstruct_event_is_validated_again(ctx: EnrichContext) -> None:
    bad = json.dumps({
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {"schema": "iglu:com.acme/checkout/jsonschema/1-0-0", "data": {"step": "x"}},
    })  # fmt: skip
    [row] = run(ctx, f"function process(event) {{ event.setUnstruct_event({json.dumps(bad)}); }}")
    assert isinstance(row, BadRow)
    assert row.kind == "schema_violations"


def test_script_must_define_process() -> None:
    with pytest.raises(ValueError, match="process"):
        JavascriptEnrichment("var x = 1;")
    with pytest.raises(ValueError, match="compile"):
        JavascriptEnrichment("function (")


def test_configured_from_base64(tmp_path: Path, validator: IgluValidator) -> None:
    script = base64.b64encode(b"function process(event) { return []; }").decode()
    schema = "iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-1"
    data = {"name": "javascript_script_config", "vendor": "com.snowplowanalytics.snowplow",
            "enabled": True, "parameters": {"script": script}}  # fmt: skip
    config = {"schema": schema, "data": data}
    (tmp_path / "js.json").write_text(json.dumps(config))
    (tmp_path / "js2.json").write_text(json.dumps(config))
    loaded = load_enrichments(tmp_path, validator)
    assert [e.name for e in loaded] == ["javascript_script_config"] * 2
