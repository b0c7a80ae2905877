"""Fault test: the enricher SIGKILLed in the middle of a Kafka stream, then restarted.

At-least-once across the crash: every input event ends in the good or the bad topic at least
once; duplicates (the batch that was written but not yet committed) are allowed and counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from plowline.conformance.services import KafkaEndpoint, ServiceHandle
from plowline.enrich.testing import payload_from_request
from plowline.spec.collector_payload import encode
from plowline.spec.framing import Framing, encode_batch
from plowline.streams import Record, open_sink

SINGLE = 3000  # events sent one CollectorPayload per record
BATCHED = 1000  # events sent in compressed framed batches of BATCH_EVENTS
BATCH_EVENTS = 10
BATCH_SIZE = 50  # records per enricher batch: the most that can be in flight at the kill
PARTITIONS = 2
GROUP = "enrich-fault"


def event_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def is_bad(i: int) -> bool:
    return i % 10 == 3  # a non-UUID `vid` makes a schema_violations bad row


def raw_records() -> list[bytes]:
    """SINGLE single records, then BATCHED events in gzip/zstd batches (alternating)."""

    def payload(i: int) -> bytes:
        query = f"e=pv&p=web&tv=t&eid={event_id(i)}" + ("&vid=bad" if is_bad(i) else "")
        return encode(payload_from_request("GET", "/i", query))

    values = [payload(i) for i in range(SINGLE)]
    for n, start in enumerate(range(SINGLE, SINGLE + BATCHED, BATCH_EVENTS)):
        framing = Framing.GZIP if n % 2 else Framing.ZSTD
        values.append(
            encode_batch([payload(i) for i in range(start, start + BATCH_EVENTS)], framing)
        )
    return values


def read_topic(endpoint: KafkaEndpoint, topic: str) -> list[bytes]:
    """Every record of every partition, from the beginning up to the current end."""
    consumer = Consumer(endpoint.client_config(**{"group.id": "fault-check-reader"}))
    try:
        ends = _ends(consumer, topic)
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(500, 1.0):
                assert message.error() is None, message.error()
                partition, offset = message.partition(), message.offset()
                value = message.value()
                assert isinstance(value, bytes)
                assert partition is not None
                assert offset is not None
                if offset < ends[partition]:
                    values.append(value)
                if offset >= ends[partition] - 1:
                    pending.discard(partition)
        assert not pending, f"{topic}: partitions {pending} not read to their end"
        return values
    finally:
        consumer.close()


def _ends(consumer: Consumer, topic: str) -> dict[int, int]:
    metadata = consumer.list_topics(topic, timeout=30).topics[topic]
    ends: dict[int, int] = {}
    for partition in metadata.partitions:
        _low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
        ends[partition] = high
    return ends


class Probe:
    """Topic sizes and the enricher group's committed offsets, through one client that never
    joins the group (so it cannot take part in its rebalances)."""

    def __init__(self, endpoint: KafkaEndpoint) -> None:
        self._consumer = Consumer(endpoint.client_config(**{"group.id": GROUP}))

    def size(self, topic: str) -> int:
        return sum(_ends(self._consumer, topic).values())

    def committed(self, topic: str) -> int:
        """Records of topic the enricher group has committed, summed over partitions."""
        ends = _ends(self._consumer, topic)
        offsets = self._consumer.committed([TopicPartition(topic, p) for p in ends], timeout=30)
        return sum(max(tp.offset, 0) for tp in offsets)  # OFFSET_INVALID (-1001): none yet

    def close(self) -> None:
        self._consumer.close()


def children(pid: int) -> list[int]:
    """Direct children of pid, whichever of its threads started them."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


@pytest.fixture
def probe(kafka: ServiceHandle[KafkaEndpoint]) -> Iterator[Probe]:
    probe = Probe(kafka.endpoint)
    yield probe
    probe.close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Enricher processes started by the test; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.kafka
