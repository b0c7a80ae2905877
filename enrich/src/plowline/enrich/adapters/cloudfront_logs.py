"""Batch input for CloudFront access logs: rotated (gzip) log files in a folder -> collector
payloads for ``/com.amazon.aws.cloudfront/wd_access_log``, as Snowplow's batch pipeline read
them with its ``TsvLoader`` (the ``#Version:`` and ``#Fields:`` header lines are skipped).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from plowline.collector.payload import CollectorPayload
from plowline.enrich.adapters.cloudfront import PATH
from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich

COLLECTOR: Final = "plowline-cloudfront-batch"
_HEADERS: Final = ("#Version:", "#Fields:")


def log_files(folder: Path) -> list[Path]:
    """The log files of a folder (and its subfolders), oldest name first; hidden files skipped."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        for line in handle:
            yield line.rstrip("\r\n")


def payloads(folder: Path, clock_ms: int = 0) -> Iterator[CollectorPayload]:
    """One payload per access-log line (the adapter replaces the timestamp and IP)."""
    for path in log_files(folder):
        for line in _lines(path):
            if not line or line.startswith(_HEADERS):
                continue
            yield CollectorPayload(
                ip_address="", timestamp=clock_ms, collector=COLLECTOR, path=PATH, body=line,
            )  # fmt: skip


def enrich_folder(folder: Path, ctx: EnrichContext) -> Iterator[EnrichedEvent | BadRow]:
    """Every enriched event and bad row of the folder's CloudFront logs."""
    for payload in payloads(folder, ctx.clock_ms()):
        yield from enrich(payload, ctx)
