"""PII enrichment with ``emitEvent``: the ``pii_transformation`` event holds the original (clear)
values, so it goes to a PII output or nowhere, never to good output.

Checked through the real ``plowline-enrich`` command (run and replay) and a real
``plowline up`` process (its TSV output, ``/micro/good`` and its SQLite file).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

import pytest
from plowline.enrich.badrows import Processor
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.outputs import to_outputs
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode

CLEAR = "alice@example.com"
TEST_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
PII_CONFIG = {
    "schema": "iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/"
    "jsonschema/2-0-1",
    "data": {
        "name": "pii_enrichment_config",
        "vendor": "com.snowplowanalytics.snowplow",
        "enabled": True,
        "emitEvent": True,
        "parameters": {
            "pii": [{"pojo": {"field": "user_id"}}],
            "strategy": {"pseudonymize": {"hashFunction": "SHA-256", "salt": "pepper"}},
        },
    },
}
T = TypeVar("T")


def _enrichments(tmp_path: Path) -> Path:
    folder = tmp_path / "enrichments"
    folder.mkdir()
    (folder / "pii.json").write_text(json.dumps(PII_CONFIG))
    return folder


def _raw_file(path: Path, queries: list[str]) -> str:
    values = [encode(payload_from_request("GET", "/i", q)) for q in queries]
    path.write_bytes(b"".join(struct.pack(">I", len(v)) + v for v in values))
    return f"{path.as_uri()}?framing=length"


def _enrich(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "plowline.enrich", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_enrich_run_without_a_pii_sink_drops_pii_events_and_says_how_many(tmp_path: Path) -> None:
    queries = [f"e=pv&p=web&tv=t&eid=00000000-0000-4000-8000-00000000000{i}&uid={CLEAR}"
               for i in range(3)]  # fmt: skip
    source = _raw_file(tmp_path / "raw.bin", queries)
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.json"
    done = _enrich(
        "run", "--input", source, "--good", good.as_uri(), "--bad", bad.as_uri(),
        "--enrichments", str(_enrichments(tmp_path)), "--workers", "1", "--exit-when-idle", "0.5",
    )  # fmt: skip
    lines = _lines(good)
    assert len(lines) == 3  # the three page views, their user_id hashed
    assert all(line.split("\t")[12] not in ("", CLEAR) for line in lines)
    assert CLEAR not in good.read_text()
    assert "pii_transformation" not in good.read_text()
    assert _lines(bad) == []
    assert "3 pii_transformation events dropped" in done.stderr


def test_enrich_run_with_a_pii_sink_routes_pii_events_there(tmp_path: Path) -> None:
    source = _raw_file(tmp_path / "raw.bin", [f"e=pv&p=web&tv=t&uid={CLEAR}"])
    good, bad, pii = tmp_path / "good.tsv", tmp_path / "bad.json", tmp_path / "pii.tsv"
    _enrich(
        "run", "--input", source, "--good", good.as_uri(), "--bad", bad.as_uri(),
        "--pii", pii.as_uri(), "--enrichments", str(_enrichments(tmp_path)),
        "--workers", "1", "--exit-when-idle", "0.5",
    )  # fmt: skip
    assert CLEAR not in good.read_text()
    [event] = _lines(pii)
    assert event.split("\t")[126] == "pii_transformation"
    assert CLEAR in event


def test_enrich_replay_without_a_pii_sink_drops_pii_events(tmp_path: Path) -> None:
    wrapper = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
    ue = quote(json.dumps({"schema": wrapper, "data": {"schema": CHECKOUT, "data": {"step": 1}}}))
    source = _raw_file(tmp_path / "raw.bin", [f"e=ue&p=web&tv=t&ue_pr={ue}&uid={CLEAR}"])
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.json"
    # Without the test schemas the event is a bad row; replayed with them, it is recovered.
    _enrich(
        "run", "--input", source, "--good", good.as_uri(), "--bad", bad.as_uri(),
        "--workers", "1", "--exit-when-idle", "0.5",
    )  # fmt: skip
    assert len(_lines(bad)) == 1
    good2, bad2 = tmp_path / "good2.tsv", tmp_path / "bad2.json"
    done = _enrich(
        "replay", "--input", str(bad), "--good", good2.as_uri(), "--bad", bad2.as_uri(),
        "--schemas", str(TEST_SCHEMAS), "--enrichments", str(_enrichments(tmp_path)),
    )  # fmt: skip
    [line] = _lines(good2)
    assert line.split("\t")[126] == "checkout"
    assert CLEAR not in good2.read_text()
    assert _lines(bad2) == []
    assert "1 pii_transformation events dropped" in done.stderr


# --- plowline up ------------------------------------------------------------------------------


def _wait(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _pump(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def _get(url: str, post: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=post, method="POST" if post else "GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - loopback only
        body = reply.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body


def test_plowline_up_never_stores_or_serves_pii_events(tmp_path: Path) -> None:
    pytest.importorskip("plowline.conformance.up.server", reason="plowline up is not installed")
    store = tmp_path / "up.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "plowline.conformance.cli", "up", "--port", "0", "--output-tsv",
         "--persist", str(store), "--enrichments", str(_enrichments(tmp_path))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out: list[str] = []
    err: list[str] = []
    assert proc.stdout is not None
    assert proc.stderr is not None
    readers = [threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True)]  # fmt: skip
    for reader in readers:
        reader.start()
    try:

        def banner() -> str | None:
            if proc.poll() is not None:
                raise AssertionError(f"plowline up exited: {''.join(err)}")
            found = re.search(r"collector (http://\S+)", "".join(err))
            return found.group(1) if found else None

        base = _wait(banner, 60, "the banner")
        eid = "00000000-0000-4000-8000-000000000001"
        _get(f"{base}/i?e=pv&p=web&tv=t&eid={eid}&uid={quote(CLEAR)}")
        _wait(lambda: _get(f"{base}/micro/all")["total"] >= 1, 60, "the event to be stored")
        # The PII event would be stored in the same batch as its parent: nothing else comes.
        assert _get(f"{base}/micro/all") == {"total": 1, "good": 1, "bad": 0}
        [doc] = _get(f"{base}/micro/good")
        assert doc["event"]["event_id"] == eid
        assert CLEAR not in json.dumps(doc["event"])
        [flat] = _get(f"{base}/micro/events", post=b"{}")["events"]
        assert flat["event_id"] == eid
        assert CLEAR not in json.dumps(flat)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        for reader in readers:
            reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
    assert code == 0, "".join(err)
    tsv = [line for line in out if "\t" in line]
    assert len(tsv) == 1
    assert CLEAR not in "".join(out)
    assert "pii_transformation" not in "".join(out)
    assert "1 pii_transformation events dropped" in "".join(err)
    with sqlite3.connect(store) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master")]
        assert not [t for t in tables if "pii_transformation" in t]
        rows = conn.execute("SELECT * FROM events").fetchall() if "events" in tables else []
        assert len(rows) == 1
        assert CLEAR not in repr(rows)


def test_a_pii_event_too_big_for_its_sink_leaves_no_clear_value_in_its_bad_row() -> None:
    event = EnrichedEvent(pii=True)
    event.set("user_id", CLEAR * 50)
    [(channel, row)] = to_outputs([event], Processor("t", "0"), 0, max_good_bytes=600)
    assert channel == "bad"
    assert json.loads(row)["schema"].split("/")[1] == "size_violation"
    assert CLEAR.encode() not in row
