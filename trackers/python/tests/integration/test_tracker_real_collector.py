"""The Python tracker's driver sends a page view through the real plowline-collector.

The collector runs as its own process (granian, file sinks); what it stored is read back and
decoded as CollectorPayload Thrift records, exactly what an enricher would consume.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plowline.collector.framing import unpack
from plowline.collector.payload import CollectorPayload, decode
from plowline.collector.testing import end_group, free_port, spawn_collector

DRIVER_DIR = Path(__file__).resolve().parents[2] / "driver"


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    good = tmp_path / "good"
    config = tmp_path / "collector.toml"
    config.write_text(
        f"[http]\nport = {port}\n"
        f'[sinks.good]\ntype = "file"\ndirectory = "{good}"\n'
        f'[sinks.bad]\ntype = "file"\ndirectory = "{tmp_path / "bad"}"\n'
    )
    proc = spawn_collector(config, port, timeout=60)
    try:
        yield f"http://127.0.0.1:{port}", good, proc
    finally:
        end_group(proc)


def _ask(driver: subprocess.Popen[str], seq: int, cmd: str, **fields: Any) -> dict[str, Any]:
    assert driver.stdin is not None
    assert driver.stdout is not None
    driver.stdin.write(json.dumps({"cmd": cmd, "seq": seq, **fields}) + "\n")
    driver.stdin.flush()
    reply: dict[str, Any] = json.loads(driver.stdout.readline())
    assert reply["seq"] == seq
    return reply


def _stored(good: Path) -> list[CollectorPayload]:
    files = sorted(p for p in good.iterdir() if not p.name.endswith(".open"))
    lines = [line for p in files for line in p.read_bytes().splitlines()]
    return [decode(x) for line in lines for x in unpack(base64.b64decode(line))]


def test_driver_sends_a_page_view_through_the_real_collector(
    collector: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, good, proc = collector
    command = yaml.safe_load((DRIVER_DIR / "driver.yaml").read_text())["command"]
    driver = subprocess.Popen(
        [sys.executable if part == "{python}" else part for part in command],
        cwd=DRIVER_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    hello = _ask(driver, 0, "hello", protocol=1)
    assert hello["status"] == "ok"
    assert hello["implementation"]["name"] == "plowline-tracker-python"
    configured = _ask(
        driver,
        1,
        "configure",
        endpoint=url,
        method="POST",
        tracker={"namespace": "ns", "app_id": "shop", "platform": "web", "encode_base64": True},
        clock_ms=1665398554084,
        event_id_seed=3,
    )
    assert configured["status"] == "ok"
    event = {"type": "page_view", "page_url": "https://a.example/p?q=1", "page_title": "Pä"}
    assert _ask(driver, 2, "track", event=event)["status"] == "ok"
    assert _ask(driver, 3, "flush", timeout_ms=20_000)["delivered"] is True
    assert _ask(driver, 4, "stop")["status"] == "ok"
    assert driver.stdin is not None
    driver.stdin.close()
    assert driver.wait(timeout=30) == 0
    assert driver.stdout is not None
    driver.stdout.close()

    proc.send_signal(signal.SIGTERM)  # the collector drains its buffer into the file sink
    proc.wait(timeout=60)
    [payload] = _stored(good)
    assert payload.path == "/com.snowplowanalytics.snowplow/tp2"
    assert payload.content_type == "application/json; charset=utf-8"
    body = json.loads(payload.body or "")
    assert body["schema"] == "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
    [sent] = body["data"]
    assert {k: sent[k] for k in ("e", "url", "page", "tna", "aid", "p", "dtm")} == {
        "e": "pv",
        "url": "https://a.example/p?q=1",
        "page": "Pä",
        "tna": "ns",
        "aid": "shop",
        "p": "web",
        "dtm": "1665398554084",
    }
    assert sent["eid"] == "00000003-0000-4000-8000-000000000000"
