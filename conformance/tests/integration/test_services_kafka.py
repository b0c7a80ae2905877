"""The real Kafka broker: idempotent producer, consumer groups, consumer and broker restarts."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from plowline.conformance.services import KafkaEndpoint, ServiceHandle
from plowline.conformance.services.pytest_plugin import require_control

MESSAGES = 10_000
GROUP_TIMEOUT = 90.0  # seconds a consumer may take to drain what it is owed


def idempotent_producer(kafka: ServiceHandle[KafkaEndpoint]) -> Producer:
    return Producer(
        kafka.endpoint.client_config(
            **{
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.timeout.ms": 120_000,  # outlives a broker restart
            }
        )
    )


def produce(producer: Producer, topic: str, keys: range) -> list[KafkaError]:
    errors: list[KafkaError] = []

    def delivered(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(err)

    for i in keys:
        while True:
            try:
                producer.produce(
                    topic, key=str(i).encode(), value=f"event-{i}".encode(), on_delivery=delivered
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    return errors


def group_consumer(kafka: ServiceHandle[KafkaEndpoint], group: str, topic: str) -> Consumer:
    consumer = Consumer(
        kafka.endpoint.client_config(
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10_000,
            }
        )
    )
    consumer.subscribe([topic])
    return consumer


def consume_until(consumer: Consumer, seen: Counter[int], target: int) -> None:
    """Consume batches, committing synchronously after each, until seen holds target values."""
    deadline = time.monotonic() + GROUP_TIMEOUT
    while sum(seen.values()) < target:
        assert time.monotonic() < deadline, f"only {sum(seen.values())} of {target} consumed"
        batch = consumer.consume(num_messages=500, timeout=1.0)
        if not batch:
            continue
        for message in batch:
            assert message.error() is None, message.error()
            value = message.value()
            assert value is not None
            seen[int(value.decode().removeprefix("event-"))] += 1
        consumer.commit(asynchronous=False)


@pytest.mark.kafka
def test_no_message_lost_across_consumer_and_broker_restarts(
    kafka: ServiceHandle[KafkaEndpoint], new_kafka_topic: Callable[..., str]
) -> None:
    print(kafka.describe())
    topic = new_kafka_topic(partitions=3)
    group = f"{topic}-group"

    producer = idempotent_producer(kafka)
    assert produce(producer, topic, range(MESSAGES)) == []
    assert producer.flush(60) == 0

    # Consume about half, commit, close: a new member of the group resumes where it stopped.
    seen: Counter[int] = Counter()
    first = group_consumer(kafka, group, topic)
    consume_until(first, seen, MESSAGES // 2)
    first.close()
    second = group_consumer(kafka, group, topic)
    consume_until(second, seen, MESSAGES)
    second.close()
    assert set(seen) == set(range(MESSAGES))
    assert max(seen.values()) == 1  # commits after each batch: nothing redelivered

    # The broker goes away while the producer keeps producing; it delivers once it is back.
    require_control(kafka)
    more = range(MESSAGES, MESSAGES + 1_000)
    with kafka.stopped():
        assert not kafka.running
        errors = produce(producer, topic, more)
        producer.poll(1.0)
    assert producer.flush(90) == 0
    assert errors == []

    # Committed offsets survived the restart: the group only gets the new messages.
    seen_after: Counter[int] = Counter()
    third = group_consumer(kafka, group, topic)
    consume_until(third, seen_after, len(more))
    third.close()
    assert set(seen_after) == set(more)
    assert max(seen_after.values()) == 1  # idempotence: no duplicates from the retries


@pytest.mark.kafka
def test_topic_fixture_gives_a_fresh_topic(
    kafka: ServiceHandle[KafkaEndpoint], kafka_topic: str
) -> None:
    from confluent_kafka.admin import AdminClient

    metadata: Any = AdminClient(kafka.endpoint.client_config()).list_topics(
        topic=kafka_topic, timeout=10
    )
    assert len(metadata.topics[kafka_topic].partitions) == 1
    consumer = Consumer(
        kafka.endpoint.client_config(**{"group.id": kafka_topic, "auto.offset.reset": "earliest"})
    )
    try:
        consumer.subscribe([kafka_topic])
        assert consumer.consume(num_messages=10, timeout=2.0) == []
    finally:
        consumer.close()
