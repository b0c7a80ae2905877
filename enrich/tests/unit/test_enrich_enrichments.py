"""Each configurable enrichment, configured from SDJ files as Snowplow's enrich does."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.anon_ip import AnonIp
from plowline.enrich.enrichments.base import Enrichment, EnrichState
from plowline.enrich.enrichments.config import EnrichmentConfigError, load_enrichments
from plowline.enrich.enrichments.event_fingerprint import EventFingerprint
from plowline.enrich.enrichments.ip_lookups import java_float
from plowline.enrich.enrichments.pii import JsonPathError, compile_path
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request, write_mmdb
from plowline.spec.collector_payload import CollectorPayload

S = "iglu:com.snowplowanalytics.snowplow"
E = "iglu:com.snowplowanalytics.snowplow.enrichments"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.109 Safari/537.36"
)
SP = "c0ffee00-1111-4222-8333-444455556666"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"


def config(schema: str, name: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {"name": name, "vendor": "com.snowplowanalytics.snowplow", "enabled": True,
            "parameters": parameters, **extra}  # fmt: skip
    return {"schema": schema, "data": data}


def write_configs(directory: Path, *configs: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i, cfg in enumerate(configs):
        (directory / f"{i:02d}-{cfg['data']['name']}.json").write_text(json.dumps(cfg))
    return directory


def with_enrichments(ctx: EnrichContext, enrichments: list[Enrichment]) -> EnrichContext:
    return EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)


def run_one(ctx: EnrichContext, payload: CollectorPayload) -> EnrichedEvent:
    results = enrich(payload, ctx)
    assert isinstance(results[0], EnrichedEvent), [
        r.to_json() for r in results if isinstance(r, BadRow)
    ]
    return results[0]


def derived(event: EnrichedEvent, name: str) -> list[Any]:
    return [c["data"] for c in event.derived_contexts if f"/{name}/" in c["schema"]]


@pytest.fixture
def full_ctx(ctx: EnrichContext, tmp_path: Path, validator: IgluValidator) -> EnrichContext:
    mmdb = tmp_path / "mmdb"
    mmdb.mkdir()
    write_mmdb(str(mmdb / "GeoLite2-City.mmdb"), {
        "203.0.113.0/24": {
            "country": {"iso_code": "GB"}, "city": {"names": {"en": "London"}},
            "postal": {"code": "EC1A"},
            "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
            "location": {"latitude": 51.5074, "longitude": -0.1278, "time_zone": "Europe/London"},
        },
    })  # fmt: skip
    write_mmdb(
        str(mmdb / "GeoIP2-ISP.mmdb"),
        {"203.0.113.0/24": {"isp": "Test ISP", "organization": "Test Org"}},
    )
    write_mmdb(str(mmdb / "GeoIP2-Domain.mmdb"), {"203.0.113.0/24": {"domain": "example.net"}})
    write_mmdb(
        str(mmdb / "GeoIP2-Connection-Type.mmdb"),
        {"203.0.113.0/24": {"connection_type": "Cable/DSL"}},
    )
    write_mmdb(str(mmdb / "GeoLite2-ASN.mmdb"), {
        "203.0.113.0/24": {
            "autonomous_system_number": 64500, "autonomous_system_organization": "AS Test",
        },
    })  # fmt: skip
    uri = mmdb.as_uri()
    configs = write_configs(
        tmp_path / "enrichments",
        config(f"{S}/ua_parser_config/jsonschema/1-0-1", "ua_parser_config", {}),
        config(f"{S}/referer_parser/jsonschema/2-0-1", "referer_parser",
               {"internalDomains": ["intranet.example"], "database": "referers.json",
                "uri": "bundled:"}),
        config(f"{S}/campaign_attribution/jsonschema/1-0-1", "campaign_attribution", {
            "mapping": "static",
            "fields": {"mktMedium": ["utm_medium"], "mktSource": ["utm_source"],
                       "mktTerm": ["utm_term"],
                       "mktContent": ["utm_content"], "mktCampaign": ["utm_campaign", "cid"],
                       "mktClickId": {"fbclid": "Facebook"}},
        }),
        config(f"{S}/event_fingerprint_config/jsonschema/1-0-1", "event_fingerprint_config",
               {"excludeParameters": ["eid", "stm", "nuid", "cv"], "hashAlgorithm": "SHA256"}),
        config(f"{S}/ip_lookups/jsonschema/2-0-1", "ip_lookups", {
            "geo": {"database": "GeoLite2-City.mmdb", "uri": uri},
            "isp": {"database": "GeoIP2-ISP.mmdb", "uri": uri},
            "domain": {"database": "GeoIP2-Domain.mmdb", "uri": uri},
            "connectionType": {"database": "GeoIP2-Connection-Type.mmdb", "uri": uri},
            "asn": {"database": "GeoLite2-ASN.mmdb", "uri": uri},
        }),
        config(f"{S}/cookie_extractor_config/jsonschema/1-0-0", "cookie_extractor_config",
               {"cookies": ["sp", "_ga"]}),
        config(f"{E}/http_header_extractor_config/jsonschema/1-0-0", "http_header_extractor_config",
               {"headersPattern": "X-Test-.*"}),
        config(f"{E}/iab_spiders_and_robots_enrichment/jsonschema/1-0-1",
               "iab_spiders_and_robots_enrichment", {
            "ipFile": {"database": "ip_exclude_current_cidr.txt", "uri": "bundled:"},
            "excludeUseragentFile": {"database": "exclude_current.txt", "uri": "bundled:"},
            "includeUseragentFile": {"database": "include_current.txt", "uri": "bundled:"},
        }),
        config(f"{S}/anon_ip/jsonschema/1-0-1", "anon_ip", {"anonOctets": 2, "anonSegments": 3}),
    )  # fmt: skip
    return with_enrichments(ctx, load_enrichments(configs, validator))


def page_view(query: str = "", **headers: str) -> CollectorPayload:
    base = "e=pv&p=web&tv=js-3&eid=2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e&stm=1&cv=clj-1"
    hdrs = {"User-Agent": CHROME, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return payload_from_request(
        "GET", "/i", base + ("&" + query if query else ""), hdrs, ip="203.0.113.9"
    )


def test_all_standard_enrichments(full_ctx: EnrichContext) -> None:
    url = quote(
        "https://shop.example/p?utm_source=news&utm_medium=email&cid=spring&fbclid=F1&gclid=G1"
    )
    refr = quote("https://www.google.co.uk/search?q=red+shoes")
    payload = page_view(
        f"url={url}&refr={refr}", Cookie=f"sp={SP}; _ga=GA1; other=1", X_Test_Id="42"
    )
    event = run_one(full_ctx, payload)
    v = event.values
    # campaign attribution: first listed param wins; default click ids come before config ones
    assert (v["mkt_source"], v["mkt_medium"], v["mkt_campaign"]) == ("news", "email", "spring")
    assert (v["mkt_clickid"], v["mkt_network"]) == ("G1", "Google")
    # referer parser
    assert (v["refr_medium"], v["refr_source"], v["refr_term"]) == ("search", "Google", "red shoes")
    # IP lookups ran on the real address, then anon_ip masked it
    assert v["user_ipaddress"] == "203.0.x.x"
    assert (v["geo_country"], v["geo_region"], v["geo_city"], v["geo_zipcode"]) == (
        "GB",
        "ENG",
        "London",
        "EC1A",
    )
    assert (v["geo_latitude"], v["geo_longitude"]) == ("51.5074", "-0.1278")
    assert (v["geo_region_name"], v["geo_timezone"]) == ("England", "Europe/London")
    assert (v["ip_isp"], v["ip_organization"], v["ip_domain"], v["ip_netspeed"]) == (
        "Test ISP", "Test Org", "example.net", "Cable/DSL",
    )  # fmt: skip
    assert derived(event, "asn") == [{"number": 64500, "organization": "AS Test"}]
    # UA parser
    [ua] = derived(event, "ua_parser_context")
    assert ua["useragentFamily"] == "Chrome"
    assert ua["useragentVersion"] == "Chrome 120.0.6099"
    assert ua["osFamily"] == "Windows"
    # cookies and headers
    assert derived(event, "http_cookie") == [
        {"name": "sp", "value": SP},
        {"name": "_ga", "value": "GA1"},
    ]
    assert derived(event, "http_header") == [{"name": "X-Test-Id", "value": "42"}]
    # IAB
    assert derived(event, "spiders_and_robots") == [
        {
            "spiderOrRobot": False,
            "category": "BROWSER",
            "reason": "PASSED_ALL",
            "primaryImpact": "NONE",
        }
    ]
    # fingerprint: sha256 over sorted params minus the excluded ones
    assert v["event_fingerprint"] == EventFingerprint(
        ["eid", "stm", "nuid", "cv"], "SHA256"
    ).fingerprint(
        {
            "e": "pv",
            "p": "web",
            "tv": "js-3",
            "url": payload_url(payload),
            "refr": payload_refr(payload),
        }
    )
    assert len(event.to_tsv().split("\t")) == 131


def payload_url(payload: CollectorPayload) -> str:
    from urllib.parse import parse_qs

    return parse_qs(payload.querystring or "")["url"][0]


def payload_refr(payload: CollectorPayload) -> str:
    from urllib.parse import parse_qs

    return parse_qs(payload.querystring or "")["refr"][0]


def test_fingerprint_algorithm_is_exact() -> None:
    fp = EventFingerprint(["eid"], "MD5")
    expected = hashlib.md5(b"a\x1f1\x1fb\x1f\x1fe\x1fpv\x1f", usedforsecurity=False).hexdigest()
    assert fp.fingerprint({"e": "pv", "eid": "ignored", "b": None, "a": "1"}) == expected


@pytest.mark.parametrize(
    ("referrer", "medium", "source", "term"),
    [
        ("https://www.bing.com/search?q=hello", "search", "Bing", "hello"),
        ("https://l.facebook.com/l.php?u=x", "social", "Facebook", None),
        ("https://mail.google.com/mail/u/0/", "email", "Gmail", None),
        ("https://shop.example/other", "internal", None, None),
        ("https://intranet.example/x", "internal", None, None),
        ("https://unknown.example/", "unknown", None, None),
    ],
)
def test_referer_classification(
    full_ctx: EnrichContext, referrer: str, medium: str, source: str | None, term: str | None
) -> None:
    url = quote("https://shop.example/p")
    event = run_one(full_ctx, page_view(f"url={url}&refr={quote(referrer)}"))
    assert (event.get("refr_medium"), event.get("refr_source"), event.get("refr_term")) == (
        medium,
        source,
        term,
    )


@pytest.mark.parametrize(
    ("useragent", "ip", "expected"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1)", "198.51.100.1",
         {"spiderOrRobot": True, "category": "ACTIVE_SPIDER_OR_ROBOT",
          "reason": "FAILED_UA_EXCLUDE",
          "primaryImpact": "PAGE_AND_AD_IMPRESSIONS"}),
        ("curl/8.0", "198.51.100.1",
         {"spiderOrRobot": True, "category": "SPIDER_OR_ROBOT", "reason": "FAILED_UA_INCLUDE",
          "primaryImpact": "UNKNOWN"}),
        (CHROME, "66.249.66.1",
         {"spiderOrRobot": True, "category": "SPIDER_OR_ROBOT", "reason": "FAILED_IP_EXCLUDE",
          "primaryImpact": "UNKNOWN"}),
    ],
)  # fmt: skip
def test_spiders_and_robots(
    full_ctx: EnrichContext, useragent: str, ip: str, expected: dict[str, Any]
) -> None:
    payload = payload_from_request("GET", "/i", "e=pv&p=web&tv=t", {"User-Agent": useragent}, ip=ip)
    assert derived(run_one(full_ctx, payload), "spiders_and_robots") == [expected]


def test_anon_ip() -> None:
    assert AnonIp(1).anonymise("1.2.3.4") == "1.2.3.x"
    assert AnonIp(4).anonymise("1.2.3.4") == "x.x.x.x"
    assert AnonIp(2, 3).anonymise("2001:db8::1") == "2001:0db8:0000:0000:0000:x:x:x"
    assert AnonIp(2).anonymise("unknown") == "unknown"


def test_java_float() -> None:
    assert java_float(51.5074) == "51.5074"
    assert java_float(10.0) == "10.0"
    assert java_float(-0.1278) == "-0.1278"


def test_pii_fields_json_paths_and_emitted_event(
    ctx: EnrichContext, tmp_path: Path, validator: IgluValidator
) -> None:
    configs = write_configs(tmp_path / "pii", config(
        f"{E}/pii_enrichment_config/jsonschema/2-0-1", "pii_enrichment_config", {
            "pii": [
                {"pojo": {"field": "user_id"}},
                {"pojo": {"field": "user_ipaddress"}},
                {"json": {"field": "unstruct_event",
                          "schemaCriterion": "iglu:com.acme/checkout/jsonschema/1-*-*",
                          "jsonPath": "$.email"}},
            ],
            "strategy": {"pseudonymize": {"hashFunction": "SHA-256", "salt": "pepper"}},
        }, emitEvent=True,
    ))  # fmt: skip
    pii_ctx = with_enrichments(ctx, load_enrichments(configs, validator))
    inner = {"schema": CHECKOUT, "data": {"step": 1, "email": "a@b.c"}}
    ue = json.dumps({"schema": f"{S}/unstruct_event/jsonschema/1-0-0", "data": inner})
    payload = payload_from_request(
        "GET", "/i", f"e=ue&p=web&tv=t&uid=alice&ue_pr={quote(ue)}", ip="192.0.2.1"
    )
    results = enrich(payload, pii_ctx)
    assert len(results) == 2
    main, emitted = results
    assert isinstance(main, EnrichedEvent)
    assert isinstance(emitted, EnrichedEvent)

    def h(value: str) -> str:
        return hashlib.sha256((value + "pepper").encode()).hexdigest()

    assert main.values["user_id"] == h("alice")
    assert main.values["user_ipaddress"] == h("192.0.2.1")
    assert main.unstruct_event == {"schema": CHECKOUT, "data": {"step": 1, "email": h("a@b.c")}}
    assert not main.pii
    assert emitted.pii
    assert emitted.values["platform"] == "srv"
    assert emitted.values["event_name"] == "pii_transformation"
    assert emitted.contexts == [{"schema": f"{S}/parent_event/jsonschema/1-0-0",
                                 "data": {"parentEventId": main.values["event_id"]}}]  # fmt: skip
    assert emitted.unstruct_event is not None
    pii = emitted.unstruct_event["data"]["pii"]
    assert [p["fieldName"] for p in pii["pojo"]] == ["user_id", "user_ipaddress"]
    assert pii["json"][0]["fieldMapping"]["originalValue"] == "a@b.c"
    assert validator.check(emitted.unstruct_event["schema"], emitted.unstruct_event["data"]) is None
    assert len(emitted.to_tsv().split("\t")) == 131


def test_json_paths() -> None:
    from plowline.enrich.enrichments.jsonpath import select

    doc = {"a": {"b c": [[{"x": 1, "y": 2}]]}}
    assert select(doc, compile_path("$.a['b c'][0][*].*")) == [1, 2]
    assert select(doc, compile_path("$..x")) == [1]
    for bad in ("a.b", "$.[", "$.a[?(@.x >]"):
        with pytest.raises(JsonPathError):
            compile_path(bad)


def test_invalid_config_is_refused(tmp_path: Path, validator: IgluValidator) -> None:
    bad = write_configs(
        tmp_path / "bad", config(f"{S}/anon_ip/jsonschema/1-0-1", "anon_ip", {"anonOctets": 9})
    )
    with pytest.raises(EnrichmentConfigError, match="invalid against"):
        load_enrichments(bad, validator)
    unsupported = write_configs(tmp_path / "unsupported", config(
        f"{S}/user_agent_utils_config/jsonschema/1-0-0", "user_agent_utils_config", {},
    ))  # fmt: skip
    with pytest.raises(EnrichmentConfigError, match="not supported"):
        load_enrichments(unsupported, validator)


def test_disabled_config_is_skipped(tmp_path: Path, validator: IgluValidator) -> None:
    cfg = config(f"{S}/anon_ip/jsonschema/1-0-1", "anon_ip", {"anonOctets": 1})
    cfg["data"]["enabled"] = False
    assert load_enrichments(write_configs(tmp_path / "off", cfg), validator) == []


def test_derived_context_invalid_is_a_schema_violation(ctx: EnrichContext) -> None:
    class Broken(Enrichment):
        name = "cookie_extractor_config"

        def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
            event.derived_contexts.append(
                {"schema": "iglu:org.ietf/http_cookie/jsonschema/1-0-0", "data": {}}
            )

    results = enrich(
        payload_from_request("GET", "/i", "e=pv&p=web&tv=t"), with_enrichments(ctx, [Broken()])
    )
    assert isinstance(results[0], BadRow)
    assert results[0].kind == "schema_violations"


def test_cross_navigation_entity(ctx: EnrichContext) -> None:
    from plowline.enrich.conversions import encode_base64url
    from plowline.enrich.enrichments.cross_navigation import CrossNavigation

    sp = ".".join([
        "d-1", "1665398554084", "be9520e7-1f43-4c6e-9e2c-1a4c8d3a5b6e",
        encode_base64url("user@x"), encode_base64url("app-1"), "mob", encode_base64url("deep link"),
    ])  # fmt: skip
    url = quote(f"https://shop.example/?_sp={sp}", safe="")
    payload = payload_from_request("GET", "/i", f"e=pv&p=web&tv=t&url={url}")
    event = run_one(with_enrichments(ctx, [CrossNavigation()]), payload)
    assert derived(event, "cross_navigation") == [{
        "domain_user_id": "d-1", "timestamp": "2022-10-10T10:42:34.084Z",
        "session_id": "be9520e7-1f43-4c6e-9e2c-1a4c8d3a5b6e", "user_id": "user@x",
        "source_id": "app-1", "source_platform": "mob", "reason": "deep link",
    }]  # fmt: skip
    assert event.values["refr_domain_userid"] == "d-1"
