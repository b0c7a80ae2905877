"""Deprecated alias of :mod:`plowline.spec.collector_payload` (the codec moved to plowline-spec).

Kept only while code outside the collector still imports this path; import from
``plowline.spec.collector_payload`` instead.
"""

from plowline.spec.collector_payload import (
    ENCODING,
    SCHEMA,
    CollectorPayload,
    PayloadDecodeError,
    decode,
    encode,
)

__all__ = ["ENCODING", "SCHEMA", "CollectorPayload", "PayloadDecodeError", "decode", "encode"]
