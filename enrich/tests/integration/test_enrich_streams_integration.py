"""The streaming enricher against real services (conformance services plugin).

Kafka -> Kafka and Kinesis -> S3: every input record ends as a good event or a bad row.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from plowline.enrich.app import EnrichApp
from plowline.enrich.testing import payload_from_request
from plowline.enrich.worker import WorkerConfig
from plowline.spec.collector_payload import encode
from plowline.spec.framing import Framing, encode_batch
from plowline.streams import Record, Source, open_sink, open_source

TOTAL = 40


def raw_records() -> tuple[list[bytes], set[str], set[str]]:
    """Raw records (one framed batch among them), good event ids and bad event ids."""
    good_ids: set[str] = set()
    bad_ids: set[str] = set()
    values = []
    for i in range(TOTAL):
        eid = f"00000000-0000-4000-8000-{i:012d}"
        broken = i % 8 == 0
        (bad_ids if broken else good_ids).add(eid)
        query = f"e=pv&p=web&tv=t&eid={eid}" + ("&vid=bad" if broken else "")
        values.append(encode(payload_from_request("GET", "/i", query)))
    batched = [*values[:30], encode_batch(values[30:], Framing.GZIP)]
    return batched, good_ids, bad_ids


def drain(source: Source, want: int, timeout: float = 60.0) -> list[bytes]:
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        records = source.poll(100, 1.0)
        out.extend(r.value for r in records)
        if records:
            source.commit(records)
    source.close()
    return out


def run_app(app: EnrichApp, until: Callable[[], bool], timeout: float = 90.0) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=app.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(timeout=30)
    app.close()


def check(good: list[bytes], bad: list[bytes], good_ids: set[str], bad_ids: set[str]) -> None:
    assert {line.decode().split("\t")[6] for line in good} == good_ids
    found_bad = set()
    for row in bad:
        data: dict[str, Any] = json.loads(row)["data"]
        params = {p["name"]: p["value"] for p in data["payload"]["raw"]["parameters"]}
        found_bad.add(params["eid"])
    assert found_bad == bad_ids


@pytest.mark.kafka
def test_kafka_to_kafka(kafka: Any, new_kafka_topic: Callable[..., str]) -> None:
    bootstrap = kafka.endpoint.bootstrap_servers
    raw, good, bad = new_kafka_topic(), new_kafka_topic(), new_kafka_topic()
    values, good_ids, bad_ids = raw_records()
    sink = open_sink(f"kafka://{bootstrap}/{raw}")
    sink.write([Record(v) for v in values])
    sink.close()
    app = EnrichApp(
        open_source(f"kafka://{bootstrap}/{raw}", group="enrich-test"),
        open_sink(f"kafka://{bootstrap}/{good}"), open_sink(f"kafka://{bootstrap}/{bad}"), None,
        WorkerConfig(), workers=2, poll_timeout=0.5,
    )  # fmt: skip
    run_app(app, lambda: app.counters.records >= len(values))
    assert app.counters.records == len(values)
    good_values = drain(open_source(f"kafka://{bootstrap}/{good}", group="check"), len(good_ids))
    bad_values = drain(open_source(f"kafka://{bootstrap}/{bad}", group="check"), len(bad_ids))
    check(good_values, bad_values, good_ids, bad_ids)


@pytest.mark.aws
def test_kinesis_to_s3(
    aws: Any, kinesis_stream: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in aws.endpoint.env().items():
        monkeypatch.setenv(key, value)
    options = {"endpoint_url": aws.endpoint.endpoint_url, "region": aws.endpoint.region}
    values, good_ids, bad_ids = raw_records()
    sink = open_sink(f"kinesis://{kinesis_stream}", **options)
    sink.write([Record(v, key=str(i).encode()) for i, v in enumerate(values)])
    sink.close()
    app = EnrichApp(
        open_source(f"kinesis://{kinesis_stream}", **options),
        open_sink(f"s3://{s3_bucket}/good/", **options),
        open_sink(f"s3://{s3_bucket}/bad/", **options), None,
        WorkerConfig(), workers=2, poll_timeout=0.5,
    )  # fmt: skip
    run_app(app, lambda: app.counters.records >= len(values))
    assert app.counters.records == len(values)
    good_values = drain(open_source(f"s3://{s3_bucket}/good/", **options), len(good_ids), 30)
    bad_values = drain(open_source(f"s3://{s3_bucket}/bad/", **options), len(bad_ids), 30)
    check(good_values, bad_values, good_ids, bad_ids)
