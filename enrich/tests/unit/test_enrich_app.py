"""Streaming app, replay and the command line, over memory:// and file:// streams."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pytest
from plowline.enrich.app import EnrichApp
from plowline.enrich.cli import main
from plowline.enrich.testing import payload_from_request
from plowline.enrich.worker import WorkerConfig
from plowline.spec.collector_payload import encode
from plowline.spec.framing import Framing, encode_batch
from plowline.streams import Record, SinkError, open_sink, open_source
from plowline.streams.memory import contents, reset

TEST_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"


def record(i: int, extra: str = "") -> bytes:
    eid = f"00000000-0000-4000-8000-{i:012d}"
    return encode(payload_from_request("GET", "/i", f"e=pv&p=web&tv=t&eid={eid}{extra}"))


def event_ids(lines: Sequence[bytes]) -> list[str]:
    return [line.decode().split("\t")[6] for line in lines]


@pytest.fixture(autouse=True)
def _clean_memory() -> None:
    reset()


def publish(topic: str, values: Sequence[bytes]) -> None:
    sink = open_sink(f"memory://{topic}")
    sink.write([Record(v) for v in values])
    sink.flush()


@pytest.mark.parametrize("workers", [1, 2])
def test_app_good_bad_and_batches(workers: int) -> None:
    batch = encode_batch([record(i) for i in range(3, 6)], Framing.ZSTD)
    publish("raw", [record(1), record(2, "&vid=oops"), batch, b"junk"])
    app = EnrichApp(
        open_source("memory://raw"), open_sink("memory://good"), open_sink("memory://bad"), None,
        WorkerConfig(schema_dirs=(TEST_SCHEMAS,)), workers=workers,
    )  # fmt: skip
    try:
        counters = app.run(threading.Event(), idle_exit=0.2)
    finally:
        app.close()
    assert counters.records == 4
    assert sorted(event_ids(contents("good"))) == [
        f"00000000-0000-4000-8000-{i:012d}" for i in (1, 3, 4, 5)
    ]
    kinds = sorted(json.loads(v)["schema"].split("/")[1] for v in contents("bad"))
    assert kinds == ["collector_payload_format_violation", "schema_violations"]
    assert all(len(line.split(b"\t")) == 131 for line in contents("good"))


class FailingSink:
    """A sink whose flush fails: the app must not commit the batch."""

    max_record_bytes = 1 << 20

    def __init__(self) -> None:
        self.written: list[Record] = []

    def write(self, records: Sequence[Record]) -> None:
        self.written.extend(records)

    def flush(self, timeout: float = 10.0) -> None:
        raise SinkError("test://fail", "broker unavailable")

    def healthy(self) -> bool:
        return False

    def close(self, timeout: float = 10.0) -> None:
        return None


def test_offsets_are_committed_only_after_flush() -> None:
    publish("raw", [record(1), record(2)])
    app = EnrichApp(open_source("memory://raw"), FailingSink(), open_sink("memory://bad"), None,
                    WorkerConfig(), workers=1)  # fmt: skip
    with pytest.raises(SinkError):
        app.run_once()
    app.close()
    # A restarted enricher sees the same records again: nothing was committed.
    again = EnrichApp(open_source("memory://raw"), open_sink("memory://good"),
                      open_sink("memory://bad"), None, WorkerConfig(), workers=1)  # fmt: skip
    assert again.run_once() == 2
    again.close()
    assert len(contents("good")) == 2


def test_cli_run_and_replay(tmp_path: Path) -> None:
    raw = tmp_path / "raw.bin"
    inner = {"schema": CHECKOUT, "data": {"step": 1}}
    wrapper = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
    ue = quote(json.dumps({"schema": wrapper, "data": inner}))
    values = [record(1), record(2, f"&e=ue&ue_pr={ue}")]
    raw.write_bytes(b"".join(struct.pack(">I", len(v)) + v for v in values))
    good, bad = tmp_path / "good.tsv", tmp_path / "bad.json"
    # Without the test schemas the checkout event cannot be validated: a bad row.
    code = main([
        "run", "--input", f"{raw.as_uri()}?framing=length", "--good", good.as_uri(),
        "--bad", bad.as_uri(), "--workers", "1", "--exit-when-idle", "0.2",
    ])  # fmt: skip
    assert code == 0
    assert len(good.read_text().splitlines()) == 1
    [row] = bad.read_text().splitlines()
    assert json.loads(row)["schema"].split("/")[1] == "schema_violations"
    # Replay once the schema is available: the event is recovered.
    good2, bad2 = tmp_path / "good2.tsv", tmp_path / "bad2.json"
    code = main([
        "replay", "--input", str(bad), "--good", good2.as_uri(), "--bad", bad2.as_uri(),
        "--schemas", str(TEST_SCHEMAS),
    ])  # fmt: skip
    assert code == 0
    [line] = good2.read_text().splitlines()
    assert line.split("\t")[6] == "00000000-0000-4000-8000-000000000002"
    assert line.split("\t")[126] == "checkout"
    assert not bad2.exists() or bad2.read_text() == ""


def test_cli_reports_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "x.json").write_text("{nope")
    code = main([
        "run", "--input", "memory://raw", "--good", "memory://g", "--bad", "memory://b",
        "--enrichments", str(tmp_path / "e"), "--workers", "1",
    ])  # fmt: skip
    assert code == 2
    assert "not readable JSON" in capsys.readouterr().err


def test_replay_keeps_unreplayable_rows(tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    size = {"schema": "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0",
            "data": {"processor": {"artifact": "a", "version": "1.0.0"},
                     "failure": {"timestamp": "2020-01-01T00:00:00Z", "maximumAllowedSizeBytes": 1,
                                 "actualSizeBytes": 2}, "payload": "x"}}  # fmt: skip
    rows.write_text(json.dumps(size) + "\nnot json\n")
    good, bad = tmp_path / "g", tmp_path / "b"
    assert (
        main(["replay", "--input", str(rows), "--good", good.as_uri(), "--bad", bad.as_uri()]) == 0
    )
    assert json.loads(bad.read_text())["data"]["payload"] == "x"


def test_sigkill_mid_stream_then_restart(tmp_path: Path) -> None:
    """Every input ends in good or bad output at least once across a SIGKILL and a restart."""
    total = 10000
    raw = tmp_path / "raw.bin"
    with raw.open("wb") as handle:
        for i in range(total):
            value = record(i, "&vid=x" if i % 10 == 0 else "")
            handle.write(struct.pack(">I", len(value)) + value)
    out = tmp_path / "out"
    out.mkdir()
    checkpoint = tmp_path / "checkpoint.json"
    source = f"{raw.as_uri()}?framing=length&checkpoint={checkpoint}"

    def start(good: str, bad: str, idle: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{good}.log").open("wb") as log:  # the child keeps its own copy
            return subprocess.Popen(
                [sys.executable, "-m", "plowline.enrich", "run", "--input", source,
                 "--good", (out / good).as_uri(), "--bad", (out / bad).as_uri(),
                 "--workers", "2", "--batch-size", "50", "--exit-when-idle", idle],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip

    first = start("good-1.tsv", "bad-1.json", "30")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if checkpoint.exists() and (out / "good-1.tsv").exists():
            break
        time.sleep(0.05)
    workers = _children(first.pid)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    # The pool workers die with their parent instead of lingering as orphans.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]
    second = start("good-2.tsv", "bad-2.json", "1")
    second.wait(timeout=120)
    assert second.returncode == 0, (tmp_path / "good-2.tsv.log").read_text()
    good_ids: set[str] = set()
    bad_ids: set[str] = set()
    for name in ("good-1.tsv", "good-2.tsv"):
        path = out / name
        if path.exists():
            for line in path.read_text().splitlines():
                fields = line.split("\t")
                if len(fields) == 131:  # the killed run may have left a torn last line
                    good_ids.add(fields[6])
    for name in ("bad-1.json", "bad-2.json"):
        path = out / name
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    data = json.loads(line)["data"]
                except ValueError:
                    assert name == "bad-1.json"  # only the killed run may tear a line
                    continue
                params = {p["name"]: p["value"] for p in data["payload"]["raw"]["parameters"]}
                bad_ids.add(params["eid"])
    # The kill really happened mid-stream: the restarted enricher had work left.
    assert (out / "good-2.tsv").exists()
    expected = {f"00000000-0000-4000-8000-{i:012d}" for i in range(total)}
    assert good_ids | bad_ids == expected
    assert bad_ids == {f"00000000-0000-4000-8000-{i:012d}" for i in range(0, total, 10)}


def test_pii_events_go_to_the_pii_stream(tmp_path: Path) -> None:
    config = {
        "schema": "iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/"
        "jsonschema/2-0-1",
        "data": {"name": "pii_enrichment_config", "vendor": "com.snowplowanalytics.snowplow",
                 "enabled": True, "emitEvent": True, "parameters": {
                     "pii": [{"pojo": {"field": "user_id"}}],
                     "strategy": {"pseudonymize": {"hashFunction": "SHA-256", "salt": "s"}}}},
    }  # fmt: skip
    (tmp_path / "pii.json").write_text(json.dumps(config))
    publish("raw", [record(1, "&uid=alice")])
    app = EnrichApp(
        open_source("memory://raw"), open_sink("memory://good"), open_sink("memory://bad"),
        open_sink("memory://pii"), WorkerConfig(enrichments=tmp_path), workers=1,
    )  # fmt: skip
    app.run(threading.Event(), idle_exit=0.2)
    app.close()
    [good] = contents("good")
    [pii] = contents("pii")
    assert good.split(b"\t")[12] != b"alice"
    assert pii.split(b"\t")[126] == b"pii_transformation"
    assert contents("bad") == []


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
