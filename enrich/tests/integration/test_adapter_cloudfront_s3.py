"""The CloudFront batch input reading rotated gzip access logs from S3 (real LocalStack S3,
or moto's server as the services plugin's fallback)."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from plowline.enrich.adapters.cloudfront_logs import enrich_s3, s3_keys
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent

pytestmark = pytest.mark.aws

HEADER = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method ...\n"
LINE = "\t".join([
    "2013-10-07", "23:35:30", "FRA2", "100", "192.0.2.10", "GET", "d111111abcdef8.cloudfront.net",
    "/i", "200", "http://example.com/page", "Mozilla/5.0%2520(X11)", "e=pv&p=web",
])  # fmt: skip


def test_gzip_logs_under_a_prefix(aws: Any, s3_bucket: str, ctx: EnrichContext) -> None:
    s3 = aws.endpoint.client("s3")
    for key, text in [
        ("cf/E2ABC.2013-10-07-23.a1.gz", HEADER + LINE + "\n" + LINE + "\n"),
        ("cf/E2ABC.2013-10-08-00.b2.gz", HEADER + "not a log line\n"),
        ("elsewhere/E2ABC.2013-10-08-01.c3.gz", HEADER + LINE + "\n"),
    ]:
        s3.put_object(Bucket=s3_bucket, Key=key, Body=gzip.compress(text.encode()))
    assert s3_keys(s3, s3_bucket, "cf/") == [
        "cf/E2ABC.2013-10-07-23.a1.gz", "cf/E2ABC.2013-10-08-00.b2.gz",
    ]  # fmt: skip
    results = list(enrich_s3(s3, s3_bucket, "cf/", ctx))
    good = [r for r in results if isinstance(r, EnrichedEvent)]
    bad = [r for r in results if isinstance(r, BadRow)]
    assert len(good) == 2
    assert good[0].values["user_ipaddress"] == "192.0.2.10"
    assert good[0].values["page_url"] == "http://example.com/page"
    assert [b.kind for b in bad] == ["adapter_failures"]
