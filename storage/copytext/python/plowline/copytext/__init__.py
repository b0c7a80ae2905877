"""Native fast path of plowline-storage: enriched TSV batches to PostgreSQL COPY text.

Installed by the `native` extra of plowline-storage (`pip install 'plowline-storage[native]'`).
`plowline.storage.postgres` is the reference; `encode` writes the same bytes for the lines it
is certain about and defers every other line (by index) to it. See README.md.
"""

from plowline.copytext._native import Plans, batch_digest, encode, float_repr, json_roundtrip

__all__ = ["Plans", "batch_digest", "encode", "float_repr", "json_roundtrip"]
