"""Weather (``weather_enrichment_config`` 1-0-0) against a loopback server speaking the
OpenWeatherMap history API (``/data/2.5/history/city?lat=&lon=&start=&end=&appid=``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.enrichments.weather import CONTEXT
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request, write_mmdb

S = "iglu:com.snowplowanalytics.snowplow"
E = "iglu:com.snowplowanalytics.snowplow.enrichments"


def stamp(dt: int) -> dict[str, Any]:
    return {
        "dt": dt, "main": {"temp": 280.5, "temp_min": 279.1, "temp_max": 281.9, "pressure": 1012,
                             "humidity": 81, "feels_like": 1},
        "wind": {"speed": 4.1, "deg": 240}, "clouds": {"all": 75},
        "weather": [{"id": 803, "main": "Clouds", "description": "broken clouds", "icon": "04d"}],
    }  # fmt: skip


class Owm(BaseHTTPRequestHandler):
    queries: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        type(self).queries.append(query)
        if parts.path != "/data/2.5/history/city" or query.get("appid") != ["KEY"]:
            status, body = 401, {"cod": 401, "message": "Invalid API key"}
        else:
            start = int(query["start"][0])
            status, body = (
                200,
                {"cod": "200", "list": [stamp(start + h * 3600) for h in range(0, 24, 3)]},
            )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def owm(monkeypatch: pytest.MonkeyPatch, serve_http: Callable[[type[Owm]], str]) -> str:
    Owm.queries = []
    url = serve_http(Owm)
    monkeypatch.setenv("PLOWLINE_OPENWEATHERMAP_URL", url)
    return url


def weather_ctx(
    tmp_path: Path, validator: IgluValidator, ctx: EnrichContext, key: str = "KEY"
) -> EnrichContext:
    data = tmp_path / "mmdb"
    data.mkdir(exist_ok=True)
    write_mmdb(str(data / "GeoLite2-City.mmdb"), {"203.0.113.0/24": {
        "location": {"latitude": 51.5074, "longitude": -0.1278}}})  # fmt: skip
    folder = tmp_path / f"enrichments-{key}"
    folder.mkdir()
    configs = {
        "ip.json": (f"{S}/ip_lookups/jsonschema/2-0-1", "ip_lookups",
                    {"geo": {"database": "GeoLite2-City.mmdb", "uri": data.as_uri()}}),
        "weather.json": (f"{E}/weather_enrichment_config/jsonschema/1-0-0",
                         "weather_enrichment_config",
                         {"apiKey": key, "cacheSize": 10, "geoPrecision": 1,
                          "apiHost": "history.openweathermap.org", "timeout": 5}),
    }  # fmt: skip
    for name, (schema, config_name, params) in configs.items():
        data_ = {"name": config_name, "vendor": "v", "enabled": True, "parameters": params}
        (folder / name).write_text(json.dumps({"schema": schema, "data": data_}))
    enrichments = load_enrichments(folder, validator)
    return EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)


def one(ctx: EnrichContext, ip: str = "203.0.113.9") -> Any:
    (result,) = enrich(payload_from_request("GET", "/i", "e=pv&p=web&tv=t", ip=ip), ctx)
    return result


def test_closest_stamp_of_the_day_becomes_the_entity(
    owm: str, tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    run = weather_ctx(tmp_path, validator, ctx)
    event = one(run)
    assert isinstance(event, EnrichedEvent)
    (data,) = [c["data"] for c in event.derived_contexts if c["schema"] == CONTEXT]
    assert validator.check(CONTEXT, data) is None
    when = datetime.fromisoformat((event.get("derived_tstamp") or "").replace(" ", "T"))
    when = when.replace(tzinfo=UTC)
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    candidates = [day.timestamp() + h * 3600 for h in range(0, 24, 3)]
    closest = min(candidates, key=lambda t: abs(t - when.timestamp()))
    assert data["dt"] == datetime.fromtimestamp(closest, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert "feels_like" not in data["main"]  # not in the entity's schema
    assert data["main"]["temp"] == 280.5
    assert data["weather"][0]["description"] == "broken clouds"
    (query,) = Owm.queries
    assert (query["lat"], query["lon"]) == (["52.0"], ["0.0"])  # whole-degree grid
    assert query["start"] == [str(int(day.timestamp()))]
    one(run)
    assert len(Owm.queries) == 1  # cached for the rest of the day


def test_missing_position_or_api_error_is_an_enrichment_failure(
    owm: str, tmp_path: Path, validator: IgluValidator, ctx: EnrichContext
) -> None:
    no_geo = one(weather_ctx(tmp_path, validator, ctx), ip="192.0.2.1")
    assert isinstance(no_geo, BadRow)
    assert no_geo.kind == "enrichment_failures"
    assert "geo_latitude" in json.dumps(no_geo.to_json())
    denied = one(weather_ctx(tmp_path, validator, ctx, key="WRONG"))
    assert isinstance(denied, BadRow)
    assert "WRONG" not in json.dumps(denied.to_json())
