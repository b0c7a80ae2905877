"""CollectorPayload Thrift codec: exact TBinaryProtocol bytes, round trips, hostile input."""

from __future__ import annotations

import contextlib
import dataclasses
import struct
from typing import Any

import pytest
import thriftpy2
from hypothesis import given, settings
from hypothesis import strategies as st
from plowline.spec import collector_payload as payload_module
from plowline.spec.collector_payload import (
    SCHEMA,
    CollectorPayload,
    PayloadDecodeError,
    decode,
    encode,
)
from thriftpy2.protocol.binary import TBinaryProtocolFactory
from thriftpy2.utils import deserialize


def _field(ttype: int, fid: int) -> bytes:
    return struct.pack(">bh", ttype, fid)


def _string(fid: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return _field(11, fid) + struct.pack(">i", len(raw)) + raw


def test_encoding_is_the_exact_tbinaryprotocol_layout() -> None:
    """Built by hand from the Thrift binary spec: type byte, i16 id, big-endian lengths."""
    payload = CollectorPayload(
        ip_address="1.2.3.4",
        timestamp=1_665_398_554_084,
        collector="c",
        path="/i",
        headers=["Host: a", "é"],
        network_user_id="n",
    )
    expected = (
        _string(31337, SCHEMA)
        + _string(100, "1.2.3.4")
        + _field(10, 200)
        + struct.pack(">q", 1_665_398_554_084)
        + _string(210, "UTF-8")
        + _string(220, "c")
        + _string(320, "/i")
        + _field(15, 350)
        + struct.pack(">bi", 11, 2)
        + struct.pack(">i", 7)
        + b"Host: a"
        + struct.pack(">i", 2)
        + "é".encode()
        + _string(410, "n")
        + b"\x00"
    )
    assert encode(payload) == expected


texts = st.text(max_size=200)
optional_texts = st.none() | texts
payloads = st.builds(
    CollectorPayload,
    ip_address=texts,
    timestamp=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    collector=texts,
    schema=st.just(SCHEMA) | texts,
    encoding=st.just("UTF-8"),
    user_agent=optional_texts,
    referer_uri=optional_texts,
    path=optional_texts,
    querystring=optional_texts,
    body=st.none() | st.text(max_size=2000),
    headers=st.none() | st.lists(texts, max_size=8),
    content_type=optional_texts,
    hostname=optional_texts,
    network_user_id=optional_texts,
)


@given(payloads)
def test_round_trip(payload: CollectorPayload) -> None:
    data = encode(payload)
    assert decode(data) == payload
    assert encode(decode(data)) == data


@given(payloads)
@settings(max_examples=50)
def test_thriftpy2_pure_python_reader_agrees_byte_for_byte(payload: CollectorPayload) -> None:
    """A second, independent reader (thriftpy2's pure-Python TBinaryProtocol) sees the same."""
    idl: Any = payload_module._module
    record = deserialize(idl.CollectorPayload(), encode(payload), TBinaryProtocolFactory())  # type: ignore[no-untyped-call]
    assert record.ipAddress == payload.ip_address
    assert record.timestamp == payload.timestamp
    assert record.networkUserId == payload.network_user_id
    assert record.headers == payload.headers
    assert record.body == payload.body


def test_idl_has_the_snowplow_field_ids_and_names() -> None:
    spec = payload_module._ThriftPayload.thrift_spec
    assert {fid: entry[1] for fid, entry in spec.items()} == {
        31337: "schema",
        100: "ipAddress",
        200: "timestamp",
        210: "encoding",
        220: "collector",
        300: "userAgent",
        310: "refererUri",
        320: "path",
        330: "querystring",
        340: "body",
        350: "headers",
        360: "contentType",
        400: "hostname",
        410: "networkUserId",
    }
    assert isinstance(thriftpy2.__version__, str)


def test_unknown_fields_are_skipped() -> None:
    base = encode(CollectorPayload(ip_address="i", timestamp=1, collector="c"))
    extra = (
        _string(999, "future")
        + _field(8, 998)
        + struct.pack(">i", 7)
        + _field(12, 997)
        + _string(1, "nested")
        + b"\x00"
        + _field(13, 996)
        + struct.pack(">bbi", 11, 8, 1)
        + struct.pack(">i", 1)
        + b"k"
        + struct.pack(">i", 5)
    )
    assert decode(extra + base).ip_address == "i"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x0b\x7a\x69\xff\xff\xff\xff",  # negative string length
        b"\x0b\x7a\x69\x7f\xff\xff\xff",  # length past the end
        b"\x0f\x01\x5e\x0b\x7f\xff\xff\xff",  # list with an absurd count
        b"\x63\x00\x01",  # unknown type
        b"\x0b\x00\x64\x00\x00\x00\x02\xff\xfe\x00",  # not UTF-8
    ],
)
def test_malformed_records_raise_a_typed_error(data: bytes) -> None:
    with pytest.raises(PayloadDecodeError):
        decode(data)


def test_truncations_and_trailing_bytes_are_rejected() -> None:
    data = encode(CollectorPayload(ip_address="1.2.3.4", timestamp=5, collector="c", body="b"))
    for cut in range(len(data)):
        with pytest.raises(PayloadDecodeError):
            decode(data[:cut])
    with pytest.raises(PayloadDecodeError, match="trailing"):
        decode(data + b"\x00")


@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(PayloadDecodeError):
        decode(data)


@given(payloads, st.data())
def test_mutated_records_decode_or_raise_typed(
    payload: CollectorPayload, data: st.DataObject
) -> None:
    raw = bytearray(encode(payload))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[index] = data.draw(st.integers(min_value=0, max_value=255))
    with contextlib.suppress(PayloadDecodeError):
        decode(bytes(raw))


def test_thrift_string_form_lists_every_field() -> None:
    text = dataclasses.replace(
        CollectorPayload(ip_address="i", timestamp=1, collector="c"), body="b"
    ).to_thrift_string()
    assert text.startswith("CollectorPayload(schema:iglu:")
    assert "ipAddress:i" in text
    assert "body:b" in text
