"""Keeping records under the size limit: split POST batches, divert the rest to bad rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import orjson
from plowline.collector import badrows
from plowline.spec.collector_payload import CollectorPayload, encode


@dataclass(slots=True)
class Sized:
    """Payload records that fit, and size_violation bad rows for what did not."""

    good: list[bytes] = field(default_factory=list)
    bad: list[bytes] = field(default_factory=list)


def _violation(payload: CollectorPayload, actual: int, limit: int, why: str) -> bytes:
    return badrows.size_violation(
        payload.to_thrift_string(),
        actual_bytes=actual,
        maximum_bytes=limit,
        expectation=why,
        now_ms=payload.timestamp,
    )


def fit(payload: CollectorPayload, encoded: bytes, limit: int) -> Sized:
    """``encoded`` if it fits ``limit``; else a POST split into several payloads that do."""
    if len(encoded) <= limit:
        return Sized(good=[encoded])
    if payload.body is None:
        return Sized(
            bad=[
                _violation(
                    payload,
                    len(encoded),
                    limit,
                    "oversized collector payload: GET requests cannot be split",
                )
            ]
        )
    try:
        document: Any = orjson.loads(payload.body)
    except orjson.JSONDecodeError:
        return Sized(
            bad=[
                _violation(
                    payload,
                    len(encoded),
                    limit,
                    "oversized collector payload: cannot split a POST body that is not JSON",
                )
            ]
        )
    if not (
        isinstance(document, dict)
        and isinstance(document.get("schema"), str)
        and isinstance(document.get("data"), list)
    ):
        return Sized(
            bad=[
                _violation(
                    payload,
                    len(encoded),
                    limit,
                    "oversized collector payload: cannot split a POST body "
                    "that is not a self-describing JSON with a data array",
                )
            ]
        )
    return _split(payload, document["schema"], document["data"], limit)


def _split(payload: CollectorPayload, schema: str, events: list[Any], limit: int) -> Sized:
    prefix = b'{"schema":' + orjson.dumps(schema) + b',"data":['
    suffix = b"]}"
    # The body is a length-prefixed string, so the encoded size grows byte for byte with it.
    base = len(encode(dataclasses.replace(payload, body=""))) + len(prefix) + len(suffix)
    out = Sized()
    group: list[bytes] = []
    size = base

    def emit() -> None:
        body = prefix + b",".join(group) + suffix
        out.good.append(encode(dataclasses.replace(payload, body=body.decode("utf-8"))))

    for event in events:
        item = orjson.dumps(event)
        if base + len(item) > limit:
            alone = dataclasses.replace(payload, body=(prefix + item + suffix).decode("utf-8"))
            out.bad.append(
                _violation(
                    alone,
                    base + len(item),
                    limit,
                    "oversized event: a single event of the batch exceeds the maximum record size",
                )
            )
            continue
        extra = len(item) + (1 if group else 0)
        if group and size + extra > limit:
            emit()
            group, size = [], base
            extra = len(item)
        group.append(item)
        size += extra
    if group:
        emit()
    return out
