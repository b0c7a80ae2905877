"""`/r/tp2` followed by a real browser (issue 15.12, 15.13): Debian's headless Chromium, driven
by Playwright, against a real collector process under granian and under uvicorn.

Chromium resolves no name but 127.0.0.1 (``--host-resolver-rules``), so nothing leaves the
machine; every request it makes is recorded, which is how a navigation to a host is seen even
though the host does not resolve. Without a Chromium the tests skip with the reason, except
under CI=true where they fail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from plowline.collector.testing import CollectorStartError, end_group, free_port, spawn_collector

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module", params=["granian", "uvicorn"])
def collector_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp(f"redirect-{request.param}")
    port = free_port()
    config = tmp / "collector.toml"
    config.write_text(
        f'[http]\nport = {port}\nserver = "{request.param}"\n'
        "[redirect]\nenabled = true\n"
        'allowed_hosts = ["allowed.com", "*.sub.allowed.com"]\nmacro = "${SP_NUID}"\n'
        f'[sinks.good]\ntype = "file"\ndirectory = "{tmp / "good"}"\n'
        f'[sinks.bad]\ntype = "file"\ndirectory = "{tmp / "bad"}"\n'
    )
    try:
        proc = spawn_collector(config, port, stderr=subprocess.PIPE)
    except CollectorStartError as exc:
        pytest.fail(str(exc))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        end_group(proc)
        if proc.stderr:
            proc.stderr.close()


def _follow(browser: Any, url: str, cookie: str | None = None) -> list[str]:
    """Open ``url`` in a fresh context; the hosts of every request Chromium made."""
    context = browser.new_context()
    try:
        if cookie is not None:
            context.add_cookies([{"name": "sp", "value": cookie, "url": url}])
        page = context.new_page()
        hosts: list[str] = []
        page.on("request", lambda req: hosts.append(urlsplit(req.url).hostname or ""))
        # A host that does not resolve fails the navigation; its request is still recorded.
        with contextlib.suppress(sync_api.Error):
            page.goto(url, wait_until="load", timeout=30_000)
        return hosts
    finally:
        context.close()


def _redirect(base: str, target: str, extra: str = "") -> str:
    return f"{base}/r/tp2?e=pv&u={quote(target, safe='')}{extra}"


def test_the_browser_follows_an_allowed_redirect(browser: Any, collector_url: str) -> None:
    """The control: the recording sees a navigation when there is one."""
    hosts = _follow(browser, _redirect(collector_url, "https://x.sub.allowed.com/landing"))
    assert hosts[0] == "127.0.0.1"
    assert "x.sub.allowed.com" in hosts


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.com\\@allowed.com/",
        "https://evil.com\\@x.sub.allowed.com/",
        "https://evil.com\\\\@allowed.com/",
        "https:\\\\evil.com\\@allowed.com/",
        "https://evil.com%5C@allowed.com/",
        "https://evil.com\t\\@allowed.com/",
        "HTTPS://EVIL.COM\\@ALLOWED.COM/",
    ],
)
def test_the_browser_never_reaches_a_disguised_host(
    browser: Any, collector_url: str, target: str
) -> None:
    hosts = _follow(browser, _redirect(collector_url, target))
    assert hosts[0] == "127.0.0.1"
    assert "evil.com" not in hosts, hosts


def test_the_browser_never_reaches_a_host_put_in_by_the_macro_from_the_query(
    browser: Any, collector_url: str
) -> None:
    url = _redirect(collector_url, "https://${SP_NUID}@allowed.com/", "&nuid=evil.com%2F")
    hosts = _follow(browser, url)
    assert hosts[0] == "127.0.0.1"
    assert "evil.com" not in hosts, hosts


def test_the_browser_never_reaches_a_host_put_in_by_the_macro_from_the_cookie(
    browser: Any, collector_url: str
) -> None:
    url = _redirect(collector_url, "https://${SP_NUID}@allowed.com/")
    hosts = _follow(browser, url, cookie="evil.com/")
    assert hosts[0] == "127.0.0.1"
    assert "evil.com" not in hosts, hosts
