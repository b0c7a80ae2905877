"""Stream records -> CollectorPayloads -> results (enrich's stream input; snowplow-badrows).

A record is one Thrift CollectorPayload or a compressed framed batch of them (decoded with
plowline-collector's framing and Thrift codec). Anything that does not decode becomes a
collector_payload_format_violation carrying the raw bytes (base64).
"""

from __future__ import annotations

from plowline.enrich import badrows
from plowline.enrich.bounds import bound_bad_rows
from plowline.enrich.context import EnrichContext
from plowline.enrich.pipeline import Result, enrich
from plowline.spec.collector_payload import PayloadDecodeError, decode
from plowline.spec.framing import FramingError, unpack


def enrich_record(record: bytes, ctx: EnrichContext) -> list[Result]:
    """Every record ends as enriched events and/or bad rows; nothing escapes as an exception."""
    now = ctx.clock_ms()
    try:
        payloads = unpack(record)
    except FramingError as exc:
        return [badrows.format_violation(ctx.processor, now, record, {"error": str(exc)})]
    except Exception as exc:  # a decompressor bug must not stop the stream
        return [badrows.format_violation(
            ctx.processor, now, record, {"error": f"cannot decode batch: {type(exc).__name__}"}
        )]  # fmt: skip
    results: list[Result] = []
    for raw in payloads:
        results.extend(enrich_payload_bytes(raw, ctx, now))
    return bound_bad_rows(results, record, ctx, now)


def enrich_payload_bytes(raw: bytes, ctx: EnrichContext, now: int) -> list[Result]:
    if len(raw) > ctx.max_payload_bytes:
        text = raw.decode("utf-8", errors="replace")[: ctx.max_payload_bytes // 10]
        return [badrows.size_violation(
            ctx.processor, now, ctx.max_payload_bytes, len(raw), text,
            f"expected a payload of at most {ctx.max_payload_bytes} bytes",
        )]  # fmt: skip
    try:
        payload = decode(raw)
    except PayloadDecodeError as exc:
        return [badrows.format_violation(ctx.processor, now, raw, {"error": str(exc)})]
    except Exception as exc:  # thrift library edge cases
        return [badrows.format_violation(
            ctx.processor, now, raw, {"error": f"cannot decode thrift: {type(exc).__name__}"}
        )]  # fmt: skip
    return enrich(payload, ctx)
