"""An Iglu registry that accepts connections and never answers: ``plowline-enrich`` remembers
the failure, backs off, and bounds the total wait per batch (connections counted, not seconds).
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.records import enrich_record
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode
from plowline.spec.resolver import Resolver
from plowline.spec.validation import Validator

WRAPPER = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"


class HungRegistry:
    """Listens on 127.0.0.1, accepts every connection and never sends a byte; counts them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.sock.settimeout(0.05)  # a closed socket does not wake a blocked accept()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hung() -> Iterator[HungRegistry]:
    registry = HungRegistry()
    try:
        yield registry
    finally:
        registry.close()


def _event(i: int, schema: str) -> bytes:
    ue = quote(json.dumps({"schema": WRAPPER, "data": {"schema": schema, "data": {}}}))
    query = f"e=ue&p=web&tv=t&eid=00000000-0000-4000-8000-{i:012d}&ue_pr={ue}"
    return encode(payload_from_request("GET", "/i", query))


def _resolver_file(tmp_path: Path, hung: HungRegistry) -> Path:
    path = tmp_path / "resolver.json"
    path.write_text(json.dumps({
        "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
        "data": {"cacheSize": 500, "cacheTtl": 600, "repositories": [
            {"name": "hung", "priority": 0, "vendorPrefixes": ["com.acme"],
             "connection": {"http": {"uri": hung.url}}},
        ]},
    }))  # fmt: skip
    return path


def test_the_pipeline_asks_a_hung_registry_once_for_20_events(
    tmp_path: Path, hung: HungRegistry
) -> None:
    now = 1_700_000_000.0  # a clock that stands still: no back-off ever runs out
    resolver = Resolver.from_config(
        _resolver_file(tmp_path, hung), http_timeout=0.3, clock=lambda: now
    )
    ctx = EnrichContext(IgluValidator(Validator(resolver)))
    results = [enrich_record(_event(i, "iglu:com.acme/hung/jsonschema/1-0-0"), ctx)
               for i in range(20)]  # fmt: skip
    assert len(hung.accepted) == 1  # was 20, each waiting the whole timeout
    assert all(isinstance(r[0], BadRow) and r[0].kind == "schema_violations" for r in results)


def test_a_registry_that_never_answers_costs_a_bounded_number_of_connections(
    tmp_path: Path, hung: HungRegistry
) -> None:
    resolver = _resolver_file(tmp_path, hung)
    # 20 events of one schema (was: 20 connections, each the whole timeout) and 10 events of
    # 10 other schemas of the same registry (each its own lookup).
    values = [_event(i, "iglu:com.acme/hung/jsonschema/1-0-0") for i in range(20)]
    values += [_event(20 + i, f"iglu:com.acme/hung_{i}/jsonschema/1-0-0") for i in range(10)]
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"".join(struct.pack(">I", len(v)) + v for v in values))
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.json"
    done = subprocess.run(
        [sys.executable, "-m", "plowline.enrich", "run",
         "--input", f"{raw.as_uri()}?framing=length", "--good", good.as_uri(),
         "--bad", bad.as_uri(), "--resolver", str(resolver), "--workers", "1",
         "--iglu-timeout", "0.3", "--iglu-batch-budget", "0.5", "--exit-when-idle", "0.5"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # One batch: 0.3 s for the first lookup, at most the 0.2 s left for a second, then none
    # (a slow machine only makes it fewer). Before: 30 connections, 5 s each by default.
    assert 1 <= len(hung.accepted) <= 2, done.stderr
    assert not good.exists() or good.read_text() == ""
    rows = [json.loads(line) for line in bad.read_text().splitlines()]
    assert len(rows) == 30  # every event still ends as a bad row, none is lost
    for row in rows:
        assert row["schema"].split("/")[1] == "schema_violations"
        [message] = row["data"]["failure"]["messages"]
        assert message["error"]["error"] == "ResolutionError"
        assert message["error"]["lookupHistory"][0]["repository"] == "hung"


def test_iglu_time_options_must_be_positive(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "plowline.enrich", "run", "--input", "memory://x",
         "--good", "memory://g", "--bad", "memory://b", "--iglu-batch-budget", "0"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "more than 0 seconds" in done.stderr
