"""The Kafka sink (plowline.streams) as the collector opens it, against a real broker;
the broker stopped under load loses nothing acknowledged."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer
from plowline.collector.app import build_sink
from plowline.collector.config import KafkaSinkConfig
from plowline.collector.testing import free_port, make_client, spawn_collector
from plowline.spec.collector_payload import CollectorPayload, decode
from plowline.spec.framing import unpack
from plowline.streams import Record, Sink

pytestmark = pytest.mark.kafka


def _consume(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[bytes]:
    """Read the topic from the start until ``expected`` records arrived and it goes quiet."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"read-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                if len(out) >= expected and time.monotonic() - quiet_since > 3:
                    break
                continue
            if message.error():
                continue
            value = message.value()
            assert value is not None
            out.append(value)
            quiet_since = time.monotonic()
    finally:
        consumer.close()
    return out


def _decode_all(records: list[bytes]) -> list[CollectorPayload]:
    return [decode(p) for r in records for p in unpack(r)]


def test_kafka_sink_writes_records_that_read_back(kafka: Any, kafka_topic: str) -> None:
    config = KafkaSinkConfig(
        type="kafka", bootstrap_servers=kafka.endpoint.bootstrap_servers, topic=kafka_topic
    )
    sink = build_sink(config, "good")
    assert isinstance(sink, Sink)
    records = [b"record-%d" % i for i in range(100)]
    sink.write([Record(r) for r in records])
    sink.flush(30)
    assert sink.healthy()
    sink.close()
    assert sorted(_consume(kafka.endpoint.bootstrap_servers, kafka_topic, 100)) == sorted(records)


@pytest.mark.parametrize("framing", ["none", "zstd"])
def test_collector_to_kafka_end_to_end(kafka: Any, kafka_topic: str, framing: str) -> None:
    client = make_client(
        {
            "sinks": {
                "framing": framing,
                "good": {
                    "type": "kafka",
                    "bootstrap_servers": kafka.endpoint.bootstrap_servers,
                    "topic": kafka_topic,
                },
                "bad": {"type": "memory"},
            }
        }
    )
    for i in range(50):
        assert client.request("GET", "/i", query=f"e=pv&n={i}").status == 200
    assert client.close() == 0
    payloads = _decode_all(_consume(kafka.endpoint.bootstrap_servers, kafka_topic, 1))
    assert sorted(p.querystring or "" for p in payloads) == sorted(f"e=pv&n={i}" for i in range(50))
    assert all(p.collector.endswith("-kafka") for p in payloads)


def _start_collector(
    bootstrap: str, topic: str, tmp_path: Path, *, drain: float = 60, spill: bool = False
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = tmp_path / f"collector-{port}.toml"
    spill_line = f'spill_directory = "{tmp_path / "spill"}"\n' if spill else ""
    config.write_text(
        f"[http]\nport = {port}\n"
        "[buffer]\nmax_bytes = 65536\nflush_timeout_seconds = 1\nretry_max_ms = 500\n"
        f"drain_timeout_seconds = {drain}\n{spill_line}"
        f'[sinks.good]\ntype = "kafka"\nbootstrap_servers = "{bootstrap}"\ntopic = "{topic}"\n'
        'producer = { "reconnect.backoff.max.ms" = 500 }\n'
        '[sinks.bad]\ntype = "memory"\n'
    )
    return spawn_collector(config, port, timeout=60), port


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the collector drains and exits 0); whatever is left of the group is killed."""
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(120) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def collector_process(kafka: Any, kafka_topic: str, tmp_path: Path) -> Iterator[int]:
    proc, port = _start_collector(kafka.endpoint.bootstrap_servers, kafka_topic, tmp_path)
    yield port
    _terminate(proc)


class Load:
    """Sends GET /i requests from a thread, counting the collector's answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ok = 0
        self.unavailable = 0
        self.other: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                conn.request("GET", f"/i?e=pv&n={n}")
                response = conn.getresponse()
                response.read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                continue
            if response.status == 200:
                self.ok += 1
            elif response.status == 503:
                self.unavailable += 1
                time.sleep(0.01)
            else:
                self.other.append(response.status)
        conn.close()


def test_broker_down_under_load_gives_503s_and_loses_nothing_acknowledged(
    kafka: Any, kafka_topic: str, collector_process: int
) -> None:
    from plowline.conformance.services.pytest_plugin import require_control

    require_control(kafka)
    load = Load(collector_process)
    load.thread.start()
    time.sleep(2)
    assert load.ok > 0
    with kafka.stopped():
        deadline = time.monotonic() + 60
        while load.unavailable == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert load.unavailable > 0, "the collector never pushed back while the broker was down"
        time.sleep(1)
    # The broker is back: the buffered records flow and new requests succeed again.
    ok_after_restart = load.ok
    deadline = time.monotonic() + 90
    while load.ok < ok_after_restart + 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    load.stop.set()
    load.thread.join(30)
    assert load.other == []
    assert load.ok > ok_after_restart
    acknowledged = load.ok
    # The buffer drains into the broker; the topic then holds exactly the acknowledged payloads.
    records = _consume(kafka.endpoint.bootstrap_servers, kafka_topic, acknowledged, timeout=120)
    payloads = _decode_all(records)
    assert len(payloads) == acknowledged
    assert len({p.querystring for p in payloads}) == acknowledged


def test_shutdown_with_the_broker_down_spills_and_the_next_start_delivers(
    kafka: Any, kafka_topic: str, tmp_path: Path
) -> None:
    from plowline.conformance.services.pytest_plugin import require_control

    require_control(kafka)
    bootstrap = kafka.endpoint.bootstrap_servers
    proc, port = _start_collector(bootstrap, kafka_topic, tmp_path, drain=2, spill=True)
    acknowledged = 0
    with kafka.stopped():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for n in range(100):
            conn.request("GET", f"/i?e=pv&n={n}")
            response = conn.getresponse()
            response.read()
            acknowledged += response.status == 200
        conn.close()
        _terminate(proc)  # the drain gives up after 2 s: the records go to the spill file
        assert list((tmp_path / "spill").glob("good-*.spill"))
    assert acknowledged > 0
    proc, _ = _start_collector(bootstrap, kafka_topic, tmp_path, spill=True)
    try:
        payloads = _decode_all(_consume(bootstrap, kafka_topic, acknowledged, timeout=120))
    finally:
        _terminate(proc)
    assert len(payloads) == acknowledged
    assert list((tmp_path / "spill").glob("*.spill")) == []
