"""Load enrichments from a directory of SDJ config files (one per enrichment, as Snowplow's).

Each ``*.json`` file is ``{"schema": "<config schema URI>", "data": {"name", "vendor",
"enabled", "parameters"}}`` (or the enrich 1.x ``enrichments/jsonschema/1-0-0`` wrapper holding a
list of them). Every config is validated against its schema through the Iglu validator before
it is used; disabled ones are skipped; unknown or unsupported ones are an error, never ignored.

Every published version of every config schema is accepted with the meaning Snowplow's enrich
gives it (see ``_upgrade``): a newer version only added optional parameters, so an older
config means the newer one with those parameters absent, except where a MODEL bump changed the
meaning (``referer_parser`` 1-0-0, ``pii_enrichment_config`` 1-0-0, ``ip_lookups`` 1-0-0).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from plowline.enrich.enrichments.anon_ip import AnonIp
from plowline.enrich.enrichments.api_request import ApiRequest
from plowline.enrich.enrichments.asn_lookups import AsnLookups
from plowline.enrich.enrichments.base import Enrichment
from plowline.enrich.enrichments.bot_detection import BotDetection
from plowline.enrich.enrichments.campaign_attribution import CampaignAttribution
from plowline.enrich.enrichments.cookie_extractor import CookieExtractor
from plowline.enrich.enrichments.cross_navigation import CrossNavigation
from plowline.enrich.enrichments.currency_conversion import CurrencyConversion
from plowline.enrich.enrichments.event_fingerprint import EventFingerprint
from plowline.enrich.enrichments.files import AssetCache, shared_cache, tracking, using
from plowline.enrich.enrichments.http_header_extractor import HttpHeaderExtractor
from plowline.enrich.enrichments.iab import SpidersAndRobots
from plowline.enrich.enrichments.ip_lookups import IpLookups
from plowline.enrich.enrichments.javascript import JavascriptEnrichment
from plowline.enrich.enrichments.pii import PiiPseudonymizer
from plowline.enrich.enrichments.referer_parser import RefererParser
from plowline.enrich.enrichments.sql_query import SqlQuery
from plowline.enrich.enrichments.ua_parser import UaParser
from plowline.enrich.enrichments.weather import Weather
from plowline.enrich.validation import SchemaValidator, parse_iglu_uri

log = logging.getLogger(__name__)

WRAPPER: Final = "iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0"

Factory = Callable[[dict[str, Any], dict[str, Any], Path], Enrichment]

FACTORIES: Final[dict[str, Factory]] = {
    "event_fingerprint_config": lambda p, d, b: EventFingerprint.from_config(p),
    "campaign_attribution": lambda p, d, b: CampaignAttribution.from_config(p),
    "referer_parser": lambda p, d, b: RefererParser.from_config(p, b),
    "ua_parser_config": lambda p, d, b: UaParser.from_config(p),
    "ip_lookups": lambda p, d, b: IpLookups.from_config(p, b),
    "asn_lookups": lambda p, d, b: AsnLookups.from_config(p, b),
    "bot_detection_enrichment_config": lambda p, d, b: BotDetection.from_config(p),
    "anon_ip": lambda p, d, b: AnonIp.from_config(p),
    "pii_enrichment_config": lambda p, d, b: PiiPseudonymizer.from_config(
        p, bool(d.get("emitEvent", False)), bool(d.get("anonymousOnly", False))
    ),
    "cookie_extractor_config": lambda p, d, b: CookieExtractor.from_config(p),
    "currency_conversion_config": lambda p, d, b: CurrencyConversion.from_config(p),
    "http_header_extractor_config": lambda p, d, b: HttpHeaderExtractor.from_config(p),
    "iab_spiders_and_robots_enrichment": lambda p, d, b: SpidersAndRobots.from_config(p, b),
    "javascript_script_config": lambda p, d, b: JavascriptEnrichment.from_config(p),
    "api_request_enrichment_config": lambda p, d, b: ApiRequest.from_config(p),
    "sql_query_enrichment_config": lambda p, d, b: SqlQuery.from_config(p),
    "cross_navigation_config": lambda p, d, b: CrossNavigation(),
    "weather_enrichment_config": lambda p, d, b: Weather.from_config(p),
}


class EnrichmentConfigError(ValueError):
    """A configuration file that is unreadable, invalid, unknown or unsupported."""


def load_enrichments(
    directory: Path, validator: SchemaValidator, assets: AssetCache | None = None
) -> list[Enrichment]:
    """Enabled enrichments of every ``*.json`` file in ``directory`` (sorted by file name).

    Remote data files go through ``assets`` (default: the process's shared cache); with
    ``PLOWLINE_ENRICH_ASSETS_REFRESH`` set (seconds) a daemon thread refreshes them.
    """
    cache = assets if assets is not None else shared_cache()
    with using(cache):
        loaded = _load(directory, validator, cache)
    period = float(os.environ.get("PLOWLINE_ENRICH_ASSETS_REFRESH") or 0)
    if period > 0 and assets is None:
        start_refresher(cache, period)
    return loaded


def _load(directory: Path, validator: SchemaValidator, cache: AssetCache) -> list[Enrichment]:
    if not directory.is_dir():
        raise EnrichmentConfigError(f"enrichments directory {directory} does not exist")
    loaded: list[Enrichment] = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EnrichmentConfigError(f"{path}: not readable JSON: {exc}") from exc
        configs = document["data"] if _schema_of(document) == WRAPPER else [document]
        for config in configs:
            enrichment = build_enrichment(config, validator, path, cache)
            if enrichment is not None:
                loaded.append(enrichment)
    names = [e.name for e in loaded if e.name != "javascript_script_config"]  # several allowed
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise EnrichmentConfigError(f"enrichments configured more than once: {duplicates}")
    return loaded


def _schema_of(document: Any) -> Any:
    return document.get("schema") if isinstance(document, dict) else None


def build_enrichment(
    config: Any, validator: SchemaValidator, source: Path, assets: AssetCache | None = None
) -> Enrichment | None:
    """One enrichment from its SDJ config (None when ``enabled`` is false)."""
    schema = _schema_of(config)
    parsed = parse_iglu_uri(schema)
    if parsed is None or "data" not in config:
        raise EnrichmentConfigError(f"{source}: not a self-describing enrichment config")
    error = validator.check(schema, config["data"])
    if error is not None:
        raise EnrichmentConfigError(f"{source}: invalid against {schema}: {json.dumps(error)}")
    data = config["data"]
    if not data.get("enabled", False):
        return None
    name = parsed[1]
    factory = FACTORIES.get(name)
    if factory is None:
        raise EnrichmentConfigError(f"{source}: enrichment {name!r} is not supported yet")
    cache = assets if assets is not None else shared_cache()

    def build() -> Enrichment:
        parameters = _upgrade(name, parsed[3], dict(data.get("parameters") or {}))
        with using(cache):
            built = factory(parameters, data, source.parent)
        built.config_schema = schema
        return built

    try:
        with tracking() as remote:
            enrichment = build()
    except (KeyError, ValueError, OSError) as exc:
        raise EnrichmentConfigError(f"{source}: cannot configure {name}: {exc}") from exc
    if remote:
        cache.bind(remote, enrichment, build)
    return enrichment


_REFRESHERS: dict[int, threading.Thread] = {}


def start_refresher(cache: AssetCache, period: float) -> threading.Thread:
    """A daemon thread calling ``cache.refresh()`` every ``period`` seconds (one per cache)."""
    running = _REFRESHERS.get(id(cache))
    if running is not None and running.is_alive():
        return running

    def loop() -> None:
        while not threading.Event().wait(period):
            try:
                changed = cache.refresh()
            except ValueError as exc:  # keep the old files; say why
                log.warning("enrichment data files not refreshed: %s", exc)
            else:
                if changed:
                    log.info("enrichment data files refreshed: %s", changed)

    thread = threading.Thread(target=loop, name="plowline-enrich-assets", daemon=True)
    thread.start()
    _REFRESHERS[id(cache)] = thread
    return thread


def _upgrade(name: str, version: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters of an older config version in the terms of the newest one.

    Versions that only differ by optional parameters need nothing here (the factories treat a
    missing optional parameter as absent, as enrich does).
    """
    model = version.split("-", 1)[0]
    if name == "referer_parser" and model == "1":
        # referer_parser 1-0-0 has internalDomains only: the enricher used the referer
        # database it shipped with (2-0-0 made database/uri required). Ours ships one too.
        return {**parameters, "database": "referers.json", "uri": "bundled:"}
    if name == "pii_enrichment_config" and model == "1":
        # pii_enrichment_config 1-0-0 has no salt: the value alone is hashed.
        strategy = dict(parameters["strategy"]["pseudonymize"])
        strategy.setdefault("salt", "")
        return {**parameters, "strategy": {"pseudonymize": strategy}}
    if name == "ip_lookups" and model == "1":
        # ip_lookups 1-0-0 names MaxMind's GeoIP Legacy .dat databases, which MaxMind
        # discontinued (2019) and which enrich has not read since ip_lookups 2-0-0.
        raise ValueError(
            "ip_lookups 1-0-0 configures GeoIP Legacy .dat databases, which MaxMind "
            "discontinued and which neither Snowplow's current enrich nor Plowline reads; "
            "use iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1 with "
            "GeoIP2/GeoLite2 .mmdb files"
        )
    return parameters
