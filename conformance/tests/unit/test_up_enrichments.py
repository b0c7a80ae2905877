"""`plowline up --enrichments DIR`: configs are loaded and applied to every event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plowline.conformance.up.server import UpOptions, UpServer
from plowline.conformance.up.testing import TP2, http, page_view, running, tp2_body, wait_for
from plowline.enrich.enrichments.config import EnrichmentConfigError

CAMPAIGN = {
    "schema": "iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1",
    "data": {
        "name": "campaign_attribution",
        "vendor": "com.snowplowanalytics.snowplow",
        "enabled": True,
        "parameters": {
            "mapping": "static",
            "fields": {
                "mktMedium": ["utm_medium"],
                "mktSource": ["utm_source"],
                "mktTerm": ["utm_term"],
                "mktContent": ["utm_content"],
                "mktCampaign": ["utm_campaign"],
            },
        },
    },
}


def test_enrichment_configs_apply(tmp_path: Path) -> None:
    (tmp_path / "campaign_attribution.json").write_text(json.dumps(CAMPAIGN))
    with running(UpOptions(enrichments=tmp_path)) as up:
        url = "http://example.com/?utm_medium=email&utm_source=news&utm_campaign=spring"
        assert http("POST", up.base_url + TP2, tp2_body(page_view(url))).status == 200
        [good] = wait_for(lambda: http("GET", up.base_url + "/micro/good").json(), what="event")
        assert good["event"]["mkt_medium"] == "email"
        assert good["event"]["mkt_source"] == "news"
        assert good["event"]["mkt_campaign"] == "spring"
        status = http("GET", up.base_url + "/plowline/status").json()
        assert status["enrichments"]


def test_invalid_enrichment_config_is_refused_at_start(tmp_path: Path) -> None:
    broken = {**CAMPAIGN, "data": {**CAMPAIGN["data"], "parameters": {"mapping": 3}}}  # type: ignore[dict-item]
    (tmp_path / "campaign_attribution.json").write_text(json.dumps(broken))
    with pytest.raises(EnrichmentConfigError):
        UpServer(UpOptions(port=0, enrichments=tmp_path))
