"""`plowline-enrich run` over files, as a real process: a follower reads only finished files and
complete records; a truncated or corrupt record is a bad row, never a spin or a halt (issue 15
items 8, 9 and 10)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from plowline.collector.testing import CollectorStartError, end_group, free_port, spawn_collector
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode

LEN = struct.Struct(">I")
BADROWS = "iglu:com.snowplowanalytics.snowplow.badrows"
FORMAT_VIOLATION = f"{BADROWS}/collector_payload_format_violation/jsonschema/1-0-0"
WAIT_S = 120.0  # generous: a busy 2-core machine; every wait ends on a condition, not a sleep


def record(i: int) -> bytes:
    eid = f"00000000-0000-4000-8000-{i:012d}"
    return encode(payload_from_request("GET", "/i", f"e=pv&p=web&tv=t&eid={eid}"))


def framed(values: list[bytes]) -> bytes:
    return b"".join(LEN.pack(len(v)) + v for v in values)


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert proc.poll() is None, f"enrich exited ({proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def committed(checkpoint: Path) -> dict[str, int]:
    try:
        return dict(json.loads(checkpoint.read_text()))
    except (OSError, ValueError):  # not written yet (it is replaced atomically)
        return {}


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


class Enrich:
    """`plowline-enrich run` as a child process writing good and bad rows to files."""

    def __init__(self, tmp: Path, source: str, *extra: str, tag: str = "1") -> None:
        self.good, self.bad = tmp / f"good-{tag}.tsv", tmp / f"bad-{tag}.json"
        self.log = tmp / f"enrich-{tag}.log"
        with self.log.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "plowline.enrich", "run", "--input", source,
                 "--good", self.good.as_uri(), "--bad", self.bad.as_uri(), "--workers", "1",
                 *extra],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip

    def wait(self, timeout: float = WAIT_S) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"enrich still running after {timeout} s:\n{self.stderr()[-2000:]}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def bad_rows(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in lines(self.bad)]


@pytest.fixture
def enrich(tmp_path: Path) -> Iterator[Callable[..., Enrich]]:
    started: list[Enrich] = []

    def start(source: str, *extra: str, tag: str = "1") -> Enrich:
        started.append(Enrich(tmp_path, source, *extra, tag=tag))
        return started[-1]

    yield start
    for run in started:
        run.kill()


def _payload_of(row: dict[str, object]) -> bytes:
    data = row["data"]
    assert isinstance(data, dict)
    return base64.b64decode(data["payload"])


# --- item 8: only finished files ------------------------------------------------------------


def test_enrich_following_the_collectors_file_sink_reads_each_finished_file_once(
    tmp_path: Path, enrich: Callable[..., Enrich]
) -> None:
    port = free_port()
    good = tmp_path / "collected"
    config = tmp_path / "collector.toml"
    config.write_text(
        f"[http]\nport = {port}\n"
        f'[sinks.good]\ntype = "file"\ndirectory = "{good}"\n'
        f'[sinks.bad]\ntype = "file"\ndirectory = "{tmp_path / "collector-bad"}"\n'
        "[buffer]\nlinger_ms = 20\n"
    )
    try:
        collector = spawn_collector(config, port)
    except CollectorStartError as exc:
        pytest.fail(str(exc))
    try:

        def send(first: int, count: int) -> None:
            for i in range(first, first + count):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                eid = f"00000000-0000-4000-8000-{i:012d}"
                conn.request("GET", f"/i?e=pv&p=web&tv=t&eid={eid}")
                assert conn.getresponse().status == 200
                conn.close()

        def open_lines() -> int:
            return sum(len(lines(p)) for p in good.glob("*.open"))

        # A finished file first, so that we know when enrich has looked at the folder.
        good.mkdir(exist_ok=True)
        seed = good / "good-00000000T000000-0-000000.b64"
        seed.write_bytes(base64.b64encode(record(10_000)) + b"\n")
        send(0, 60)
        deadline = time.monotonic() + WAIT_S
        while open_lines() < 60:  # in the collector's file, still being written
            assert time.monotonic() < deadline, "the collector did not write 60 records"
            time.sleep(0.05)
        checkpoint = tmp_path / "checkpoint.json"
        run = enrich(f"{good.as_uri()}/?encoding=base64&checkpoint={checkpoint}")
        wait_for(lambda: str(seed) in committed(checkpoint), "the seed file's commit", run.proc)
        send(60, 60)
        end_group(collector)  # drains, closes its file: renamed without `.open`
        [finished] = [p for p in good.iterdir() if p != seed]
        assert not finished.name.endswith(".open")
        assert len(lines(finished)) == 120
        size = finished.stat().st_size
        wait_for(lambda: committed(checkpoint).get(str(finished)) == size, "the commit", run.proc)
        run.proc.send_signal(signal.SIGTERM)
        assert run.wait() == 0
    finally:
        end_group(collector)
    assert not any(name.endswith(".open") for name in committed(checkpoint))
    assert len(lines(run.good)) == 121, run.stderr()[-2000:]  # was 181: `.open` read, then again
    assert lines(run.bad) == []


# --- item 9: truncated tails and corrupt prefixes -------------------------------------------


@pytest.mark.timeout(300)
def test_a_truncated_last_record_is_one_bad_row_when_the_run_ends_idle(
    tmp_path: Path, enrich: Callable[..., Enrich]
) -> None:
    raw = tmp_path / "raw.bin"
    tail = LEN.pack(500) + record(99)[:40]  # a record whose writer stopped half way
    raw.write_bytes(framed([record(i) for i in range(20)]) + tail)
    run = enrich(f"{raw.as_uri()}?framing=length", "--exit-when-idle", "0.5")
    assert run.wait() == 0  # was: 97% CPU, nothing processed, never idle
    assert len(lines(run.good)) == 20
    [row] = run.bad_rows()
    assert row["schema"] == FORMAT_VIOLATION
    assert _payload_of(row) == tail
    assert "truncated record at byte" in run.stderr()


@pytest.mark.timeout(300)
def test_a_corrupt_length_prefix_is_one_bad_row_after_the_complete_records(
    tmp_path: Path, enrich: Callable[..., Enrich]
) -> None:
    raw = tmp_path / "raw.bin"
    corrupt = b"\xff\xff\xff\xff" + os.urandom(300)  # 4 GiB "record"
    raw.write_bytes(framed([record(i) for i in range(20)]) + corrupt)
    run = enrich(f"{raw.as_uri()}?framing=length", "--exit-when-idle", "0.5")
    assert run.wait() == 0
    assert len(lines(run.good)) == 20
    [row] = run.bad_rows()
    assert row["schema"] == FORMAT_VIOLATION
    assert _payload_of(row) == corrupt
    assert "corrupt length prefix at byte" in run.stderr()


@pytest.mark.timeout(400)
def test_sigterm_stops_a_follower_waiting_on_a_truncated_tail_which_completes_later(
    tmp_path: Path, enrich: Callable[..., Enrich]
) -> None:
    raw, checkpoint = tmp_path / "raw.bin", tmp_path / "checkpoint.json"
    complete = framed([record(i) for i in range(20)])
    last = framed([record(20)])
    raw.write_bytes(complete + last[:30])  # the writer is half way through record 20
    source = f"{raw.as_uri()}?framing=length&checkpoint={checkpoint}"
    run = enrich(source)  # following: no idle exit
    wait_for(lambda: committed(checkpoint).get(str(raw)) == len(complete), "20 commits", run.proc)
    run.proc.send_signal(signal.SIGTERM)
    assert run.wait(60) == 0  # was: SIGTERM ignored while spinning
    assert len(lines(run.good)) == 20
    assert lines(run.bad) == []
    with raw.open("ab") as f:
        f.write(last[30:])  # the writer finishes the record
    again = enrich(source, "--exit-when-idle", "0.5", tag="2")
    assert again.wait() == 0
    assert [line.split(b"\t")[6] for line in lines(again.good)] == [
        b"00000000-0000-4000-8000-000000000020"
    ]
    assert lines(again.bad) == []


# --- item 10: a malformed base64 line is a bad row, not a halt ------------------------------


@pytest.mark.timeout(300)
def test_a_line_that_is_not_base64_is_a_format_violation_and_the_run_goes_on(
    tmp_path: Path, enrich: Callable[..., Enrich]
) -> None:
    raw, checkpoint = tmp_path / "raw.b64", tmp_path / "checkpoint.json"
    encoded = [base64.b64encode(record(i)) for i in range(20)]
    raw.write_bytes(b"\n".join([*encoded[:10], b"not base64!", *encoded[10:]]) + b"\n")
    source = f"{raw.as_uri()}?encoding=base64&checkpoint={checkpoint}"
    run = enrich(source, "--exit-when-idle", "0.5")
    assert run.wait() == 0  # was: exit 2, 0 good, 0 bad, no checkpoint
    assert len(lines(run.good)) == 20
    [row] = run.bad_rows()
    assert row["schema"] == FORMAT_VIOLATION
    assert _payload_of(row) == b"not base64!"
    assert committed(checkpoint) == {str(raw): raw.stat().st_size}
    again = enrich(source, "--exit-when-idle", "0.5", tag="2")  # a restart: nothing again
    assert again.wait() == 0
    assert lines(again.good) == lines(again.bad) == []
    assert "0 records -> 0 good, 0 bad" in again.stderr()
