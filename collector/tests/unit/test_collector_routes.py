"""Each route answers as the Snowplow collector does (collector Routes.scala)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from plowline.collector.service import PIXEL
from plowline.collector.testing import Harness

Make = Callable[..., Harness]
TP2 = "/com.snowplowanalytics.snowplow/tp2"


def test_pixel_is_the_43_byte_gif() -> None:
    assert len(PIXEL) == 43
    assert PIXEL.startswith(b"GIF89a")
    assert (
        base64.b64encode(PIXEL) == b"R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw=="
    )


@pytest.mark.parametrize("path", ["/i", "/ice.png"])
def test_get_pixel_records_and_returns_the_gif(collector: Make, path: str) -> None:
    h = collector()
    response = h.request("GET", path, query="e=pv&p=web&tv=js-3.5.0")
    assert response.status == 200
    assert response.body == PIXEL
    assert response.header("content-type") == "image/gif"
    assert response.header("cache-control") == "no-cache, no-store, must-revalidate"
    [payload] = h.payloads()
    assert payload.path == path
    assert payload.querystring == "e=pv&p=web&tv=js-3.5.0"
    assert payload.body is None
    assert payload.content_type is None


def test_head_pixel_records_without_a_body(collector: Make) -> None:
    h = collector()
    response = h.request("HEAD", "/i", query="e=pv")
    assert response.status == 200
    assert response.body == b""
    assert response.header("content-type") == "image/gif"
    assert len(h.payloads()) == 1


def test_get_tp2_is_a_pixel_request(collector: Make) -> None:
    h = collector()
    response = h.request("GET", TP2, query="e=se&se_ca=c&se_ac=a")
    assert response.body == PIXEL
    [payload] = h.payloads()
    assert payload.path == TP2


def test_post_tp2_records_body_and_lower_cased_content_type(collector: Make) -> None:
    h = collector()
    body = (
        b'{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[]}'
    )
    response = h.request(
        "POST", TP2, headers=[("Content-Type", "application/json; charset=UTF-8")], body=body
    )
    assert response.status == 200
    assert response.body == b"ok"
    assert response.header("content-type") == "text/plain; charset=utf-8"
    [payload] = h.payloads()
    assert payload.body == body.decode()
    assert payload.content_type == "application/json; charset=utf-8"
    assert payload.headers is not None
    # Stored as received, once: no bare content type appended (the Scala collector's `headers`).
    assert payload.headers == [
        "Content-Type: application/json; charset=UTF-8",
        f"Content-Length: {len(body)}",
    ]


def test_webhook_paths_are_recorded_as_requested(collector: Make) -> None:
    h = collector()
    response = h.request(
        "POST",
        "/com.mailchimp/v1",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"type=subscribe",
    )
    assert response.status == 200
    [payload] = h.payloads()
    assert payload.path == "/com.mailchimp/v1"
    assert payload.body == "type=subscribe"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/i"),
        ("PUT", TP2),
        ("DELETE", "/i"),
        ("GET", "/a/b/c"),
        ("GET", "/onlyone"),
        ("GET", "/a//"),
        ("GET", "/nothing-here.txt"),
        ("POST", "/health"),
    ],
)
def test_other_paths_and_methods_are_404_and_store_nothing(
    collector: Make, method: str, path: str
) -> None:
    h = collector()
    assert h.request(method, path).status == 404
    assert h.payloads() == []


def test_health(collector: Make) -> None:
    response = collector().request("GET", "/health")
    assert (response.status, response.body) == (200, b"ok")


def test_sink_health_follows_the_sinks(collector: Make) -> None:
    h = collector()
    assert h.request("GET", "/sink-health").status == 200
    h.good.failing = True
    assert h.request("GET", "/sink-health").status == 503
    h.good.failing = False
    assert h.request("GET", "/sink-health").status == 200


def test_robots_txt_disallows_everything(collector: Make) -> None:
    response = collector().request("GET", "/robots.txt")
    assert response.status == 200
    text = response.body.decode()
    assert "User-agent: *\nDisallow: /" in text
    assert "User-agent: Googlebot\nDisallow: /" in text
    assert "User-agent: AdsBot-Google\nDisallow: /" in text


def test_robots_txt_is_configurable(collector: Make) -> None:
    response = collector({"robots_txt": "User-agent: *\nAllow: /\n"}).request("GET", "/robots.txt")
    assert response.body == b"User-agent: *\nAllow: /\n"


def test_crossdomain_is_404_unless_enabled(collector: Make) -> None:
    assert collector().request("GET", "/crossdomain.xml").status == 404


def test_crossdomain_lists_the_configured_domains(collector: Make) -> None:
    h = collector(
        {"cross_domain": {"enabled": True, "domains": ["*.acme.com", "b.io"], "secure": False}}
    )
    response = h.request("GET", "/crossdomain.xml")
    assert response.status == 200
    assert response.header("content-type") == "text/xml"
    body = response.body.decode()
    assert "<cross-domain-policy>" in body
    assert '<allow-access-from domain="*.acme.com" secure="false" />' in body
    assert '<allow-access-from domain="b.io" secure="false" />' in body


def test_root_is_404_unless_enabled(collector: Make) -> None:
    assert collector().request("GET", "/").status == 404


def test_root_response_is_configurable(collector: Make) -> None:
    h = collector(
        {"root_response": {"enabled": True, "headers": {"Location": "https://acme.com/"}}}
    )
    response = h.request("GET", "/")
    assert response.status == 302
    assert response.header("location") == "https://acme.com/"


def test_metrics_expose_requests_by_route_and_status(collector: Make) -> None:
    h = collector()
    h.request("GET", "/i")
    h.request("GET", "/nope")
    h.payloads()
    text = h.request("GET", "/metrics").body.decode()
    assert 'plowline_collector_requests_total{route="pixel",status="200"} 1.0' in text
    assert 'plowline_collector_requests_total{route="not_found",status="404"} 1.0' in text
    assert "plowline_collector_buffer_fill_ratio" in text
    assert "plowline_collector_sink_write_seconds_bucket" in text


def test_metrics_can_be_disabled(collector: Make) -> None:
    assert collector({"metrics": {"enabled": False}}).request("GET", "/metrics").status == 404


def test_custom_paths_map_onto_the_tracker_paths(collector: Make) -> None:
    h = collector({"paths": {"/com.acme/track": TP2, "/com.acme/redirect": "/r/tp2"}})
    assert h.request("POST", "/com.acme/track", body=b"{}").status == 200
    [payload] = h.payloads()
    assert payload.path == TP2
    # A mapping onto /r/tp2 behaves as the redirect route (disabled by default -> 404).
    assert h.request("GET", "/com.acme/redirect", query="u=https://a.com").status == 404


def test_options_preflight_on_any_path(collector: Make) -> None:
    h = collector()
    for path in ("/i", TP2, "/whatever"):
        response = h.request("OPTIONS", path, headers=[("Origin", "https://shop.acme.com")])
        assert response.status == 200
        assert response.header("access-control-allow-origin") == "https://shop.acme.com"
        assert response.header("access-control-allow-credentials") == "true"
        assert response.header("access-control-allow-headers") == "Content-Type, SP-Anonymous"
        assert response.header("access-control-max-age") == "3600"
    assert h.payloads() == []


def test_preflight_max_age_is_configurable(collector: Make) -> None:
    h = collector({"cors": {"access_control_max_age_seconds": 60}})
    assert h.request("OPTIONS", "/i").header("access-control-max-age") == "60"
