"""Snowplow's published example enrichment configs, and every config schema version.

``tests/fixtures/snowplow_examples`` holds the 20 example configs Snowplow publishes (enrich's
``config/enrichments`` folder and the docs' enrichment pages), written out by us with the
versions users have in their folders. Issue 17 measures how many load unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pytest
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import EnrichmentConfigError, load_enrichments
from plowline.enrich.enrichments.files import AssetCache, using
from plowline.enrich.enrichments.pii import PiiPseudonymizer
from plowline.enrich.enrichments.referer_parser import RefererParser
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request, write_mmdb

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "snowplow_examples"
S = "iglu:com.snowplowanalytics.snowplow"
E = "iglu:com.snowplowanalytics.snowplow.enrichments"

# What still refuses an example, by file (each must fail for exactly this reason).
NOT_YET: dict[str, str] = {}


class Files(BaseHTTPRequestHandler):
    """Answers a proxied GET of a URL in ``files``; 404 otherwise."""

    files: ClassVar[dict[str, bytes]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = type(self).files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: Any) -> None:
        pass


HOSTED = "http://snowplow-hosted-assets.s3.amazonaws.com/third-party"


@pytest.fixture(autouse=True)
def hosted_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AssetCache]:
    """Loopback stand-in for Snowplow's hosted assets: an HTTP proxy serving the two files the
    examples name (a GeoLite2-City we write, our referer database), so configs stay unchanged."""
    city = tmp_path / "GeoLite2-City.mmdb"
    write_mmdb(str(city), {"203.0.113.0/24": {"city": {"names": {"en": "London"}}}})
    referers = resources.files("plowline.enrich").joinpath("data", "referers.json").read_bytes()
    Files.files = {
        f"{HOSTED}/maxmind/GeoLite2-City.mmdb": city.read_bytes(),
        f"{HOSTED}/referer-parser/referers-latest.json": referers,
        "http://my-self-hosted-assets.example.com/asns/bad-asn-list.csv": b"asn,name\n123,x\n",
    }
    Files.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{httpd.server_address[1]}")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    cache = AssetCache(tmp_path / "assets")
    with using(cache):
        yield cache
    httpd.shutdown()
    httpd.server_close()


def alone(example: Path, tmp_path: Path) -> Path:
    folder = tmp_path / example.stem
    folder.mkdir()
    shutil.copy(example, folder)
    return folder


def test_corpus_holds_the_twenty_examples() -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert len(names) == 20
    schemas = {json.loads((EXAMPLES / n).read_text())["schema"].split("/")[1] for n in names}
    assert len(schemas) == 20  # one per enrichment


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_loads_unchanged(name: str, tmp_path: Path, validator: IgluValidator) -> None:
    folder = alone(EXAMPLES / name, tmp_path)
    if name in NOT_YET:
        with pytest.raises(EnrichmentConfigError, match=NOT_YET[name]) as caught:
            load_enrichments(folder, validator)
        assert name in str(caught.value)  # the error names the file
    else:
        load_enrichments(folder, validator)


def test_example_figure() -> None:
    """Issue 17 figure: 7 of 20 loaded before every config schema version was known, 15 with
    them, 16 with Jayway JSONPath unions, 18 with data files by URI, 19 with ASN lookups, 20
    with bot detection."""
    assert 20 - len(NOT_YET) == 20


def test_one_bad_config_stops_the_whole_folder(tmp_path: Path, validator: IgluValidator) -> None:
    folder = tmp_path / "all"
    shutil.copytree(EXAMPLES, folder)
    for name in NOT_YET:
        (folder / name).unlink()
    assert load_enrichments(folder, validator) is not None
    (folder / "zz-broken.json").write_text(json.dumps({
        "schema": f"{S}/anon_ip/jsonschema/1-0-0",
        "data": {"name": "anon_ip", "vendor": "v", "enabled": True,
                 "parameters": {"anonOctets": 1, "anonSegments": 2}},  # 1-0-1 only
    }))  # fmt: skip
    with pytest.raises(EnrichmentConfigError, match=r"zz-broken\.json: invalid against") as caught:
        load_enrichments(folder, validator)
    assert "anonSegments" in str(caught.value)


def sdj(schema: str, name: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {"name": name, "vendor": "v", "enabled": True, "parameters": parameters, **extra}
    return {"schema": schema, "data": data}


def load_one(tmp_path: Path, validator: IgluValidator, config: dict[str, Any]) -> Any:
    folder = tmp_path / "one"
    folder.mkdir(exist_ok=True)
    (folder / "c.json").write_text(json.dumps(config))
    return load_enrichments(folder, validator)


# Minimal valid config of each published version (Iglu Central schemas, same URIs).
API = {
    "inputs": [{"key": "u", "pojo": {"field": "user_id"}}],
    "api": {"http": {"method": "GET", "uri": "http://127.0.0.1:9/{{u}}", "timeout": 500,
                     "authentication": {}}},
    "outputs": [{"schema": "iglu:com.acme/user/jsonschema/1-0-0", "json": {"jsonPath": "$"}}],
    "cache": {"size": 1, "ttl": 1},
}  # fmt: skip
SQL = {
    "inputs": [{"placeholder": 1, "pojo": {"field": "user_id"}}],
    "database": {"postgresql": {"host": "127.0.0.1", "port": 9, "sslMode": False,
                                "username": "u", "password": "p", "database": "d"}},
    "query": {"sql": "SELECT 1 WHERE ? IS NOT NULL"},
    "output": {"expectedRows": "AT_MOST_ONE",
               "json": {"schema": "iglu:com.acme/user/jsonschema/1-0-0",
                        "describes": "ALL_ROWS", "propertyNames": "AS_IS"}},
    "cache": {"size": 1, "ttl": 1},
}  # fmt: skip
IAB = {k: {"database": f, "uri": "bundled:"} for k, f in (
    ("ipFile", "ip_exclude_current_cidr.txt"), ("excludeUseragentFile", "exclude_current.txt"),
    ("includeUseragentFile", "include_current.txt"))}  # fmt: skip
PII1 = {"pii": [{"pojo": {"field": "user_id"}}],
        "strategy": {"pseudonymize": {"hashFunction": "SHA-256"}}}  # fmt: skip
PII2 = {"pii": [{"pojo": {"field": "user_id"}}],
        "strategy": {"pseudonymize": {"hashFunction": "SHA-256", "salt": "s"}}}  # fmt: skip
CAMPAIGN = {
    "mapping": "static",
    "fields": {
        k: ["utm_x"] for k in ("mktMedium", "mktSource", "mktTerm", "mktContent", "mktCampaign")
    },
}
VERSIONS = [
    (f"{S}/anon_ip/jsonschema/1-0-0", "anon_ip", {"anonOctets": 2}, {}),
    (f"{S}/campaign_attribution/jsonschema/1-0-0", "campaign_attribution", CAMPAIGN, {}),
    (f"{S}/event_fingerprint_config/jsonschema/1-0-0", "event_fingerprint_config",
     {"excludeParameters": [], "hashAlgorithm": "MD5"}, {}),
    (f"{S}/javascript_script_config/jsonschema/1-0-0", "javascript_script_config",
     {"script": "ZnVuY3Rpb24gcHJvY2VzcyhlKSB7IHJldHVybiBbXTsgfQ=="}, {}),
    (f"{S}/ua_parser_config/jsonschema/1-0-0", "ua_parser_config", {}, {}),
    (f"{S}/referer_parser/jsonschema/1-0-0", "referer_parser", {"internalDomains": []}, {}),
    (f"{S}/referer_parser/jsonschema/2-0-0", "referer_parser",
     {"internalDomains": [], "database": "referers.json", "uri": "bundled:"}, {}),
    (f"{E}/api_request_enrichment_config/jsonschema/1-0-0", "api_request_enrichment_config",
     API, {}),
    (f"{E}/api_request_enrichment_config/jsonschema/1-0-1", "api_request_enrichment_config",
     {**API, "cache": {"size": 0, "ttl": 1}}, {}),
    (f"{E}/sql_query_enrichment_config/jsonschema/1-0-0", "sql_query_enrichment_config", SQL, {}),
    (f"{E}/iab_spiders_and_robots_enrichment/jsonschema/1-0-0",
     "iab_spiders_and_robots_enrichment", IAB, {}),
    (f"{E}/pii_enrichment_config/jsonschema/1-0-0", "pii_enrichment_config", PII1, {}),
    (f"{E}/pii_enrichment_config/jsonschema/2-0-0", "pii_enrichment_config", PII2,
     {"emitEvent": False}),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "name", "parameters", "extra"), VERSIONS)
def test_every_older_config_version_loads(
    schema: str, name: str, parameters: dict[str, Any], extra: dict[str, Any],
    tmp_path: Path, validator: IgluValidator,
) -> None:  # fmt: skip
    (enrichment,) = load_one(tmp_path, validator, sdj(schema, name, parameters, **extra))
    assert enrichment.name == name
    assert enrichment.config_schema == schema


@pytest.mark.parametrize(("schema", "name", "parameters"), [
    # Parameters a later version added are refused by the earlier one.
    (f"{S}/anon_ip/jsonschema/1-0-0", "anon_ip", {"anonOctets": 2, "anonSegments": 2}),
    (f"{S}/event_fingerprint_config/jsonschema/1-0-0", "event_fingerprint_config",
     {"excludeParameters": [], "hashAlgorithm": "SHA256"}),
    (f"{S}/ua_parser_config/jsonschema/1-0-0", "ua_parser_config", {"database": "x"}),
    (f"{E}/api_request_enrichment_config/jsonschema/1-0-0", "api_request_enrichment_config",
     {**API, "cache": {"size": 0, "ttl": 1}}),
    (f"{E}/pii_enrichment_config/jsonschema/1-0-0", "pii_enrichment_config", PII2),
])  # fmt: skip
def test_older_versions_keep_their_own_rules(
    schema: str, name: str, parameters: dict[str, Any], tmp_path: Path, validator: IgluValidator
) -> None:
    with pytest.raises(EnrichmentConfigError, match="invalid against"):
        load_one(tmp_path, validator, sdj(schema, name, parameters))


def test_ip_lookups_legacy_dat_is_refused_by_name(tmp_path: Path, validator: IgluValidator) -> None:
    config = sdj(f"{S}/ip_lookups/jsonschema/1-0-0", "ip_lookups",
                 {"geo": {"database": "GeoLiteCity.dat", "uri": "file:///nowhere"}})  # fmt: skip
    with pytest.raises(EnrichmentConfigError, match=r"c\.json: .*GeoIP Legacy \.dat"):
        load_one(tmp_path, validator, config)


def test_referer_parser_1_uses_the_shipped_database(
    tmp_path: Path, validator: IgluValidator
) -> None:
    config = sdj(f"{S}/referer_parser/jsonschema/1-0-0", "referer_parser",
                 {"internalDomains": ["intranet.example"]})  # fmt: skip
    (parser,) = load_one(tmp_path, validator, config)
    assert isinstance(parser, RefererParser)
    assert parser.classify("www.google.com", "/search", "q=plowline", "example.com") == (
        "search", "Google", "plowline",
    )  # fmt: skip
    assert parser.classify("intranet.example", "/", None, "example.com")[0] == "internal"


def test_pii_1_hashes_without_salt(tmp_path: Path, validator: IgluValidator) -> None:
    (pii,) = load_one(
        tmp_path, validator, sdj(f"{E}/pii_enrichment_config/jsonschema/1-0-0", "pii", PII1)
    )
    assert isinstance(pii, PiiPseudonymizer)
    assert pii.hash("alice") == hashlib.sha256(b"alice").hexdigest()


def test_pii_anonymous_only(tmp_path: Path, validator: IgluValidator, ctx: EnrichContext) -> None:
    config = sdj(f"{E}/pii_enrichment_config/jsonschema/2-0-1", "pii", PII2,
                 emitEvent=False, anonymousOnly=True)  # fmt: skip
    enrichments = load_one(tmp_path, validator, config)
    run = EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)
    query = "e=pv&p=web&tv=js-3&uid=alice"
    plain = enrich(payload_from_request("GET", "/i", query), run)[0]
    anonymous = enrich(payload_from_request("GET", "/i", query, {"SP-Anonymous": "*"}), run)[0]
    assert plain.get("user_id") == "alice"  # type: ignore[union-attr]
    assert anonymous.get("user_id") == hashlib.sha256(b"alices").hexdigest()  # type: ignore[union-attr]
