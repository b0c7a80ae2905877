"""Compressed framed batches (§2.6): layout, packing under a size limit, hostile input."""

from __future__ import annotations

import contextlib
import gzip
import struct

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from plowline.spec.collector_payload import CollectorPayload, encode
from plowline.spec.framing import (
    Framing,
    FramingError,
    encode_batch,
    is_batch,
    pack,
    unpack,
)


def test_gzip_batch_layout_matches_the_enrich_format() -> None:
    record = encode_batch([b"abc", b""], Framing.GZIP)
    assert record[:2] == b"\x1f\x8b"
    raw = gzip.decompress(record)
    assert raw == b"\x01\x01" + struct.pack(">I", 3) + b"abc" + struct.pack(">I", 0)


def test_zstd_batch_layout_matches_the_enrich_format() -> None:
    record = encode_batch([b"abc"], Framing.ZSTD)
    assert record[:4] == b"\x28\xb5\x2f\xfd"
    assert zstandard.ZstdDecompressor().decompress(record) == b"\x01\x01\x00\x00\x00\x03abc"


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=30), st.sampled_from(list(Framing)))
def test_pack_then_unpack_returns_the_payloads_in_order(
    payloads: list[bytes], framing: Framing
) -> None:
    # Real payloads never start with a compression magic number (they start with 0x0b 0x7a).
    payloads = [b"\x0b" + p for p in payloads]
    records = pack(payloads, framing, 2048)
    assert all(len(r) <= 2048 or not is_batch(r) for r in records)
    assert [p for r in records for p in unpack(r)] == payloads


def test_pack_splits_to_fit_the_record_limit() -> None:
    payloads = [
        encode(CollectorPayload(ip_address=str(i), timestamp=i, collector="c", body=str(i) * 500))
        for i in range(200)
    ]
    records = pack(payloads, Framing.ZSTD, 4096)
    assert len(records) > 1
    assert all(len(r) <= 4096 for r in records)
    assert [p for r in records for p in unpack(r)] == payloads


def test_raw_payload_is_its_own_record() -> None:
    payload = encode(CollectorPayload(ip_address="i", timestamp=1, collector="c"))
    assert unpack(payload) == [payload]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (gzip.compress(b"\x02\x01"), "spec version"),
        (gzip.compress(b"\x01\x02"), "inner format"),
        (gzip.compress(b"\x01"), "header"),
        (gzip.compress(b"\x01\x01\x00\x00"), "length prefix"),
        (gzip.compress(b"\x01\x01\x00\x00\x00\x09abc"), "runs past"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (gzip.compress(b"\x01\x01")[:-4], "truncated"),
        (gzip.compress(b"\x01\x01") + b"x", "trailing"),
        (b"\x28\xb5\x2f\xfdjunk", "corrupt"),
    ],
)
def test_bad_batches_raise_typed_errors(record: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        unpack(record)


@pytest.mark.parametrize("framing", [Framing.GZIP, Framing.ZSTD])
def test_decompression_is_bounded(framing: Framing) -> None:
    bomb = encode_batch([b"\x00" * 1_000_000], framing)
    with pytest.raises(FramingError, match="more than"):
        unpack(bomb, max_decompressed=10_000)


@given(st.binary(max_size=256), st.sampled_from([b"\x1f\x8b", b"\x28\xb5\x2f\xfd"]))
def test_arbitrary_batches_never_crash(tail: bytes, magic: bytes) -> None:
    with contextlib.suppress(FramingError):
        unpack(magic + tail)


def test_framing_none_has_no_batch() -> None:
    with pytest.raises(ValueError, match="none"):
        encode_batch([b"a"], Framing.NONE)
