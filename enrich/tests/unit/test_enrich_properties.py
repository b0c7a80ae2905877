"""Hypothesis: every input becomes good events or bad rows, never an escaping exception."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent, tsv_to_json
from plowline.enrich.pipeline import enrich
from plowline.enrich.records import enrich_record
from plowline.spec.collector_payload import CollectorPayload, encode

PATHS = st.sampled_from([
    "/i", "/ice.png", "/com.snowplowanalytics.snowplow/tp2", "/r/tp2",
    "/com.snowplowanalytics.iglu/v1", "/com.statusgator/v1", "/com.acme/v1", "/x/y/z",
])  # fmt: skip
PARAM_NAMES = st.sampled_from([
    "e", "p", "tv", "aid", "eid", "dtm", "stm", "ttm", "vid", "res", "cookie", "url", "refr",
    "se_va", "tr_tt", "ti_qu", "cx", "co", "ue_pr", "ue_px", "u", "nuid", "tnuid", "ip", "sid",
    "schema", "pp_mix", "tid", "f_pdf", "page",
])  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["pv", "ue", "se", "web", "1", "0", "null", "1x1", "12.5e3", "-1",
                     "2ec13853-1f43-4c6e-9e2c-1a4c8d3a5b6e", "eyJ9", "{}", "http://a/b?c#d"]),
)  # fmt: skip
QUERY_CHARS = st.text(
    alphabet=st.sampled_from(list("abcXYZ019=&;%+#|{} ._-~/?:@!$'()*,é\t\x00")), max_size=60
)


def _query(pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import quote

    return "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)


def _check(results: list[EnrichedEvent | BadRow]) -> None:
    assert results
    for result in results:
        if isinstance(result, EnrichedEvent):
            line = result.to_tsv()
            assert len(line.split("\t")) == 131
            assert "\n" not in line
            tsv_to_json(line)
        else:
            assert isinstance(result, BadRow)
            # generic_error is the last line of defence: reaching it means a bug somewhere.
            assert result.kind != "generic_error", result.to_json()
            json.loads(result.to_json())


JSON_VALUES: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)

ITEMS = st.dictionaries(PARAM_NAMES, st.one_of(VALUES, JSON_VALUES), max_size=6)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(path=PATHS, pairs=st.lists(st.tuples(PARAM_NAMES, VALUES), max_size=8))
def test_any_querystring(ctx: EnrichContext, path: str, pairs: list[tuple[str, str]]) -> None:
    payload = CollectorPayload(ip_address="1.2.3.4", timestamp=1, collector="c", path=path,
                               querystring=_query(pairs))  # fmt: skip
    _check(enrich(payload, ctx))


@SETTINGS
@given(path=PATHS, query=QUERY_CHARS)
def test_raw_querystring_characters(ctx: EnrichContext, path: str, query: str) -> None:
    payload = CollectorPayload(ip_address="1.2.3.4", timestamp=1, collector="c", path=path,
                               querystring=query)  # fmt: skip
    _check(enrich(payload, ctx))


@SETTINGS
@given(
    path=PATHS,
    body=st.one_of(
        st.text(max_size=80),
        JSON_VALUES.map(json.dumps),
        st.lists(ITEMS, max_size=3).map(lambda items: json.dumps({
            "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
            "data": items,
        })),
    ),
    content_type=st.sampled_from([None, "application/json", "application/json; charset=utf-8",
                                  "application/x-www-form-urlencoded", "text/plain"]),
    headers=st.lists(st.text(max_size=30), max_size=4),
    timestamp=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    nuid=st.one_of(st.none(), st.text(max_size=40)),
)  # fmt: skip
def test_any_post(
    ctx: EnrichContext, path: str, body: str, content_type: str | None,
    headers: list[str], timestamp: int, nuid: str | None,
) -> None:  # fmt: skip
    payload = CollectorPayload(
        ip_address="::1", timestamp=timestamp, collector="c", path=path, body=body,
        content_type=content_type, headers=headers, network_user_id=nuid,
    )  # fmt: skip
    _check(enrich(payload, ctx))


@SETTINGS
@given(data=st.binary(max_size=200))
def test_any_record_bytes(ctx: EnrichContext, data: bytes) -> None:
    _check(enrich_record(data, ctx))


@SETTINGS
@given(cut=st.integers(min_value=0, max_value=200), flip=st.integers(min_value=0, max_value=255))
def test_damaged_thrift(ctx: EnrichContext, cut: int, flip: int) -> None:
    raw = bytearray(encode(CollectorPayload(
        ip_address="1.2.3.4", timestamp=1, collector="c", path="/i", querystring="e=pv&p=web",
        headers=["A: b"],
    )))  # fmt: skip
    if raw:
        raw[cut % len(raw)] ^= flip
    _check(enrich_record(bytes(raw[: len(raw) - cut % 7]), ctx))


def _all_enrichments(ctx: EnrichContext) -> EnrichContext:
    import ipaddress

    from plowline.enrich.enrichments.anon_ip import AnonIp
    from plowline.enrich.enrichments.campaign_attribution import CampaignAttribution
    from plowline.enrich.enrichments.cookie_extractor import CookieExtractor
    from plowline.enrich.enrichments.cross_navigation import CrossNavigation
    from plowline.enrich.enrichments.event_fingerprint import EventFingerprint
    from plowline.enrich.enrichments.http_header_extractor import HttpHeaderExtractor
    from plowline.enrich.enrichments.iab import RobotPattern, SpidersAndRobots
    from plowline.enrich.enrichments.jsonpath import compile_path
    from plowline.enrich.enrichments.pii import JsonField, PiiPseudonymizer
    from plowline.enrich.enrichments.referer_parser import RefererParser
    from plowline.enrich.enrichments.ua_parser import UaParser
    from plowline.enrich.validation import Criterion

    enrichments = [
        UaParser(),
        RefererParser({"search": {"G": {"domains": ["g.com"], "parameters": ["q"]}}}, ["i.com"]),
        CampaignAttribution({"mktSource": ["utm_source"], "mktMedium": ["utm_medium"]}),
        EventFingerprint(["eid"], "SHA1"),
        CookieExtractor(["sp", "a"]),
        HttpHeaderExtractor(".*"),
        SpidersAndRobots([ipaddress.ip_network("10.0.0.0/8")], ["mozilla"],
                         [RobotPattern("bot", True, "UNKNOWN")]),
        CrossNavigation(),
        AnonIp(2),
        PiiPseudonymizer(
            ["user_id", "se_label"],
            [JsonField("contexts", Criterion("iglu:com.acme/checkout/jsonschema/1-*-*"), "$.email",
                       compile_path("$.email"))],
            "SHA-256", "salt", emit_event=True,
        ),
    ]  # fmt: skip
    return EnrichContext(ctx.validator, enrichments, clock_ms=ctx.clock_ms, new_uuid=ctx.new_uuid)


HEADER_LINES = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.builds(lambda n, v: f"{n}: {v}",
                  st.sampled_from(["Cookie", "X-Forwarded-For", "Forwarded", "Referer", "X-A"]),
                  st.text(max_size=30)),
    ),
    max_size=5,
)  # fmt: skip


@SETTINGS
@given(
    pairs=st.lists(st.tuples(PARAM_NAMES, VALUES), max_size=8),
    headers=HEADER_LINES,
    useragent=st.one_of(st.none(), st.text(max_size=60)),
    ip=st.sampled_from(["1.2.3.4", "10.1.2.3", "::1", "unknown", "", "2001:db8::x"]),
    referer=st.one_of(st.none(), st.text(max_size=40), st.just("http://g.com/s?q=a+b&_sp=x.1")),
)  # fmt: skip
def test_all_enrichments_never_escape(
    ctx: EnrichContext, pairs: list[tuple[str, str]], headers: list[str],
    useragent: str | None, ip: str, referer: str | None,
) -> None:  # fmt: skip
    payload = CollectorPayload(
        ip_address=ip, timestamp=1_700_000_000_000, collector="c", path="/i",
        querystring=_query([("e", "pv"), ("p", "web"), *pairs]), headers=headers,
        user_agent=useragent, referer_uri=referer,
    )  # fmt: skip
    _check(enrich(payload, _all_enrichments(ctx)))
