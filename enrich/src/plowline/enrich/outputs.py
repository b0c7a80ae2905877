"""Results -> stream records: good TSV lines, bad-row JSON, PII events (serialisable, picklable)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from plowline.enrich import badrows
from plowline.enrich.badrows import BadRow, Processor
from plowline.enrich.event import EnrichedEvent

Channel = Literal["good", "bad", "pii"]
Output = tuple[Channel, bytes]
UNLIMITED: Final = 1 << 62
PII_WITHHELD: Final = b"(a pii_transformation event: its text is withheld)"


def to_outputs(
    results: Iterable[EnrichedEvent | BadRow],
    processor: Processor,
    now_ms: int,
    max_good_bytes: int = UNLIMITED,
    max_bad_bytes: int = UNLIMITED,
) -> list[Output]:
    """Serialise results; an event or bad row too big for its sink becomes a size_violation."""
    out: list[Output] = []
    for result in results:
        if isinstance(result, EnrichedEvent):
            line = result.to_tsv().encode("utf-8")
            if len(line) <= max_good_bytes:
                out.append(("pii" if result.pii else "good", line))
                continue
            # A PII event's text holds the original values: none of it goes to the bad row.
            shown = PII_WITHHELD if result.pii else line
            result = _too_big(processor, now_ms, shown, len(line), max_good_bytes, "enriched event")
        data = result.to_json().encode("utf-8")
        if len(data) > max_bad_bytes:
            data = (
                _too_big(processor, now_ms, data, len(data), max_bad_bytes, "bad row")
                .to_json()
                .encode()
            )
        out.append(("bad", data))
    return out


def _too_big(
    processor: Processor, now_ms: int, data: bytes, size: int, limit: int, what: str
) -> BadRow:
    text = data.decode("utf-8", errors="replace")[: max(limit // 10, 1)]
    return badrows.size_violation(
        processor, now_ms, limit, size, text, f"{what} must be at most {limit} bytes"
    )