def test_sigkill_mid_kafka_stream_then_restart(
    kafka: ServiceHandle[KafkaEndpoint],
    new_kafka_topic: Callable[..., str],
    processes: list[subprocess.Popen[bytes]],
    probe: Probe,
    tmp_path: Path,
) -> None:
    endpoint = kafka.endpoint
    bootstrap = endpoint.bootstrap_servers
    raw, good, bad = new_kafka_topic(PARTITIONS), new_kafka_topic(), new_kafka_topic()
    values = raw_records()
    sink = open_sink(f"kafka://{bootstrap}/{raw}")
    sink.write([Record(v, key=str(i).encode()) for i, v in enumerate(values)])
    sink.close()

    def start(name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "-m", "plowline.enrich", "run",
                 "--input", f"kafka://{bootstrap}/{raw}?group={GROUP}",
                 "--good", f"kafka://{bootstrap}/{good}", "--bad", f"kafka://{bootstrap}/{bad}",
                 "--workers", "2", "--batch-size", str(BATCH_SIZE), "--commit-interval", "0"],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        processes.append(process)
        return process

    def log(name: str) -> str:
        return (tmp_path / f"{name}.log").read_text(errors="replace")

    first = start("first")
    wait_until(
        lambda: first.poll() is not None or probe.size(good) > 0,
        60,
        "the first enricher's output",
    )
    assert first.poll() is None, log("first")
    workers = children(first.pid)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    # The pool workers die with their parent instead of lingering as orphans.
    assert len(workers) >= 2, f"expected the 2 pool workers among the children: {workers}"
    wait_until(lambda: not any(alive(pid) for pid in workers), 15, "the workers to die")
    done_at_kill = probe.committed(raw)
    assert probe.size(raw) == len(values)
    assert done_at_kill < len(values), "the kill came after the whole stream was done"

    # Same consumer group: the restart resumes from the last committed offsets. It can only
    # start once the broker has expired the killed member's session.
    restarted = time.monotonic()
    second = start("second")
    wait_until(
        lambda: second.poll() is not None or probe.committed(raw) == len(values),
        80,
        "the restarted enricher to commit the whole input",
        interval=0.5,
    )
    caught_up = time.monotonic() - restarted
    assert second.poll() is None, log("second")
    second.send_signal(signal.SIGTERM)  # finishes its batch (there is none left), then stops
    assert second.wait(timeout=30) == 0, log("second")

    good_lines = read_topic(endpoint, good)
    bad_rows = read_topic(endpoint, bad)
    good_ids = [line.decode().split("\t")[6] for line in good_lines]
    bad_ids = []
    for row in bad_rows:
        data: dict[str, Any] = json.loads(row)["data"]
        params = {p["name"]: p["value"] for p in data["payload"]["raw"]["parameters"]}
        bad_ids.append(params["eid"])
    events = SINGLE + BATCHED
    expected_bad = {event_id(i) for i in range(events) if is_bad(i)}
    expected_good = {event_id(i) for i in range(events)} - expected_bad
    assert set(good_ids) == expected_good
    assert set(bad_ids) == expected_bad
    duplicates = len(good_ids) + len(bad_ids) - events
    print(
        f"\n{len(values)} records / {events} events; committed at the kill: {done_at_kill}; "
        f"good lines {len(good_ids)} ({len(expected_good)} distinct), bad rows {len(bad_ids)} "
        f"({len(expected_bad)} distinct), duplicates {duplicates}; "
        f"restart caught up after {caught_up:.1f}s"
    )
    # Only the one batch in flight at the kill (written, maybe flushed, not committed) repeats.
    assert 0 <= duplicates <= BATCH_SIZE * BATCH_EVENTS


GROUP_PARTITIONS = 4
GROUP_TWO = "enrich-two-workers"


