"""Iglu resolver configuration (``iglu:com.snowplowanalytics.iglu/resolver-config/...``).

Example (the resolver-config schema of Iglu Central)::

    {"schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
     "data": {"cacheSize": 500, "cacheTtl": 600,
              "repositories": [
                {"name": "Iglu Central", "priority": 0, "vendorPrefixes": ["com.snowplowanalytics"],
                 "connection": {"http": {"uri": "http://iglucentral.com"}}},
                {"name": "Local", "priority": 1, "vendorPrefixes": [],
                 "connection": {"embedded": {"path": "./iglu"}}}]}}

Differences between versions are enforced: ``apikey`` needs 1-0-1+, ``cacheTtl`` 1-0-2+ (at
least 1 in 1-0-2, at least 0 in 1-0-3); 1-0-0/1-0-1 need integer ``cacheSize``/``priority``.
An embedded ``path`` is a folder holding ``schemas/<vendor>/...``; relative paths are taken from
the config file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plowline.spec.decoding import Limits, parse_json
from plowline.spec.errors import NotJsonError, NotSelfDescribingError, ResolverConfigError
from plowline.spec.iglu import SchemaCriterion, SchemaVer, SelfDescribingData
from plowline.spec.registries import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_MAX_SCHEMA_BYTES,
    EmbeddedRegistry,
    HttpRegistry,
    Registry,
)

RESOLVER_CONFIG_CRITERION = SchemaCriterion.parse(
    "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-*"
)
_REPOSITORY_KEYS = {"name", "priority", "vendorPrefixes", "connection"}


@dataclass(frozen=True)
class ResolverConfig:
    version: SchemaVer
    cache_size: int
    cache_ttl: float | None
    repositories: list[Registry]


def load_resolver_config(
    path: Path,
    *,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
) -> ResolverConfig:
    """Read and check a resolver-config JSON file (ResolverConfigError on any problem)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ResolverConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = parse_json(raw, Limits())
    except NotJsonError as exc:
        raise ResolverConfigError(f"{path}: {exc.reason}") from None
    return parse_resolver_config(
        document,
        base_dir=path.parent,
        http_timeout=http_timeout,
        max_schema_bytes=max_schema_bytes,
        source=str(path),
    )


def parse_resolver_config(
    document: Any,
    *,
    base_dir: Path | None,
    http_timeout: float = DEFAULT_HTTP_TIMEOUT,
    max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    source: str = "resolver config",
) -> ResolverConfig:
    """Check a decoded resolver-config SDJ and build its repositories."""
    try:
        sdj = SelfDescribingData.parse(document)
    except NotSelfDescribingError as exc:
        raise ResolverConfigError(f"{source}: {exc.reason}") from None
    if not RESOLVER_CONFIG_CRITERION.matches(sdj.key):
        raise ResolverConfigError(
            f"{source}: schema must match {RESOLVER_CONFIG_CRITERION}, not {sdj.key.uri}"
        )
    version = sdj.key.version
    data = sdj.data
    where = f"{source} ({sdj.key.uri})"
    if not isinstance(data, dict):
        raise ResolverConfigError(f"{where}: 'data' must be an object")
    allowed = {"cacheSize", "repositories"} | ({"cacheTtl"} if version.addition >= 2 else set())
    _no_extra_keys(data, allowed, where, "data")
    integers_only = version.addition < 2
    cache_size = _number(data, "cacheSize", where, "data", integer=integers_only, minimum=0)
    cache_ttl: float | None = None
    if data.get("cacheTtl") is not None:
        ttl_minimum = 1 if version.addition == 2 else 0
        cache_ttl = _number(data, "cacheTtl", where, "data", integer=True, minimum=ttl_minimum)
    repositories = data.get("repositories")
    if not isinstance(repositories, list):
        raise ResolverConfigError(f"{where}: data.repositories must be an array")
    registries = [
        _repository(
            item,
            f"data.repositories[{i}]",
            where,
            version,
            base_dir,
            http_timeout,
            max_schema_bytes,
        )
        for i, item in enumerate(repositories)
    ]
    names = [r.name for r in registries]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ResolverConfigError(f"{where}: repository names must be unique, repeated: {repeated}")
    return ResolverConfig(version, int(cache_size), cache_ttl, registries)


