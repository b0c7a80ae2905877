"""`plowline up` started as Snowplow Micro is: `--collector-config micro.conf` (HOCON) and
`--iglu iglu.json` whose resolver points at a static Iglu registry on loopback (served here),
a real process over HTTP; Micro's flags whose feature is missing are refused by name."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from plowline.conformance.up.testing import (
    TP2,
    contexts,
    http,
    page_view,
    run_up,
    self_describing,
    tp2_body,
    up_process,
    wait_for,
)

SELF_DESC = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
USER = "iglu:com.acme/user/jsonschema/1-0-0"
RESOLVER_CONFIG = "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1"


def _schema(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": SELF_DESC,
        "self": {"vendor": "com.acme", "name": name, "format": "jsonschema", "version": "1-0-0"},
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


MICRO_CONF = """
# As Micro's micro.conf: the Scala collector's HOCON, under `collector`.
collector {
  interface = "127.0.0.1"
  port = 9090
  paths {
    "/com.acme/track" = "/com.snowplowanalytics.snowplow/tp2"
  }
  cookie {
    enabled = true
    expiration = 30 days
    name = micro_test
    domains = []
    secure = false
    httpOnly = false
    sameSite = "Lax"
  }
  cors {
    accessControlMaxAge = 5 minutes
  }
  enableDefaultRedirect = false
  streams {
    good = "good"
    bad = "bad"
  }
}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A static Iglu registry (schemas/<vendor>/<name>/jsonschema/<version>) on loopback."""
    root = tmp_path / "registry"
    for name, props, required in (
        ("checkout", {"total": {"type": "number"}}, ["total"]),
        ("user", {"plan": {"type": "string"}}, ["plan"]),
    ):
        path = root / "schemas" / "com.acme" / name / "jsonschema" / "1-0-0"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(_schema(name, props, required)))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _header(headers: dict[str, str], name: str) -> str:
    found = [v for k, v in headers.items() if k.lower() == name.lower()]
    assert found, f"no {name} in {headers}"
    return found[0]


def _iglu_json(tmp_path: Path, uri: str) -> Path:
    config = {
        "schema": RESOLVER_CONFIG,
        "data": {
            "cacheSize": 500,
            "repositories": [
                {
                    "name": "Loopback static registry",
                    "priority": 0,
                    "vendorPrefixes": ["com.acme"],
                    "connection": {"http": {"uri": uri}},
                }
            ],
        },
    }
    path = tmp_path / "iglu.json"
    path.write_text(json.dumps(config))
    return path


def test_micro_conf_and_iglu_json_give_good_events(tmp_path: Path, registry: str) -> None:
    conf = tmp_path / "micro.conf"
    conf.write_text(MICRO_CONF)
    iglu = _iglu_json(tmp_path, registry)
    with up_process("--collector-config", str(conf), "--iglu", str(iglu)) as up:
        assert "collector.streams has no effect here" in up.err
        events = [
            page_view(co=contexts({"schema": USER, "data": {"plan": "pro"}})),
            self_describing(CHECKOUT, {"total": 12.5}),
            {"e": "se", "p": "web", "tv": "plowline-test-1", "se_ca": "shop", "se_ac": "buy"},
        ]
        reply = http("POST", up.url + TP2, tp2_body(*events))
        assert reply.status == 200
        # The cookie as micro.conf says: name, no Secure, no HttpOnly, SameSite=Lax, 30 days.
        cookie = _header(reply.headers, "Set-Cookie")
        assert cookie.startswith("micro_test=")
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie
        assert "HttpOnly" not in cookie
        expires = re.search(r"Expires=([^;]+)", cookie)
        assert expires is not None
        days = (parsedate_to_datetime(expires.group(1)) - datetime.now(UTC)).days
        assert days in (29, 30)
        # A custom path from `paths`, and CORS max age from `cors`.
        assert http("POST", up.url + "/com.acme/track", tp2_body(page_view())).status == 200
        preflight = http("OPTIONS", up.url + TP2, headers={"Origin": "http://example.com"})
        assert _header(preflight.headers, "Access-Control-Max-Age") == "300"

        counts = wait_for(
            lambda: (c := http("GET", up.url + "/micro/all").json())["total"] == 4 and c,
            what="four events",
        )
        assert counts == {"total": 4, "good": 4, "bad": 0}, http("GET", up.url + "/micro/bad")
        good = http("GET", up.url + "/micro/good").json()
        checkout = next(g for g in good if g["event"]["event_name"] == "checkout")
        assert checkout["event"]["unstruct_event"]["data"] == {
            "schema": CHECKOUT,
            "data": {"total": 12.5},
        }
        # /micro/iglu answers from the registries of iglu.json.
        schema = http("GET", up.url + "/micro/iglu/com.acme/user/jsonschema/1-0-0")
        assert schema.status == 200
        assert schema.json()["self"]["name"] == "user"


def test_collector_config_port_is_used_unless_port_is_given(tmp_path: Path) -> None:
    conf = tmp_path / "micro.conf"
    conf.write_text('collector { interface = "127.0.0.1"\n port = 0\n cookie { name = c9 } }')
    # up_process passes --port 0 itself; the config's interface is taken as the host.
    with up_process("--collector-config", str(conf)) as up:
        assert up.url.startswith("http://127.0.0.1:")
        reply = http("GET", up.url + "/i?e=pv&p=web&tv=t")
        assert _header(reply.headers, "Set-Cookie").startswith("c9=")


@pytest.mark.parametrize(
    ("flag", "named"),
    [
        (["--destination", "http://127.0.0.1:1/"], "--destination"),
        (["--no-storage"], "--no-storage"),
        (["--yauaa"], "--yauaa"),
    ],
)
def test_micro_flags_without_the_feature_are_refused(flag: list[str], named: str) -> None:
    done = run_up(*flag)
    assert done.returncode == 2
    assert f"{named}" in done.stderr
    assert "not supported" in done.stderr


def test_bad_collector_config_and_iglu_files_are_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text("collector { cookie { name = ")
    done = run_up("--collector-config", str(broken))
    assert done.returncode == 2
    assert "not valid HOCON" in done.stderr

    redirect = tmp_path / "redirect.conf"
    redirect.write_text("collector { enableDefaultRedirect = true }")
    done = run_up("--collector-config", str(redirect))
    assert done.returncode == 2
    assert "redirectDomains" in done.stderr

    iglu = tmp_path / "iglu.json"
    iglu.write_text(json.dumps({"schema": RESOLVER_CONFIG}))
    done = run_up("--iglu", str(iglu))
    assert done.returncode == 2
    assert "--iglu" in done.stderr

    done = run_up("--iglu", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert "is not a file" in done.stderr


def test_sp_anonymous_sets_no_cookie_and_headers_are_stored_as_received(tmp_path: Path) -> None:
    conf = tmp_path / "micro.conf"
    conf.write_text(
        'collector { cookie { name = sp\n secure = true\n httpOnly = true\n sameSite = "Strict" } }'
    )
    with up_process("--collector-config", str(conf)) as up:
        named = http("POST", up.url + TP2, tp2_body(page_view(aid="named")))
        cookie = _header(named.headers, "Set-Cookie")
        assert cookie.startswith("sp=")
        assert "; Secure" in cookie
        assert "; HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        anonymous = http(
            "POST",
            up.url + TP2,
            tp2_body(page_view(aid="anon")),
            headers={"SP-Anonymous": "*", "Cookie": cookie.split(";")[0]},
        )
        assert anonymous.status == 200
        assert not any(k.lower() == "set-cookie" for k in anonymous.headers)
        good = wait_for(
            lambda: len(g := http("GET", up.url + "/micro/good").json()) == 2 and g,
            what="two good events",
        )
    anon = next(g for g in good if g["event"]["app_id"] == "anon")
    stored = anon["rawEvent"]["context"]["headers"]
    assert "Content-Type: application/json" in stored
    assert "application/json" not in stored  # nothing added to what the request carried
    assert not any(h.lower().startswith("cookie:") for h in stored)