def assignment(endpoint: KafkaEndpoint, group: str) -> dict[str, frozenset[int]]:
    """member id -> the partitions it holds now (empty while the group rebalances)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(endpoint.client_config())
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    except KafkaException:  # e.g. COORDINATOR_LOAD_IN_PROGRESS right after the group appears
        return {}
    return {
        m.member_id: frozenset(tp.partition for tp in m.assignment.topic_partitions)
        for m in description.members
    }


def committed_by_partition(consumer: Consumer, topic: str, partitions: int) -> dict[int, int]:
    offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
    return {tp.partition: max(tp.offset, 0) for tp in offsets}


@pytest.mark.kafka
def test_two_enrichers_in_one_group_one_sigkilled_and_restarted(
    kafka: ServiceHandle[KafkaEndpoint],
    new_kafka_topic: Callable[..., str],
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    """Two enrichers share a 4-partition topic through one consumer group (the StreamRunner
    with its default throttled commits; rebalances flush and commit before partitions go).
    Both do work; one is SIGKILLed mid-stream and restarted: every input event ends in good
    or bad at least once."""
    endpoint = kafka.endpoint
    bootstrap = endpoint.bootstrap_servers
    raw = new_kafka_topic(GROUP_PARTITIONS)
    good, bad = new_kafka_topic(), new_kafka_topic()
    copies = 8  # each event id sent 8 times: 24,800 records, 32,000 events
    values = raw_records() * copies
    # A live stream: the records arrive over about 90 s, so the kill is mid-stream whatever
    # the enrichers' speed (they keep up, and then wait for more).
    feeder_error: list[BaseException] = []

    def feed() -> None:
        try:
            sink = open_sink(f"kafka://{bootstrap}/{raw}")
            for start_at in range(0, len(values), 250):
                chunk = values[start_at : start_at + 250]
                sink.write([Record(v, key=str(start_at + i).encode()) for i, v in enumerate(chunk)])
                sink.flush()
                time.sleep(0.9)
            sink.close()
        except BaseException as exc:  # reported by the test thread
            feeder_error.append(exc)

    feeder = threading.Thread(target=feed, name="feeder", daemon=True)
    feeder.start()
    group = f"{GROUP_TWO}-{raw}"
    checker = Consumer(endpoint.client_config(**{"group.id": group}))

    def start(name: str) -> subprocess.Popen[bytes]:
        url = f"kafka://{bootstrap}/{raw}?group={group}&session_timeout_ms=6000"
        with (tmp_path / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "plowline.enrich", "run", "--input", url,
                 "--good", f"kafka://{bootstrap}/{good}", "--bad", f"kafka://{bootstrap}/{bad}",
                 "--workers", "1", "--batch-size", str(BATCH_SIZE)],
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        processes.append(process)
        return process

    def log(name: str) -> str:
        return (tmp_path / f"{name}.log").read_text(errors="replace")

    def total() -> int:
        return sum(committed_by_partition(checker, raw, GROUP_PARTITIONS).values())

    try:
        # The first enricher alone holds all four partitions and commits; then the second
        # joins, the group rebalances to 2 + 2 (the first flushes and commits in its revoke
        # callback), and every partition's committed offset moves on while that assignment
        # stands: both enrichers enriched and committed records.
        first = start("first")
        wait_until(lambda: first.poll() is not None or total() > 0, 60, "the first's commits")
        other = start("other")
        wait_until(
            lambda: sorted(len(p) for p in assignment(endpoint, group).values()) == [2, 2],
            60,
            "two members with two partitions each",
            interval=0.5,
        )
        before_assignment = assignment(endpoint, group)
        before = committed_by_partition(checker, raw, GROUP_PARTITIONS)
        wait_until(
            lambda: all(
                n > before[p]
                for p, n in committed_by_partition(checker, raw, GROUP_PARTITIONS).items()
            ),
            120,
            f"commits on every partition (from {before})",
            interval=0.5,
        )
        assert assignment(endpoint, group) == before_assignment, "rebalanced meanwhile"
        assert first.poll() is None, log("first")
        assert other.poll() is None, log("other")
        done_at_kill = total()
        assert done_at_kill < len(values), "the kill came after the whole stream was done"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL

        restarted = start("restarted")
        feeder.join(timeout=300)
        assert not feeder.is_alive()
        assert not feeder_error, feeder_error
        wait_until(
            lambda: (
                restarted.poll() is not None or other.poll() is not None or total() == len(values)
            ),
            240,
            "the group to commit the whole input",
            interval=0.5,
        )
        assert other.poll() is None, log("other")
        assert restarted.poll() is None, log("restarted")
        for process in (other, restarted):
            process.send_signal(signal.SIGTERM)
        assert other.wait(timeout=60) == 0, log("other")
        assert restarted.wait(timeout=60) == 0, log("restarted")
    finally:
        checker.close()
    survivor = log("other")
    assert "plowline-enrich: " in survivor
    records_by_survivor = int(survivor.rsplit("plowline-enrich: ", 1)[1].split(" records")[0])
    assert 0 < records_by_survivor < len(values) + 1, survivor

    good_ids = [line.decode().split("\t")[6] for line in read_topic(endpoint, good)]
    bad_ids = []
    for row in read_topic(endpoint, bad):
        data: dict[str, Any] = json.loads(row)["data"]
        params = {p["name"]: p["value"] for p in data["payload"]["raw"]["parameters"]}
        bad_ids.append(params["eid"])
    events = SINGLE + BATCHED
    expected_bad = {event_id(i) for i in range(events) if is_bad(i)}
    expected_good = {event_id(i) for i in range(events)} - expected_bad
    assert set(good_ids) == expected_good
    assert set(bad_ids) == expected_bad
    # Each id was sent `copies` times: at least that many copies of every one came out.
    assert min(Counter(good_ids).values()) >= copies
    assert min(Counter(bad_ids).values()) >= copies
    duplicates = len(good_ids) + len(bad_ids) - copies * events
    print(
        f"\n{len(values)} records / {copies * events} events over {GROUP_PARTITIONS} partitions; "
        f"committed at the kill: {done_at_kill}; survivor enriched {records_by_survivor} "
        f"records; duplicates {duplicates}"
    )
    assert duplicates >= 0
