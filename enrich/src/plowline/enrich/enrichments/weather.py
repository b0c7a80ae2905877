"""Weather (``weather_enrichment_config`` 1-0-0) from the OpenWeatherMap history API.

As Snowplow's enrich (Snowplow docs "Weather enrichment"; enrich ``WeatherEnrichment`` over
scala-weather): for ``geo_latitude`` / ``geo_longitude`` (from IP lookups, so it runs after
them) and ``derived_tstamp``, the position is rounded to the ``geoPrecision`` grid (1: whole
degrees, n: steps of 1/n), the day's history is fetched once
(``GET https://{apiHost}/data/2.5/history/city?lat=&lon=&start=<day>&end=<day+1>&appid=``, kept
in an LRU of ``cacheSize`` entries) and the stamp closest to the event's time becomes the
derived ``org.openweathermap/weather/1-0-0`` entity: ``main``, ``wind``, ``clouds``, ``rain``,
``snow``, ``weather`` as OpenWeatherMap sends them (absent ones left out) and ``dt`` as an
ISO-8601 UTC timestamp with milliseconds. A missing position or time, or an API error, is an
enrichment failure, as in enrich.

``PLOWLINE_OPENWEATHERMAP_URL`` replaces ``https://{apiHost}`` (a stand-in or a proxy).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
import urllib.request
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.event import EnrichedEvent

CONTEXT: Final = "iglu:org.openweathermap/weather/jsonschema/1-0-0"
_KEEP: Final = {
    "main": ("grnd_level", "humidity", "pressure", "sea_level", "temp", "temp_min", "temp_max"),
    "wind": ("speed", "deg", "var_beg", "var_end", "gust"),
    "clouds": ("all",),
    "rain": ("1h", "3h"),
    "snow": ("1h", "3h"),
}
_CONDITION: Final = ("main", "description", "id", "icon")


class Weather(Enrichment):
    name: ClassVar[str] = "weather_enrichment_config"

    def __init__(
        self, api_key: str, api_host: str, *, cache_size: int = 5100, geo_precision: int = 1,
        timeout: float = 5.0, base_url: str | None = None,
    ) -> None:  # fmt: skip
        self.api_key = api_key
        configured = base_url or os.environ.get("PLOWLINE_OPENWEATHERMAP_URL")
        self.base_url = (configured or f"https://{api_host}").rstrip("/")
        self.cache_size = cache_size
        self.geo_precision = geo_precision
        self.timeout = timeout
        self._days: OrderedDict[tuple[float, float, str], list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> Weather:
        return cls(
            str(parameters["apiKey"]), str(parameters["apiHost"]),
            cache_size=int(parameters["cacheSize"]), geo_precision=int(parameters["geoPrecision"]),
            timeout=float(parameters["timeout"]),
        )  # fmt: skip

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        inputs = {n: event.get(n) for n in ("geo_latitude", "geo_longitude", "derived_tstamp")}
        missing = [n for n, v in inputs.items() if not v]
        if missing:
            raise EnrichmentError({"field": missing[0], "value": None, "expectation": "missing"})
        try:
            lat = float(inputs["geo_latitude"] or "")
            lon = float(inputs["geo_longitude"] or "")
            moment = datetime.fromisoformat((inputs["derived_tstamp"] or "").replace(" ", "T"))
        except ValueError as exc:
            raise EnrichmentError(f"weather: unusable position or time: {exc}") from exc
        moment = moment.replace(tzinfo=UTC)
        stamps = self.day(self._round(lat), self._round(lon), moment)
        if not stamps:
            raise EnrichmentError(f"weather: no stamps for {lat},{lon} on {moment.date()}")
        target = moment.timestamp()
        closest = min(stamps, key=lambda s: abs(float(s.get("dt", 0)) - target))
        event.derived_contexts.append({"schema": CONTEXT, "data": transform(closest)})

    def _round(self, value: float) -> float:
        return round(value * self.geo_precision) / self.geo_precision

    def day(self, lat: float, lon: float, moment: datetime) -> list[dict[str, Any]]:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        key = (lat, lon, start.date().isoformat())
        with self._lock:
            cached = self._days.get(key)
            if cached is not None:
                self._days.move_to_end(key)
                return cached
        query = urllib.parse.urlencode({
            "lat": lat, "lon": lon, "start": int(start.timestamp()),
            "end": int((start + timedelta(days=1)).timestamp()), "appid": self.api_key,
        })  # fmt: skip
        url = f"{self.base_url}/data/2.5/history/city?{query}"
        try:
            opener = urllib.request.build_opener()
            with opener.open(url, timeout=self.timeout) as response:
                stamps = list(json.loads(response.read())["list"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            message = f"OpenWeatherMap error: {exc}".replace(self.api_key, "***")
            raise EnrichmentError(message) from exc
        with self._lock:
            self._days[key] = stamps
            while len(self._days) > self.cache_size:
                self._days.popitem(last=False)
        return stamps


def transform(stamp: dict[str, Any]) -> dict[str, Any]:
    """OpenWeatherMap's stamp as the weather entity (known fields only, ``dt`` as ISO)."""
    out: dict[str, Any] = {}
    for section, names in _KEEP.items():
        value = stamp.get(section)
        if isinstance(value, dict):
            out[section] = {n: value[n] for n in names if value.get(n) is not None}
    conditions = stamp.get("weather")
    if isinstance(conditions, list):
        out["weather"] = [
            {n: c[n] for n in _CONDITION if c.get(n) is not None}
            for c in conditions
            if isinstance(c, dict)
        ]
    dt = datetime.fromtimestamp(int(stamp.get("dt", 0)), UTC)
    out["dt"] = dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return out
