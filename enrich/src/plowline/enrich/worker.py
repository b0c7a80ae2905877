"""The pure enrich step as a picklable function for a process pool (one context per process)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from plowline.enrich.bounds import DEFAULT_MAX_BAD_ROWS_PER_RECORD
from plowline.enrich.context import EnrichContext
from plowline.enrich.enrichments.config import load_enrichments
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.outputs import UNLIMITED, Output, to_outputs
from plowline.enrich.records import enrich_record
from plowline.spec.registries import DEFAULT_HTTP_TIMEOUT

DEFAULT_IGLU_BATCH_BUDGET: Final = 10.0
"""Seconds all Iglu HTTP lookups of one batch may wait in total (twice one lookup's timeout)."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """What a worker process needs to build its own context (plain data: picklable)."""

    resolver: Path | None = None
    enrichments: Path | None = None
    schema_dirs: tuple[Path, ...] = ()
    max_good_bytes: int = UNLIMITED
    max_bad_bytes: int = UNLIMITED
    max_bad_rows_per_record: int = DEFAULT_MAX_BAD_ROWS_PER_RECORD
    # Seconds for one lookup at an HTTP Iglu registry, and at most for all the lookups of one
    # batch (a registry that never answers then costs a batch this much, not 5 s per lookup).
    iglu_timeout: float = DEFAULT_HTTP_TIMEOUT
    iglu_batch_budget: float | None = DEFAULT_IGLU_BATCH_BUDGET
    extra: dict[str, str] = field(default_factory=dict)


def build_context(config: WorkerConfig) -> EnrichContext:
    validator = IgluValidator.from_resolver_file(
        config.resolver, list(config.schema_dirs), http_timeout=config.iglu_timeout
    )
    enrichments = load_enrichments(config.enrichments, validator) if config.enrichments else []
    return EnrichContext(
        validator, enrichments, max_bad_rows_per_record=config.max_bad_rows_per_record
    )


_PR_SET_PDEATHSIG = 1
_STATE: dict[str, tuple[WorkerConfig, EnrichContext]] = {}


def init_worker(config: WorkerConfig) -> None:
    _die_with_parent()
    _STATE["ctx"] = (config, build_context(config))


def _die_with_parent() -> None:
    """A pool worker must not outlive its enricher (e.g. after a SIGKILL of the parent)."""
    spawner = multiprocessing.parent_process()
    parent = spawner.pid if spawner is not None and spawner.pid is not None else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:  # portable fallback: poll the parent id
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def process_records(values: list[bytes]) -> list[list[Output]]:
    """Enrich each record; one list of outputs per input record, in order."""
    config, ctx = _STATE["ctx"]
    out: list[list[Output]] = []
    budget = (
        ctx.validator.lookup_budget(config.iglu_batch_budget)
        if isinstance(ctx.validator, IgluValidator)
        else nullcontext()
    )
    with budget:
        for value in values:
            now = ctx.clock_ms()
            results = enrich_record(value, ctx)
            out.append(
                to_outputs(results, ctx.processor, now, config.max_good_bytes, config.max_bad_bytes)
            )
    return out


def close_worker() -> None:
    """Release the enrichments' connections of this process's context (if any)."""
    state = _STATE.pop("ctx", None)
    if state is not None:
        for enrichment in state[1].enrichments:
            enrichment.close()
