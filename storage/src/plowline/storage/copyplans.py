"""Plans for the native COPY-text encoder (plowline-copytext), kept in step with the tables.

The encoder reads a frozen `Plans` snapshot: the loader builds a new one whenever it learns a
schema URI or changes a table, so a batch encoded in the stage thread always sees one
consistent layout (the loader's generation counter says whether that layout is still current).
The encoder is optional (`pip install 'plowline-storage[native]'`, which builds
`plowline.copytext` from Rust): without it every line takes the Python reference path, which
is complete. `PLOWLINE_STORAGE_NATIVE=0` turns an installed encoder off, as the differential
tests and benchmark do to compare against the reference.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NoReturn

try:
    from plowline.copytext import Plans
    from plowline.copytext import batch_digest as native_batch_id
    from plowline.copytext import encode as native_encode

    NATIVE_AVAILABLE = True
except ImportError:  # the `native` extra is not installed: the Python path does everything
    NATIVE_AVAILABLE = False

NATIVE_ENV = "PLOWLINE_STORAGE_NATIVE"
NATIVE_MISSING = (
    "the native COPY encoder (plowline.copytext) is not installed: "
    "pip install 'plowline-storage[native]' (needs a Rust toolchain)"
)


def _missing(*_args: object) -> NoReturn:
    raise RuntimeError(NATIVE_MISSING)


if not NATIVE_AVAILABLE:  # never called: loaders without the encoder stay on the Python path
    native_batch_id = native_encode = _missing  # type: ignore[assignment]

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
    "NATIVE_AVAILABLE",
    "NATIVE_ENV",
    "NATIVE_MISSING",
    "PlanBook",
    "PlanSpec",
    "deferred_spec",
    "encoder_name",
    "native_batch_id",
    "native_encode",
    "native_wanted",
]


def native_wanted(requested: bool | None = None) -> bool:
    """The loader's choice, else the environment's: on when the encoder is installed, unless
    PLOWLINE_STORAGE_NATIVE=0. Asking for it (True) without it installed is an error."""
    if requested is not None:
        if requested and not NATIVE_AVAILABLE:
            raise RuntimeError(NATIVE_MISSING)
        return requested
    if not NATIVE_AVAILABLE:
        return False
    return os.environ.get(NATIVE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def encoder_name(native: bool) -> str:
    """How the loader says which COPY encoder it uses (logged when a loader starts)."""
    if native:
        return "native (plowline.copytext)"
    if not NATIVE_AVAILABLE:
        return "python (plowline.copytext not installed)"
    return f"python ({NATIVE_ENV}=0 or --encoder python)"


def deferred_spec(uri: str) -> PlanSpec:
    """A URI whose events the Python reference must handle (no schema, bad URI...)."""
    return (uri, "", "", "", None, None)


class PlanBook:
    """Plan specs by schema URI, and the frozen snapshot the encoder reads."""

    def __init__(self, jsonb: bool, binary: bool) -> None:
        self._jsonb = jsonb
        self.binary = binary
        self._specs: dict[str, PlanSpec] = {}
        self._plans = self._freeze()

    @property
    def plans(self) -> Plans:
        """The frozen snapshot the encoder reads (only loaders on the native path read it)."""
        if self._plans is None:
            raise RuntimeError(NATIVE_MISSING)
        return self._plans

    def _freeze(self) -> Plans | None:
        if not NATIVE_AVAILABLE:
            return None
        return Plans(self._jsonb, list(self._specs.values()), self.binary)

    def clear(self) -> None:
        """Forget every plan (a table changed: plans are rebuilt on the next batch)."""
        self._specs = {}
        self._plans = self._freeze()

    def define(self, specs: Iterable[PlanSpec]) -> None:
        self._specs.update((spec[0], spec) for spec in specs)
        self._plans = self._freeze()
