"""Plans for the native COPY-text encoder (plowline-copytext), kept in step with the tables.

The encoder reads a frozen `Plans` snapshot: the loader builds a new one whenever it learns a
schema URI or changes a table, so a batch encoded in the stage thread always sees one
consistent layout (the loader's generation counter says whether that layout is still current).
`PLOWLINE_STORAGE_NATIVE=0` turns the encoder off: every line then takes the Python reference
path, which the differential tests and benchmark compare against.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from plowline_copytext import Plans
from plowline_copytext import batch_digest as native_batch_id
from plowline_copytext import encode as native_encode

NATIVE_ENV = "PLOWLINE_STORAGE_NATIVE"

ColumnSpec = tuple[list[str], str, int | None, bool]
MetaSpec = tuple[str, str, str, str, str]  # vendor, name, format, version, ref_tree
PlanSpec = tuple[str, str, str, str, list[ColumnSpec] | None, MetaSpec | None]

# PostgreSQL's binary COPY stream: signature, flags, header extension length; then tuples;
# then -1 as the trailer.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
BINARY_TRAILER = b"\xff\xff"

__all__ = [
    "BINARY_HEADER",
    "BINARY_TRAILER",
    "NATIVE_ENV",
    "PlanBook",
    "PlanSpec",
    "deferred_spec",
    "native_batch_id",
    "native_encode",
    "native_wanted",
]


def native_wanted(requested: bool | None = None) -> bool:
    """The loader's choice, else the environment's (on unless PLOWLINE_STORAGE_NATIVE=0)."""
    if requested is not None:
        return requested
    return os.environ.get(NATIVE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def deferred_spec(uri: str) -> PlanSpec:
    """A URI whose events the Python reference must handle (no schema, bad URI...)."""
    return (uri, "", "", "", None, None)


class PlanBook:
    """Plan specs by schema URI, and the frozen snapshot the encoder reads."""

    def __init__(self, jsonb: bool, binary: bool) -> None:
        self._jsonb = jsonb
        self.binary = binary
        self._specs: dict[str, PlanSpec] = {}
        self.plans = Plans(jsonb, [], binary)

    def clear(self) -> None:
        """Forget every plan (a table changed: plans are rebuilt on the next batch)."""
        self._specs = {}
        self.plans = Plans(self._jsonb, [], self.binary)

    def define(self, specs: Iterable[PlanSpec]) -> None:
        self._specs.update((spec[0], spec) for spec in specs)
        self.plans = Plans(self._jsonb, list(self._specs.values()), self.binary)
