"""`plowline up`'s web UI in a real headless Chromium (Debian's, driven by Playwright).

Screenshots go to $PLOWLINE_ARTIFACTS (default conformance/artifacts/) for CI to keep. Without a
Chromium the tests skip with the reason, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from plowline.conformance.up.server import UpServer
from plowline.conformance.up.testing import (
    TP2,
    contexts,
    http,
    page_view,
    running,
    self_describing,
    tp2_body,
    wait_for,
)

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
]
WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"

sync_api = pytest.importorskip("playwright.sync_api")


def _artifacts() -> Path:
    # Default: conformance/artifacts/ (git-ignored), wherever pytest was started from.
    default = Path(__file__).resolve().parents[2] / "artifacts"
    folder = Path(os.environ.get("PLOWLINE_ARTIFACTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
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


@pytest.fixture
def up() -> Iterator[UpServer]:
    with running() as server:
        yield server


def _curl_page_view(url: str, title: str) -> None:
    query = (
        f"e=pv&p=web&tv=curl&aid=ui-test&url=http%3A%2F%2Fexample.com%2Fui&page={title}"
        "&duid=ui-user&vid=1&sid=5b8f1a52-7d1e-4c55-9a8e-0d3c2f1b6a77"
    )
    curl = shutil.which("curl")
    if curl is not None:
        subprocess.run([curl, "-s", "-o", "/dev/null", f"{url}/i?{query}"], check=True)
    else:
        assert http("GET", f"{url}/i?{query}").status == 200


def test_ui_lists_good_and_bad_events_live(browser: object, up: UpServer) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    try:
        page.goto(up.base_url + "/")  # redirected to /micro/ui/
        assert page.url.endswith("/micro/ui/")
        page.get_by_text("No good events yet.").wait_for()
        # Sent after the page loaded: it must appear by polling.
        _curl_page_view(up.base_url, "Hello%20UI")
        entity = {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-00000000000a"}}
        click = self_describing(
            "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
            {"targetUrl": "http://example.com/next"},
            co=contexts(entity),
            aid="ui-test",
        )
        http("POST", up.base_url + TP2, tp2_body(click))
        viewed = page_view(
            "http://example.com/with-entity",
            "With entity",
            aid="ui-test",
            duid="ui-user",
            vid="1",
            sid="5b8f1a52-7d1e-4c55-9a8e-0d3c2f1b6a77",
            co=contexts(
                {"schema": WEB_PAGE, "data": {"id": "0a1b2c3d-0000-4000-8000-00000000000b"}}
            ),
        )
        http("POST", up.base_url + TP2, tp2_body(viewed))
        http("POST", up.base_url + TP2, b"{broken", {"Content-Type": "application/json"})
        rows = page.locator("#good-rows tr[data-event-id]")
        rows.nth(2).wait_for()
        assert page.locator("#count-good").inner_text() == "3"
        wait_for(lambda: page.locator("#count-bad").inner_text() == "1", what="bad count")
        # Details of the page view sent with curl.
        page.locator("#good-rows tr", has_text="example.com/ui").click()
        detail = page.locator("#good-detail")
        detail.get_by_text("Hello UI").first.wait_for()
        assert "page_urlhost" in detail.inner_text()
        assert "Raw parameters" in detail.inner_text()
        # The link click: its entity and self-describing data.
        page.locator("#good-rows tr", has_text="link_click").click()
        detail.get_by_text(WEB_PAGE, exact=True).wait_for()
        assert "targetUrl" in detail.inner_text()
        page.screenshot(path=str(_artifacts() / "up-ui-good.png"), full_page=True)
        # Filters: only page views.
        page.select_option("#filter-type", "page_view")
        page.click("#good-filters button[type=submit]")
        wait_for(lambda: rows.count() == 2, what="the filtered list")
        # Bad events, with a readable reason.
        page.click("#tab-bad")
        bad_row = page.locator("#bad-rows tr", has_text="tracker_protocol_violations")
        bad_row.wait_for()
        bad_row.click()
        page.locator("#bad-detail").get_by_text("Why it failed").wait_for()
        assert "not JSON" in page.locator("#bad-detail").inner_text()
        page.screenshot(path=str(_artifacts() / "up-ui-bad.png"), full_page=True)
        # Sessions and page views (web model), or the note that the model is needed.
        page.click("#tab-models")
        note = page.locator("#models-note")
        wait_for(lambda: note.inner_text() != "Loading…", what="the model view")
        assert "sessions" in note.inner_text() or "needs" in note.inner_text()
        page.screenshot(path=str(_artifacts() / "up-ui-models.png"), full_page=True)
    finally:
        page.close()


def test_ui_reset_button_clears(browser: object, up: UpServer) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        http("POST", up.base_url + TP2, tp2_body(page_view(), page_view()))
        wait_for(lambda: http("GET", up.base_url + "/micro/all").json()["good"] == 2, what="2")
        page.goto(up.base_url + "/micro/ui/")
        page.locator("#good-rows tr[data-event-id]").nth(1).wait_for()
        page.click("#reset")
        page.get_by_text("No good events yet.").wait_for()
        assert http("GET", up.base_url + "/micro/all").json()["total"] == 0
    finally:
        page.close()
