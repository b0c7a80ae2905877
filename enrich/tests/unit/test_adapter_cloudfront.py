"""CloudFront access logs ``/com.amazon.aws.cloudfront/wd_access_log`` (enrich
CloudfrontAccessLogAdapter.scala and its spec) and the gzip log-folder batch input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plowline.enrich.adapters.cloudfront import PATH, SCHEMA_VERSIONS
from plowline.enrich.adapters.cloudfront_logs import enrich_folder, payloads
from plowline.enrich.adapters.testing import Webhook, never_crashes
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent

URL = "http://snowplowanalytics.com/analytics/index.html"
UA_DOUBLE = ("Mozilla/5.0%2520(Macintosh;%2520Intel%2520Mac%2520OS%2520X%252010_9_2)%2520"
             "AppleWebKit/537.36%2520(KHTML,%2520like%2520Gecko)")  # fmt: skip
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_2) AppleWebKit/537.36 (KHTML, like Gecko)"
# The 12-field line of CloudfrontAccessLogAdapterSpec: double-encoded user agent and query.
LINE_12 = ["2013-10-07", "23:35:30", "c", "100", "255.255.255.255", "f", "g", "h", "i", URL,
           UA_DOUBLE, "a=b%2520c"]  # fmt: skip
# The later fields, in the order of AWS's "Standard log file fields" documentation
# (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html).
LATER = ["-", "Hit", "MRVMF7KydIvxMWfJIglgwHQwZsbG2IhRJ07sn9AkKUFSHS9EXAMPLE==",
         "d111111abcdef8.cloudfront.net", "https", "1224", "0.001", "-", "TLSv1.2",
         "ECDHE-RSA-AES128-GCM-SHA256", "Hit", "HTTP/2.0", "-", "-"]  # fmt: skip
COUNTS = {12: 0, 15: 3, 18: 6, 19: 7, 23: 11, 24: 12, 26: 14}


def line(count: int) -> str:
    return "\t".join(LINE_12 + LATER[: COUNTS[count]])


@pytest.mark.parametrize("count", sorted(SCHEMA_VERSIONS))
def test_every_field_version(webhook: Webhook, count: int) -> None:
    (event,) = webhook.events(PATH, line(count), None)
    assert event.values["v_tracker"] == "com.amazon.aws.cloudfront/wd_access_log"
    assert event.values["collector_tstamp"] == "2013-10-07 23:35:30.000"
    assert event.values["user_ipaddress"] == "255.255.255.255"
    assert event.values["useragent"] == UA_DOUBLE.replace("%2520", "%20")
    assert event.values["page_url"] == URL
    ue = event.unstruct_event
    assert ue is not None
    assert ue["schema"] == (
        f"iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/{SCHEMA_VERSIONS[count]}"
    )
    data = ue["data"]
    assert data["dateTime"] == "2013-10-07T23:35:30Z"
    assert (data["scBytes"], data["csUserAgent"], data["csUriQuery"]) == (100, UA, "a=b%20c")
    assert len(data) == count - 1
    if count >= 19:
        assert (data["csBytes"], data["timeTaken"], data["csProtocol"]) == (1224, 0.001, "https")


def test_failures(webhook: Webhook) -> None:
    (wrong,) = webhook.failure(PATH, "a\tb", None)
    assert (
        wrong["expectation"]
        == "access log contained 2 fields, expected 12, 15, 18, 19, 23, 24 or 26"
    )
    bad = list(LINE_12)
    bad[0], bad[3], bad[10] = "2013-13-07", "many", "%zz"
    messages = webhook.failure(PATH, "\t".join(bad), None)
    assert [m["field"] for m in messages] == ["dateTime", "csUserAgent", "scBytes"]
    assert webhook.failure(PATH, None, None)[0]["expectation"] == "empty body"


def test_gzip_log_folder(tmp_path: Path, ctx: EnrichContext) -> None:
    header = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip ...\n"
    (tmp_path / "E2ABC.2013-10-07-23.a1b2c3d4.gz").write_bytes(
        gzip.compress((header + line(26) + "\n" + line(12) + "\n").encode())
    )
    sub = tmp_path / "2013" / "10"
    sub.mkdir(parents=True)
    (sub / "E2ABC.2013-10-08-00.e5f6.gz").write_bytes(gzip.compress((header + "x\n").encode()))
    (tmp_path / "plain.log").write_text(line(19) + "\n")
    assert len(list(payloads(tmp_path))) == 4
    results = list(enrich_folder(tmp_path, ctx))
    good = [r for r in results if isinstance(r, EnrichedEvent)]
    bad = [r for r in results if isinstance(r, BadRow)]
    assert len(good) == 3
    assert [b.kind for b in bad] == ["adapter_failures"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=st.lists(st.one_of(st.text(max_size=8), st.sampled_from(
    ["", "-", "100", "0.5", "%", "%2", "2013-10-07", "23:35:30", "nan", "1e9"])),
    min_size=1, max_size=27))  # fmt: skip
def test_malformed_lines_never_crash(webhook: Webhook, fields: list[str]) -> None:
    body = "\t".join(f.replace("\t", " ") for f in fields)
    never_crashes(webhook, PATH, body, None)
