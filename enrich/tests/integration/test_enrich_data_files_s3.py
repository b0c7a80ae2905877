"""Data files given by ``s3://`` URIs, against real LocalStack S3 (issue 17 item 3).

The enricher's boto3 client is pointed at LocalStack only through the standard
``AWS_ENDPOINT_URL_S3`` variable, the way a user overrides the endpoint."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from plowline.enrich.enrichments.config import EnrichmentConfigError, load_enrichments
from plowline.enrich.enrichments.files import AssetCache
from plowline.enrich.enrichments.iab import SpidersAndRobots
from plowline.enrich.iglu import IgluValidator

pytestmark = pytest.mark.aws

FILES = ("ip_exclude_current_cidr.txt", "exclude_current.txt", "include_current.txt")


@pytest.fixture
def s3_env(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    endpoint = aws.endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", endpoint.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_access_key)
    return endpoint.client("s3")


def iab_folder(tmp_path: Path, bucket: str) -> Path:
    uri = f"s3://{bucket}/iab"
    keys = ("ipFile", "excludeUseragentFile", "includeUseragentFile")
    config = {
        "schema": "iglu:com.snowplowanalytics.snowplow.enrichments/"
        "iab_spiders_and_robots_enrichment/jsonschema/1-0-0",
        "data": {
            "name": "iab_spiders_and_robots_enrichment",
            "vendor": "com.snowplowanalytics.snowplow.enrichments",
            "enabled": True,
            "parameters": {
                k: {"database": f, "uri": uri} for k, f in zip(keys, FILES, strict=True)
            },
        },
    }
    folder = tmp_path / "enrichments"
    folder.mkdir()
    (folder / "iab.json").write_text(json.dumps(config))
    return folder


def test_s3_files_download_once_and_refresh(
    s3_env: Any, s3_bucket: str, tmp_path: Path, validator: IgluValidator
) -> None:
    data = resources.files("plowline.enrich").joinpath("data")
    for name in FILES:
        s3_env.put_object(
            Bucket=s3_bucket, Key=f"iab/{name}", Body=data.joinpath(name).read_bytes()
        )
    cache = AssetCache(tmp_path / "assets")
    (iab,) = load_enrichments(iab_folder(tmp_path, s3_bucket), validator, cache)
    assert isinstance(iab, SpidersAndRobots)
    before = list(iab.include)
    assert cache.refresh() == []
    s3_env.put_object(Bucket=s3_bucket, Key="iab/include_current.txt", Body=b"plowline-agent\n")
    assert cache.refresh() == [f"s3://{s3_bucket}/iab/include_current.txt"]
    assert iab.include == ["plowline-agent"] != before  # the same object, rebuilt


def test_missing_s3_object_stops_the_start(
    s3_env: Any, s3_bucket: str, tmp_path: Path, validator: IgluValidator
) -> None:
    with pytest.raises(EnrichmentConfigError, match=r"iab\.json: cannot configure .*S3 download"):
        load_enrichments(iab_folder(tmp_path, s3_bucket), validator, AssetCache(tmp_path / "a"))
