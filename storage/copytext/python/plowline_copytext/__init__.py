"""Native fast path of plowline-storage: enriched TSV batches to PostgreSQL COPY text.

`plowline.storage.postgres` is the reference; `encode` writes the same bytes for the lines it
is certain about and defers every other line (by index) to it. See README.md.
"""

from plowline_copytext._native import Plans, batch_digest, encode, float_repr, json_roundtrip

__all__ = ["Plans", "batch_digest", "encode", "float_repr", "json_roundtrip"]
