"""Currency conversion (``currency_conversion_config`` 1-0-0) against a loopback server that
speaks the Open Exchange Rates historical API (``/historical/YYYY-MM-DD.json?app_id=``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request

S = "iglu:com.snowplowanalytics.snowplow"
RATES = {"EUR": 0.8, "GBP": 0.5, "JPY": 150.0, "USD": 1.0}


class Oer(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        type(self).requests.append(parts.path)
        if parse_qs(parts.query).get("app_id") != ["KEY"]:
            status, body = 401, {"error": True, "status": 401, "message": "invalid_app_id"}
        elif parts.path.startswith("/api/historical/") and parts.path.endswith(".json"):
            status, body = 200, {"base": "USD", "timestamp": 0, "rates": RATES}
        else:
            status, body = 404, {"error": True, "status": 404, "message": "not_found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def oer(monkeypatch: pytest.MonkeyPatch, serve_http: Callable[[type[Oer]], str]) -> str:
    Oer.requests = []
    url = serve_http(Oer) + "/api"
    monkeypatch.setenv("PLOWLINE_OPENEXCHANGERATES_URL", url)
    return url


def context(
    tmp_path: Path, validator: IgluValidator, ctx: EnrichContext, base: str, key: str = "KEY"
) -> EnrichContext:
    folder = tmp_path / base
    folder.mkdir()
    (folder / "currency.json").write_text(json.dumps({
        "schema": f"{S}/currency_conversion_config/jsonschema/1-0-0",
        "data": {"name": "currency_conversion_config", "vendor": "com.snowplowanalytics.snowplow",
                 "enabled": True, "parameters": {"accountType": "DEVELOPER", "apiKey": key,
                                                 "baseCurrency": base, "rateAt": "EOD_PRIOR"}},
    }))  # fmt: skip
    enrichments = load_enrichments(folder, validator)
    return EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)


def one(ctx: EnrichContext, query: str) -> Any:
    (result,) = enrich(payload_from_request("GET", "/i", query), ctx)
    return result


def test_transaction_and_item_are_converted_at_the_prior_day(
    oer: str, tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    run = context(tmp_path, validator, ctx, "EUR")
    tr = one(run, "e=tr&p=web&tv=t&tr_id=o1&tr_tt=100&tr_tx=10.01&tr_sh=5&tr_cu=GBP")
    assert isinstance(tr, EnrichedEvent)
    assert (tr.get("base_currency"), tr.get("tr_total_base"), tr.get("tr_tax_base"),
            tr.get("tr_shipping_base")) == ("EUR", "160.00", "16.02", "8.00")  # fmt: skip
    collected = date.fromisoformat((tr.get("collector_tstamp") or "")[:10])
    assert Oer.requests == [f"/api/historical/{collected - timedelta(days=1)}.json"]
    ti = one(run, "e=ti&p=web&tv=t&ti_id=o1&ti_sk=s&ti_pr=3.5&ti_qu=1&ti_cu=JPY")
    assert isinstance(ti, EnrichedEvent)
    assert ti.get("ti_price_base") == "0.02"  # 3.5 JPY * 0.8 / 150, half-even to cents
    assert len(Oer.requests) == 1  # the day's rates were cached
    pv = one(run, "e=pv&p=web&tv=t")
    assert isinstance(pv, EnrichedEvent)
    assert pv.get("base_currency") == "EUR"
    assert pv.get("tr_total_base") is None


def test_minor_units_of_the_base_currency(
    oer: str, tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    tr = one(context(tmp_path, validator, ctx, "JPY"), "e=tr&p=web&tv=t&tr_id=o&tr_tt=10&tr_cu=USD")
    assert tr.get("tr_total_base") == "1500"


def test_api_errors_and_unknown_currencies_are_enrichment_failures(
    oer: str, tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    bad_key = one(context(tmp_path, validator, ctx, "EUR", key="WRONG"),
                  "e=tr&p=web&tv=t&tr_id=o&tr_tt=10&tr_cu=USD")  # fmt: skip
    assert isinstance(bad_key, BadRow)
    assert bad_key.kind == "enrichment_failures"
    assert "WRONG" not in json.dumps(bad_key.to_json())  # the API key is not leaked
    unknown = one(context(tmp_path, validator, ctx, "USD"),
                  "e=tr&p=web&tv=t&tr_id=o&tr_tt=10&tr_cu=XYZ")  # fmt: skip
    assert isinstance(unknown, BadRow)
    assert "XYZ" in json.dumps(unknown.to_json())
