"""S3, Kinesis and SQS at the endpoint the plugin provisions (LocalStack, or moto's server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from plowline.conformance.services import AwsEndpoint, ServiceHandle


@pytest.mark.aws
def test_s3_put_get_list(aws: ServiceHandle[AwsEndpoint], s3_bucket: str) -> None:
    print(aws.describe())
    s3 = aws.endpoint.client("s3")
    bodies = {f"raw/2026/11/{i:03d}.tsv": f"row {i}\t{'x' * i}\n".encode() for i in range(25)}
    bodies["bad/0.json"] = b'{"bad": true}'
    for key, body in bodies.items():
        s3.put_object(Bucket=s3_bucket, Key=key, Body=body)

    for key in ("raw/2026/11/007.tsv", "bad/0.json"):
        assert s3.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == bodies[key]

    listed: list[str] = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=s3_bucket, Prefix="raw/", PaginationConfig={"PageSize": 10}
    )
    page_count = 0
    for page in pages:
        page_count += 1
        listed += [obj["Key"] for obj in page.get("Contents", [])]
    assert sorted(listed) == sorted(k for k in bodies if k.startswith("raw/"))
    assert page_count == 3

    prefixes = s3.list_objects_v2(Bucket=s3_bucket, Delimiter="/")["CommonPrefixes"]
    assert sorted(p["Prefix"] for p in prefixes) == ["bad/", "raw/"]


@pytest.mark.aws
def test_kinesis_put_and_get_across_two_shards(
    aws: ServiceHandle[AwsEndpoint], new_kinesis_stream: Callable[..., str]
) -> None:
    kinesis = aws.endpoint.client("kinesis")
    stream = new_kinesis_stream(shards=2)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    assert len(shards) == 2

    sent: dict[str, set[bytes]] = {s["ShardId"]: set() for s in shards}
    for batch in range(4):
        records: list[dict[str, Any]] = []
        for i in range(50):
            shard = shards[i % 2]
            records.append(
                {
                    "Data": f"event-{batch}-{i}".encode(),
                    "PartitionKey": f"key-{i}",
                    # Aim each record at a known shard: the start of that shard's hash range.
                    "ExplicitHashKey": shard["HashKeyRange"]["StartingHashKey"],
                }
            )
        result = kinesis.put_records(StreamName=stream, Records=records)
        assert result["FailedRecordCount"] == 0
        for record, outcome in zip(records, result["Records"], strict=True):
            sent[outcome["ShardId"]].add(record["Data"])
    assert all(len(data) == 100 for data in sent.values())

    for shard_id, expected in sent.items():
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        received: list[bytes] = []
        for _ in range(50):
            response = kinesis.get_records(ShardIterator=iterator, Limit=60)
            received += [r["Data"] for r in response["Records"]]
            iterator = response["NextShardIterator"]
            if len(received) >= len(expected) or not iterator:
                break
        assert set(received) == expected
        assert len(received) == len(expected)


@pytest.mark.aws
def test_sqs_send_receive_delete(aws: ServiceHandle[AwsEndpoint], sqs_queue: str) -> None:
    sqs = aws.endpoint.client("sqs")
    bodies = {f"payload-{i}" for i in range(15)}
    for start in (0, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"payload-{i}"} for i in range(start, min(start + 10, 15))
        ]
        assert not sqs.send_message_batch(QueueUrl=sqs_queue, Entries=entries).get("Failed")

    received: set[str] = set()
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=sqs_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=30
        ).get("Messages", [])
        if not messages:
            break
        received |= {m["Body"] for m in messages}
        deleted = sqs.delete_message_batch(
            QueueUrl=sqs_queue,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        assert not deleted.get("Failed")
    assert received == bodies

    attributes = sqs.get_queue_attributes(
        QueueUrl=sqs_queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
