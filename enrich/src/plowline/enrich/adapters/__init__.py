"""Adapters: CollectorPayload + querystring -> tracker-protocol RawEvents (AdapterRegistry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from plowline.enrich.adapters import iglu, redirect, snowplow, statusgator, vendors
from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

Adapter = Callable[[CollectorPayload, Pairs, EnrichContext], list[RawEvent] | AdapterFailure]

# Snowplow's own adapters report tracker_protocol_violations; webhooks report adapter_failures.
SNOWPLOW_APIS: Final = frozenset(
    {("com.snowplowanalytics.snowplow", "tp1"), ("com.snowplowanalytics.snowplow", "tp2"),
     ("r", "tp2")}
)  # fmt: skip

REGISTRY: Final[dict[tuple[str, str], Adapter]] = {
    ("com.snowplowanalytics.snowplow", "tp1"): snowplow.tp1,
    ("com.snowplowanalytics.snowplow", "tp2"): snowplow.tp2,
    ("r", "tp2"): redirect.redirect,
    ("com.snowplowanalytics.iglu", "v1"): iglu.iglu_webhook,
    ("com.statusgator", "v1"): statusgator.statusgator,
    **vendors.ADAPTERS,
}


def adapt(
    vendor: str, version: str, payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    adapter = REGISTRY.get((vendor, version))
    if adapter is None:
        return AdapterFailure(
            [input_data("vendor/version", f"{vendor}/{version}",
                        "vendor/version combination is not supported")]
        )  # fmt: skip
    return adapter(payload, pairs, ctx)
