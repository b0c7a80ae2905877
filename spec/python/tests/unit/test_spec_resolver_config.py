"""Iglu resolver-config 1-0-0 .. 1-0-3: parsing, version rules, building a Resolver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from plowline.spec.errors import ResolverConfigError
from plowline.spec.iglu import SchemaKey, SchemaVer
from plowline.spec.registries import EmbeddedRegistry, HttpRegistry, InMemoryRegistry
from plowline.spec.resolver import SPEC_REGISTRY_NAME, Resolver
from plowline.spec.resolver_config import load_resolver_config, parse_resolver_config

ACME = SchemaKey.parse("iglu:com.acme/thing/jsonschema/1-0-0")


def config(version: str = "1-0-3", **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"cacheSize": 500, "repositories": []}
    body.update(data)
    return {
        "schema": f"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/{version}",
        "data": body,
    }


def http_repo(name: str = "Iglu Central", **http: Any) -> dict[str, Any]:
    return {
        "name": name,
        "priority": 0,
        "vendorPrefixes": ["com.snowplowanalytics"],
        "connection": {"http": {"uri": "http://iglucentral.com", **http}},
    }


def embedded_repo(name: str = "Local", path: str = "/iglu-client-embedded") -> dict[str, Any]:
    return {
        "name": name,
        "priority": 1,
        "vendorPrefixes": [],
        "connection": {"embedded": {"path": path}},
    }


def test_full_config_is_read() -> None:
    parsed = parse_resolver_config(
        config(
            "1-0-3",
            cacheSize=250,
            cacheTtl=600,
            repositories=[http_repo(apikey="secret"), embedded_repo(path="/srv/iglu")],
        ),
        base_dir=None,
        http_timeout=2.5,
    )
    assert parsed.version == SchemaVer(1, 0, 3)
    assert (parsed.cache_size, parsed.cache_ttl) == (250, 600)
    central, local = parsed.repositories
    assert isinstance(central, HttpRegistry)
    assert (central.name, central.uri, central.apikey, central.timeout) == (
        "Iglu Central",
        "http://iglucentral.com",
        "secret",
        2.5,
    )
    assert central.vendor_prefixes == ("com.snowplowanalytics",)
    assert isinstance(local, EmbeddedRegistry)
    assert (local.name, local.priority, local.root) == ("Local", 1, Path("/srv/iglu/schemas"))


@pytest.mark.parametrize("version", ["1-0-0", "1-0-1", "1-0-2", "1-0-3"])
def test_every_version_reads_its_basic_form(version: str) -> None:
    parsed = parse_resolver_config(config(version, repositories=[http_repo()]), base_dir=None)
    assert parsed.cache_ttl is None
    assert len(parsed.repositories) == 1


def test_null_ttl_and_null_apikey_are_allowed() -> None:
    parsed = parse_resolver_config(
        config("1-0-2", cacheTtl=None, repositories=[http_repo(apikey=None)]), base_dir=None
    )
    assert parsed.cache_ttl is None
    assert isinstance(parsed.repositories[0], HttpRegistry)
    assert parsed.repositories[0].apikey is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be an object"),
        ({"schema": "iglu:com.acme/x/jsonschema/1-0-0", "data": {}}, "must match"),
        (config("2-0-0"), "must match"),
        ({"schema": "nope", "data": {}}, "must start with 'iglu:'"),
        ({**config(), "data": []}, "'data' must be an object"),
        (config("1-0-1", cacheTtl=5), "unknown key(s) cacheTtl"),
        (config(extra=1), "unknown key(s) extra"),
        ({**config(), "data": {"repositories": []}}, "cacheSize must be a number, not None"),
        (config(cacheSize="500"), "cacheSize must be a number"),
        (config(cacheSize=True), "cacheSize must be a number"),
        (config(cacheSize=-1), "cacheSize must be >= 0"),
        (config("1-0-0", cacheSize=1.5), "cacheSize must be an integer"),
        (config("1-0-2", cacheTtl=0), "cacheTtl must be >= 1"),
        (config("1-0-3", cacheTtl=-1), "cacheTtl must be >= 0"),
        (config("1-0-3", cacheTtl=1.5), "cacheTtl must be an integer"),
        (config(repositories={}), "repositories must be an array"),
        (config(repositories=[5]), "repositories[0] must be an object"),
        (config(repositories=[{"name": "x"}]), "missing connection, priority, vendorPrefixes"),
        (config(repositories=[{**http_repo(), "x": 1}]), "unknown key(s) x"),
        (config(repositories=[{**http_repo(), "name": 1}]), "name must be a string"),
        (config(repositories=[{**http_repo(), "priority": "0"}]), "priority must be a number"),
        (config("1-0-1", repositories=[{**http_repo(), "priority": 0.5}]), "must be an integer"),
        (config(repositories=[{**http_repo(), "vendorPrefixes": "com"}]), "array of strings"),
        (config(repositories=[{**http_repo(), "connection": {}}]), "exactly one of"),
        (
            config(repositories=[{**http_repo(), "connection": {"http": {}, "embedded": {}}}]),
            "exactly one of",
        ),
        (config(repositories=[{**http_repo(), "connection": {"s3": {}}}]), "not 's3'"),
        (config(repositories=[{**http_repo(), "connection": {"http": 5}}]), "must be an object"),
        (config(repositories=[http_repo(uri=5)]), "uri must be a string"),
        (config(repositories=[http_repo(uri="ftp://x")]), "must be http"),
        (config(repositories=[http_repo(apikey=5)]), "apikey must be a string or null"),
        (config("1-0-0", repositories=[http_repo(apikey="k")]), "unknown key(s) apikey"),
        (config(repositories=[http_repo(proxy="p")]), "unknown key(s) proxy"),
        (
            config(repositories=[{**embedded_repo(), "connection": {"embedded": 5}}]),
            "must be an object",
        ),
        (
            config(repositories=[{**embedded_repo(), "connection": {"embedded": {"path": 5}}}]),
            "path must be a string",
        ),
        (
            config(
                repositories=[
                    {**embedded_repo(), "connection": {"embedded": {"path": "/", "x": 1}}}
                ]
            ),
            "unknown key(s) x",
        ),
        (config(repositories=[http_repo("a"), embedded_repo("a")]), "must be unique"),
    ],
)
def test_malformed_configs_are_rejected_with_a_reason(document: Any, message: str) -> None:
    with pytest.raises(ResolverConfigError) as caught:
        parse_resolver_config(document, base_dir=None)
    assert message in str(caught.value)


def test_relative_embedded_paths_follow_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "resolver.json"
    path.write_text(json.dumps(config(repositories=[embedded_repo(path="../iglu")])))
    (local,) = load_resolver_config(path).repositories
    assert isinstance(local, EmbeddedRegistry)
    assert local.root == tmp_path / "conf" / ".." / "iglu" / "schemas"


def test_config_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ResolverConfigError, match="cannot read"):
        load_resolver_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ResolverConfigError, match=r"broken\.json: invalid JSON"):
        load_resolver_config(broken)


def test_resolver_from_a_config_file(tmp_path: Path) -> None:
    schema_dir = tmp_path / "iglu" / "schemas" / "com.acme" / "thing" / "jsonschema"
    schema_dir.mkdir(parents=True)
    schema = {
        "self": {"vendor": "com.acme", "name": "thing", "format": "jsonschema", "version": "1-0-0"}
    }
    (schema_dir / "1-0-0").write_text(json.dumps(schema))
    path = tmp_path / "resolver.json"
    path.write_text(
        json.dumps(config(cacheSize=10, cacheTtl=30, repositories=[embedded_repo(path="iglu")]))
    )
    extra = InMemoryRegistry("extra")
    resolver = Resolver.from_config(path, extra_registries=[extra])
    assert [r.name for r in resolver.registries] == [SPEC_REGISTRY_NAME, "Local", "extra"]
    assert (resolver.cache_size, resolver.cache_ttl) == (10, 30)
    assert resolver.lookup(ACME) == schema
    from_dict = Resolver.from_config(
        config(repositories=[http_repo()]), include_spec_schemas=False, http_timeout=1.0
    )
    (central,) = from_dict.registries
    assert isinstance(central, HttpRegistry)
    assert central.timeout == 1.0
