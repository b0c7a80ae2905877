"""Everything the pure ``enrich`` function needs besides the payload (no I/O in here)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from plowline.enrich import __version__
from plowline.enrich.badrows import Processor
from plowline.enrich.bounds import DEFAULT_MAX_BAD_ROWS_PER_RECORD
from plowline.enrich.validation import SchemaValidator

if TYPE_CHECKING:
    from plowline.enrich.enrichments.base import Enrichment

ARTIFACT = "plowline-enrich"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _uuid4() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True)
class EnrichContext:
    """Validator, configured enrichments, injected clock and id factory, limits."""

    validator: SchemaValidator
    enrichments: Sequence[Enrichment] = ()
    processor: Processor = field(default_factory=lambda: Processor(ARTIFACT, __version__))
    clock_ms: Callable[[], int] = _now_ms
    new_uuid: Callable[[], str] = _uuid4
    max_json_depth: int = 40
    # Records above this size become size_violation bad rows (collector reference.conf default).
    max_payload_bytes: int = 1_048_576
    # Bad rows one raw record may produce; past it one summary row (bounds.py). -1: no bound.
    max_bad_rows_per_record: int = DEFAULT_MAX_BAD_ROWS_PER_RECORD

    @property
    def etl_version(self) -> str:
        return f"{self.processor.artifact}-{self.processor.version}"
