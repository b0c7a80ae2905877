"""Stream records: one raw CollectorPayload, or a compressed framed batch of several.

The batch format is the one Snowplow's enricher (6.1+) detects by magic bytes: the
decompressed bytes are ``0x01`` (spec version), ``0x01`` (inner format: Thrift
CollectorPayload), then repeated ``[uint32 big-endian length][thrift bytes]``. gzip
(``1F 8B``) and zstd (``28 B5 2F FD``) are recognised.
"""

from __future__ import annotations

import enum
import gzip
import struct
import zlib
from collections.abc import Iterator, Sequence
from typing import Final

import zstandard

GZIP_MAGIC: Final = b"\x1f\x8b"
ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
SPEC_VERSION: Final = 1
FORMAT_THRIFT: Final = 1
HEADER: Final = bytes([SPEC_VERSION, FORMAT_THRIFT])
# A decompressed batch larger than this is refused (a record is at most a few MB compressed).
DEFAULT_MAX_DECOMPRESSED: Final = 256 * 1024 * 1024
_LEN = struct.Struct(">I")


class Framing(enum.StrEnum):
    """How the good stream's records are written."""

    NONE = "none"  # one CollectorPayload per record (what the Scala collector writes)
    GZIP = "gzip"
    ZSTD = "zstd"


class FramingError(ValueError):
    """A stream record that claims to be a batch but is not a valid one."""


def _compress(data: bytes, framing: Framing) -> bytes:
    if framing is Framing.GZIP:
        # mtime=0 keeps output deterministic for the same input.
        return gzip.compress(data, compresslevel=6, mtime=0)
    return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data)


def encode_batch(payloads: Sequence[bytes], framing: Framing) -> bytes:
    """One compressed record holding ``payloads`` (each a serialised CollectorPayload)."""
    if framing is Framing.NONE:
        raise ValueError("framing 'none' writes one payload per record, not a batch")
    parts = [HEADER]
    for payload in payloads:
        parts.append(_LEN.pack(len(payload)))
        parts.append(payload)
    return _compress(b"".join(parts), framing)


def framed_size(payload_size: int) -> int:
    """Bytes one payload adds to a batch before compression."""
    return _LEN.size + payload_size


def pack(payloads: Sequence[bytes], framing: Framing, max_record_bytes: int) -> list[bytes]:
    """Turn payloads into stream records that each fit ``max_record_bytes``.

    Without framing every payload is its own record (callers have already diverted payloads
    above the limit to size violations). With framing, payloads are grouped greedily; a group
    whose compressed form is still too large is halved until it fits, and a single payload that
    cannot fit even alone is written raw (it was checked against the limit already).
    """
    if framing is Framing.NONE:
        return list(payloads)
    records: list[bytes] = []
    # Aim groups at a raw size that compresses well below the limit; halving handles misses.
    target_raw = max_record_bytes * 4
    group: list[bytes] = []
    size = len(HEADER)
    for payload in payloads:
        extra = framed_size(len(payload))
        if group and size + extra > target_raw:
            records.extend(_fit(group, framing, max_record_bytes))
            group, size = [], len(HEADER)
        group.append(payload)
        size += extra
    if group:
        records.extend(_fit(group, framing, max_record_bytes))
    return records


def _fit(group: list[bytes], framing: Framing, max_record_bytes: int) -> Iterator[bytes]:
    record = encode_batch(group, framing)
    if len(record) <= max_record_bytes:
        yield record
    elif len(group) == 1:
        yield group[0]
    else:
        half = len(group) // 2
        yield from _fit(group[:half], framing, max_record_bytes)
        yield from _fit(group[half:], framing, max_record_bytes)


def _decompress(record: bytes, max_size: int) -> bytes:
    try:
        if record.startswith(GZIP_MAGIC):
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out = inflater.decompress(record, max_size + 1)
            if not inflater.eof:
                if len(out) > max_size:
                    raise FramingError(f"batch decompresses to more than {max_size} bytes")
                raise FramingError("truncated gzip stream")
            if inflater.unused_data:
                raise FramingError("trailing bytes after the gzip stream")
            return out
        declared = zstandard.frame_content_size(record)
        if declared > max_size:
            raise FramingError(f"batch decompresses to more than {max_size} bytes")
        # One-shot decompression fails loudly on a truncated frame (a streaming reader would
        # return a silent prefix).
        out = zstandard.ZstdDecompressor().decompress(record, max_output_size=max_size)
        return out
    except (zlib.error, zstandard.ZstdError) as exc:
        raise FramingError(f"corrupt compressed batch: {exc}") from exc


def is_batch(record: bytes) -> bool:
    return record.startswith(GZIP_MAGIC) or record.startswith(ZSTD_MAGIC)


def unpack(record: bytes, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED) -> list[bytes]:
    """The serialised payloads in one stream record (a raw payload yields itself)."""
    if not is_batch(record):
        return [record]
    data = _decompress(record, max_decompressed)
    if len(data) < len(HEADER):
        raise FramingError("batch shorter than its 2-byte header")
    if data[0] != SPEC_VERSION:
        raise FramingError(f"unknown batch spec version {data[0]}")
    if data[1] != FORMAT_THRIFT:
        raise FramingError(f"unknown batch inner format {data[1]}")
    payloads: list[bytes] = []
    pos = len(HEADER)
    while pos < len(data):
        if pos + _LEN.size > len(data):
            raise FramingError(f"truncated length prefix at offset {pos}")
        (size,) = _LEN.unpack_from(data, pos)
        pos += _LEN.size
        if pos + size > len(data):
            raise FramingError(f"payload of {size} bytes at offset {pos} runs past the batch")
        payloads.append(data[pos : pos + size])
        pos += size
    return payloads
