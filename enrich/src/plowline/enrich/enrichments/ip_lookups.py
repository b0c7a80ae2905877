"""IP lookups: geo_* / ip_* fields and the ``asn`` entity from MaxMind DB files (Snowplow docs).

Reads ``.mmdb`` files with ``maxminddb`` (MaxMind's own reader, C extension when available).
Lookup problems are swallowed like enrich does: an address that is not found or not an IP
just leaves the fields empty.
"""

from __future__ import annotations

import ipaddress
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Final

import maxminddb
from plowline.enrich.conversions import tsv_safe
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.files import data_file
from plowline.enrich.event import EnrichedEvent

SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1"
ASN_CONTEXT: Final = "iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1"
DATABASES: Final = ("geo", "isp", "domain", "connectionType", "asn")


@lru_cache(maxsize=65536)
def java_float(value: float) -> str:
    """``Float.toString`` of ``value`` narrowed to a 32-bit float (enrich stores JFloat)."""
    narrowed = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{narrowed:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == narrowed:
            break
    if "e" in text or "E" in text:
        return repr(float(text))
    return text if "." in text else text + ".0"


def _get(record: Any, *path: str | int) -> Any:
    node = record
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or len(node) <= step:
                return None
        elif not isinstance(node, dict):
            return None
        node = node[step] if isinstance(step, int) else node.get(step)
    return node


class IpLookups(Enrichment):
    name: ClassVar[str] = "ip_lookups"

    def __init__(self, readers: dict[str, maxminddb.Reader]) -> None:
        self.config_schema = SCHEMA
        self.readers = readers
        # Same address, same answer: traffic repeats addresses, lookups are the costly part.
        self._cached = lru_cache(maxsize=16384)(self._fields)

    @classmethod
    def from_files(cls, files: dict[str, Path]) -> IpLookups:
        return cls({kind: maxminddb.open_database(str(path)) for kind, path in files.items()})

    @classmethod
    def from_config(cls, parameters: dict[str, Any], base_dir: Path | None = None) -> IpLookups:
        files: dict[str, Path] = {
            kind: data_file(parameters[kind]["uri"], parameters[kind]["database"], base_dir)
            for kind in DATABASES
            if kind in parameters
        }
        return cls.from_files(files)

    def _lookup(self, kind: str, ip: str) -> Any:
        reader = self.readers.get(kind)
        if reader is None:
            return None
        try:
            return reader.get(ip)
        except (ValueError, TypeError, maxminddb.InvalidDatabaseError):
            return None

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        ip = event.get("user_ipaddress")
        if ip is None:
            return
        fields, asn = self._cached(ip)
        for name, value in fields:
            event.values[name] = value
        if asn is not None:
            event.derived_contexts.append({"schema": ASN_CONTEXT, "data": dict(asn)})

    def _fields(self, ip: str) -> tuple[tuple[tuple[str, str], ...], dict[str, Any] | None]:
        """The (field, value) pairs and the asn entity data for one address."""
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return (), None
        found: dict[str, str | None] = {}
        geo = self._lookup("geo", ip)
        if geo:
            self._geo(found, geo)
        isp = self._lookup("isp", ip)
        if isp:
            found["ip_isp"] = _text(isp.get("isp"))
            found["ip_organization"] = _text(isp.get("organization"))
        domain = self._lookup("domain", ip)
        if domain:
            found["ip_domain"] = _text(domain.get("domain"))
        connection = self._lookup("connectionType", ip)
        if connection:
            found["ip_netspeed"] = _text(connection.get("connection_type"))
        asn = self._lookup("asn", ip)
        data: dict[str, Any] | None = None
        if asn and isinstance(asn.get("autonomous_system_number"), int):
            data = {"number": asn["autonomous_system_number"]}
            organization = asn.get("autonomous_system_organization")
            if isinstance(organization, str):
                data["organization"] = organization
        return tuple((k, v) for k, v in found.items() if v is not None), data

    @staticmethod
    def _geo(found: dict[str, str | None], geo: Any) -> None:
        found["geo_country"] = _text(_get(geo, "country", "iso_code"))
        found["geo_region"] = _text(_get(geo, "subdivisions", 0, "iso_code"))
        found["geo_city"] = _text(_get(geo, "city", "names", "en"))
        found["geo_zipcode"] = _text(_get(geo, "postal", "code"))
        latitude, longitude = _get(geo, "location", "latitude"), _get(geo, "location", "longitude")
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            found["geo_latitude"] = java_float(float(latitude))
            found["geo_longitude"] = java_float(float(longitude))
        found["geo_region_name"] = _text(_get(geo, "subdivisions", 0, "names", "en"))
        found["geo_timezone"] = _text(_get(geo, "location", "time_zone"))


def _text(value: Any) -> str | None:
    return tsv_safe(value) if isinstance(value, str) else None
