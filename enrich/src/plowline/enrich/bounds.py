"""A bound on the bad rows one raw record can produce.

One stream record may be a compressed batch of many payloads, and one payload (a POST) may
hold many events: a ~1 KB gzip record of 262,143 empty payloads made 262,143 bad rows (92 MB).
Past ``limit`` bad rows for one record, the rest are not written one by one; one summary row
takes their place: a ``collector_payload_format_violation`` that counts them by type and
carries the whole record (base64), so nothing is lost (``plowline-enrich replay`` re-processes
that record). Good events are never held back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

from plowline.enrich import badrows
from plowline.enrich.badrows import BadRow, Processor
from plowline.enrich.event import EnrichedEvent

if TYPE_CHECKING:
    from plowline.enrich.context import EnrichContext

DEFAULT_MAX_BAD_ROWS_PER_RECORD: Final = 100
T = TypeVar("T")


def keep_bad_rows(
    results: Sequence[T], limit: int, bad_row_of: Callable[[T], BadRow | None]
) -> tuple[list[T], Counter[str]]:
    """Every good result and the first ``limit`` bad rows, in order; the others counted by kind."""
    kept: list[T] = []
    over: Counter[str] = Counter()
    seen = 0
    for result in results:
        row = bad_row_of(result)
        if row is not None:
            seen += 1
            if seen > limit:
                over[row.kind] += 1
                continue
        kept.append(result)
    return kept, over


def summary_row(
    processor: Processor, now_ms: int, record: bytes, limit: int, over: Counter[str]
) -> BadRow:
    """The one row standing for the bad rows past ``limit``, with the whole record."""
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(over.items()))
    message = (
        f"{over.total()} more bad rows of this record are not written one by one (at most "
        f"{limit} per record): {kinds}; this row carries the whole record to replay"
    )
    return badrows.format_violation(processor, now_ms, record, {"error": message})


def bound_results(
    results: list[T],
    record: bytes,
    limit: int,
    processor: Processor,
    now_ms: int,
    bad_row_of: Callable[[T], BadRow | None],
    wrap: Callable[[BadRow], T],
) -> list[T]:
    """``results`` with at most ``limit`` bad rows, plus the summary row when some were over."""
    if limit < 0:
        return results
    kept, over = keep_bad_rows(results, limit, bad_row_of)
    if over:
        kept.append(wrap(summary_row(processor, now_ms, record, limit, over)))
    return kept


def bound_bad_rows(
    results: list[EnrichedEvent | BadRow], record: bytes, ctx: EnrichContext, now_ms: int
) -> list[EnrichedEvent | BadRow]:
    """The results of one record with at most ``ctx.max_bad_rows_per_record`` bad rows."""
    return bound_results(
        results, record, ctx.max_bad_rows_per_record, ctx.processor, now_ms,
        lambda r: r if isinstance(r, BadRow) else None, lambda row: row,
    )  # fmt: skip