def _repository(
    item: Any,
    path: str,
    where: str,
    version: SchemaVer,
    base_dir: Path | None,
    http_timeout: float,
    max_schema_bytes: int,
) -> Registry:
    if not isinstance(item, dict):
        raise ResolverConfigError(f"{where}: {path} must be an object")
    missing = sorted(_REPOSITORY_KEYS - item.keys())
    if missing:
        raise ResolverConfigError(f"{where}: {path} is missing {', '.join(missing)}")
    _no_extra_keys(item, _REPOSITORY_KEYS, where, path)
    name = item["name"]
    if not isinstance(name, str):
        raise ResolverConfigError(f"{where}: {path}.name must be a string")
    priority = _number(item, "priority", where, path, integer=version.addition < 2)
    prefixes = item["vendorPrefixes"]
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        raise ResolverConfigError(f"{where}: {path}.vendorPrefixes must be an array of strings")
    connection = item["connection"]
    if not isinstance(connection, dict) or len(connection) != 1:
        raise ResolverConfigError(
            f"{where}: {path}.connection must be an object with exactly one of 'embedded' or 'http'"
        )
    kind, settings = next(iter(connection.items()))
    at = f"{path}.connection.{kind}"
    if kind == "embedded":
        if not isinstance(settings, dict):
            raise ResolverConfigError(f"{where}: {at} must be an object")
        _no_extra_keys(settings, {"path"}, where, at)
        folder = settings.get("path")
        if not isinstance(folder, str):
            raise ResolverConfigError(f"{where}: {at}.path must be a string")
        base = Path(folder)
        if not base.is_absolute() and base_dir is not None:
            base = base_dir / base
        return EmbeddedRegistry.from_iglu_path(
            name, base, priority=priority, vendor_prefixes=prefixes, max_bytes=max_schema_bytes
        )
    if kind == "http":
        if not isinstance(settings, dict):
            raise ResolverConfigError(f"{where}: {at} must be an object")
        allowed = {"uri", "apikey"} if version.addition >= 1 else {"uri"}
        _no_extra_keys(settings, allowed, where, at)
        uri = settings.get("uri")
        if not isinstance(uri, str):
            raise ResolverConfigError(f"{where}: {at}.uri must be a string")
        apikey = settings.get("apikey")
        if apikey is not None and not isinstance(apikey, str):
            raise ResolverConfigError(f"{where}: {at}.apikey must be a string or null")
        try:
            return HttpRegistry(
                name,
                uri,
                apikey=apikey,
                priority=priority,
                vendor_prefixes=prefixes,
                timeout=http_timeout,
                max_bytes=max_schema_bytes,
            )
        except ValueError as exc:
            raise ResolverConfigError(f"{where}: {at}: {exc}") from None
    raise ResolverConfigError(
        f"{where}: {path}.connection must be 'embedded' or 'http', not {kind!r}"
    )


def _no_extra_keys(obj: dict[str, Any], allowed: set[str], where: str, path: str) -> None:
    extra = sorted(obj.keys() - allowed)
    if extra:
        raise ResolverConfigError(
            f"{where}: {path} has unknown key(s) {', '.join(extra)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _number(
    obj: dict[str, Any],
    field: str,
    where: str,
    path: str,
    *,
    integer: bool,
    minimum: float | None = None,
) -> float:
    value = obj.get(field)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not isinstance(value, int):
        ok = False
    if not ok:
        kind = "an integer" if integer else "a number"
        raise ResolverConfigError(f"{where}: {path}.{field} must be {kind}, not {value!r}")
    assert isinstance(value, int | float)
    if minimum is not None and value < minimum:
        raise ResolverConfigError(f"{where}: {path}.{field} must be >= {minimum}, not {value}")
    return value
