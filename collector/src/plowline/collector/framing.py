"""Deprecated alias of :mod:`plowline.spec.framing` (batch framing moved to plowline-spec).

Kept only while code outside the collector still imports this path; import from
``plowline.spec.framing`` instead.
"""

from plowline.spec.framing import (
    DEFAULT_MAX_DECOMPRESSED,
    Framing,
    FramingError,
    encode_batch,
    is_batch,
    pack,
    unpack,
)

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "Framing",
    "FramingError",
    "encode_batch",
    "is_batch",
    "pack",
    "unpack",
]
