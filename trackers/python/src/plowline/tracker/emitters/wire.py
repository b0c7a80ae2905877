"""Building HTTP requests from stored events: GET querystrings and payload_data POST bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from plowline.tracker.emitters.store import StoredEvent
from plowline.tracker.self_describing import PAYLOAD_DATA_SCHEMA

GET_PATH = "/i"
POST_PATH = "/com.snowplowanalytics.snowplow/tp2"
POST_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
NO_HEADERS: dict[str, str] = {}

_PREFIX = ('{"schema":"' + PAYLOAD_DATA_SCHEMA + '","data":[').encode()
_SUFFIX = b"]}"


@dataclass(frozen=True, slots=True)
class Batch:
    """The events one HTTP request carries (one for GET, one or more for POST).

    ``heads`` (POST only) caches each payload's JSON without its closing brace, so a retry
    re-stamps ``stm`` by concatenation instead of serialising again.
    """

    events: tuple[StoredEvent, ...]
    heads: tuple[bytes, ...] = ()

    @property
    def keys(self) -> list[int]:
        return [e.key for e in self.events]


def _head(event: StoredEvent) -> bytes:
    payload = event.payload
    if "stm" in payload:  # never from the Tracker; a hand-made payload must not send it twice
        payload = {k: v for k, v in payload.items() if k != "stm"}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))[:-1].encode()


def _tail(stm: str) -> bytes:
    return f',"stm":"{stm}"}}'.encode()


def get_target(path: str, event: StoredEvent, stm: str) -> str:
    """``/i?e=pv&...&stm=...``; urlencode writes UTF-8 percent-escapes and '+' for spaces."""
    payload = dict(event.payload)
    payload["stm"] = stm
    return f"{path}?{urlencode(payload)}"


def post_body(batch: Batch, stm: str) -> bytes:
    """The payload_data 1-0-4 envelope around the batch's events, each stamped with ``stm``."""
    heads = batch.heads or tuple(_head(e) for e in batch.events)
    tail = _tail(stm)
    return _PREFIX + (tail + b",").join(heads) + tail + _SUFFIX


def split_for_post(events: Sequence[StoredEvent], max_bytes: int, stm: str) -> list[Batch]:
    """Group events, in order, into bodies of at most ``max_bytes`` bytes.

    ``stm`` is stamped again at each attempt but always has the same length, so sizes measured
    here hold. An event too big for the limit on its own travels alone (the collector decides).
    """
    overhead = len(_PREFIX) + len(_SUFFIX)
    tail = len(_tail(stm))
    batches: list[Batch] = []
    events_now: list[StoredEvent] = []
    heads_now: list[bytes] = []
    size = overhead
    for event in events:
        head = _head(event)
        extra = len(head) + tail + (1 if heads_now else 0)  # the comma between items
        if heads_now and size + extra > max_bytes:
            batches.append(Batch(tuple(events_now), tuple(heads_now)))
            events_now, heads_now, size = [], [], overhead
            extra -= 1
        events_now.append(event)
        heads_now.append(head)
        size += extra
    if events_now:
        batches.append(Batch(tuple(events_now), tuple(heads_now)))
    return batches
