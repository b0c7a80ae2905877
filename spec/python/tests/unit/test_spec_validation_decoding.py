"""Guard rails when reading untrusted JSON and base64url (size, depth, syntax)."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.spec.decoding import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    Limits,
    check_depth,
    check_size,
    decode_base64url,
    decode_base64url_json,
    parse_json,
)
from plowline.spec.errors import DepthLimitExceededError, DocumentTooLargeError, NotJsonError


def nested(depth: int) -> str:
    """A JSON text whose arrays nest ``depth`` deep."""
    return "[" * depth + "]" * depth


def test_limits_defaults_and_checks() -> None:
    assert Limits() == Limits(max_depth=40, max_bytes=1_048_576)
    assert (DEFAULT_MAX_DEPTH, DEFAULT_MAX_BYTES) == (40, 1_048_576)
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=0)
    with pytest.raises(ValueError, match="max_bytes"):
        Limits(max_bytes=0)


def test_parse_json_reads_text_and_utf8_bytes() -> None:
    assert parse_json('{"a": [1, 2.5, "é", null, true]}', Limits()) == {
        "a": [1, 2.5, "é", None, True]
    }
    assert parse_json('{"a":"é"}'.encode(), Limits()) == {"a": "é"}
    assert parse_json(bytearray(b"7"), Limits()) == 7


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Expecting value at line 1 column 1"),
        ("{", "line 1 column 2"),
        ('{"a": 1,}', "Expecting property name"),
        ("[1] [2]", "Extra data"),
        ("NaN", "NaN is not valid JSON"),
        ("[Infinity]", "Infinity is not valid JSON"),
        ("[-Infinity]", "-Infinity is not valid JSON"),
        ("1" * 5000, "invalid JSON"),  # more digits than Python converts
        (b"\xff\xfe{}", "not valid UTF-8 at byte 0"),
        (b'"\xc3"', "not valid UTF-8 at byte 1"),
    ],
)
def test_parse_json_rejects_malformed_input(raw: str | bytes, message: str) -> None:
    with pytest.raises(NotJsonError) as caught:
        parse_json(raw, Limits())
    assert message in caught.value.reason


def test_depth_limit_is_inclusive() -> None:
    assert parse_json(nested(40), Limits()) == json.loads(nested(40))
    with pytest.raises(DepthLimitExceededError, match="maximum depth of 40") as caught:
        parse_json(nested(41), Limits())
    assert caught.value.limit == 40


def test_depth_limit_is_configurable() -> None:
    assert parse_json(nested(3), Limits(max_depth=3)) == [[[]]]
    with pytest.raises(DepthLimitExceededError):
        parse_json(nested(4), Limits(max_depth=3))
    assert parse_json(nested(100), Limits(max_depth=100)) is not None


def test_depth_counts_objects_and_arrays_but_not_brackets_in_strings() -> None:
    doc = '{"a": {"b": [{"c": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}]}}'
    assert parse_json(doc, Limits(max_depth=4))["a"]["b"][0]["c"].startswith("[")
    with pytest.raises(DepthLimitExceededError):
        parse_json(doc, Limits(max_depth=3))


def test_absurdly_deep_json_is_a_typed_error_not_a_recursion_error() -> None:
    with pytest.raises(DepthLimitExceededError):
        parse_json(nested(100_000), Limits())
    with pytest.raises(DepthLimitExceededError):
        parse_json('{"a":' * 50_000 + "1" + "}" * 50_000, Limits(max_depth=1000))


def test_check_depth_is_iterative_and_handles_self_reference() -> None:
    deep: list[object] = []
    for _ in range(200_000):
        deep = [deep]
    with pytest.raises(DepthLimitExceededError):
        check_depth(deep, 40)
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(DepthLimitExceededError):
        check_depth(loop, 40)
    check_depth("scalar", 1)
    check_depth({"a": [1, {"b": 2}]}, 3)
    with pytest.raises(DepthLimitExceededError):
        check_depth({"a": [1, {"b": {}}]}, 3)


def test_size_limit() -> None:
    check_size(b"x" * 10, 10)
    with pytest.raises(DocumentTooLargeError, match="11 bytes, more than the maximum of 10"):
        check_size(b"x" * 11, 10)
    # Text is measured in UTF-8 bytes: 4 characters, 8 bytes.
    check_size("éééé", 8)
    with pytest.raises(DocumentTooLargeError) as caught:
        check_size("éééé", 7)
    assert (caught.value.size, caught.value.limit) == (8, 7)
    with pytest.raises(DocumentTooLargeError):
        check_size("x" * 100, 10)
    with pytest.raises(DocumentTooLargeError):
        parse_json('"' + "x" * 100 + '"', Limits(max_bytes=50))
    # Lone surrogates (possible in decoded JSON strings) are measured, not crashed on.
    check_size("\ud800", 3)


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        ("eyJhIjoiYiJ9", b'{"a":"b"}'),  # no padding needed
        ("YQ", b"a"),  # padding stripped (JS tracker)
        ("YQ==", b"a"),  # padding kept (Python tracker)
        ("YWI", b"ab"),
        ("YWI=", b"ab"),
        ("-_8", b"\xfb\xff"),  # URL-safe alphabet
        ("+/8", b"\xfb\xff"),  # standard alphabet
        ("-/8", b"\xfb\xff"),  # mixed
        ("Y Q\n=", b"a"),  # junk skipped
        ("YQ==YWI=", b"a"),  # decoding stops at the first pad
        ("YWJjZ", b"abc"),  # a dangling 6 bits are dropped
        ("", b""),
        ("!!!!", b""),
    ],
)
def test_base64url_decoding_like_enrich(encoded: str, decoded: bytes) -> None:
    assert decode_base64url(encoded) == decoded


@given(st.binary(max_size=200), st.booleans(), st.booleans())
def test_base64_round_trip_in_both_alphabets(data: bytes, url_safe: bool, padded: bool) -> None:
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(data).decode()
    if not padded:
        encoded = encoded.rstrip("=")
    assert decode_base64url(encoded) == data


@given(st.text(max_size=100))
def test_base64url_never_raises(text: str) -> None:
    assert isinstance(decode_base64url(text), bytes)


def test_base64url_json() -> None:
    encoded = base64.urlsafe_b64encode(b'{"schema":"iglu:a/b/c/1-0-0","data":{}}').decode()
    assert decode_base64url_json(encoded.rstrip("="), Limits())["data"] == {}
    # Invalid UTF-8 is replaced (as enrich's Java String does), then JSON decides.
    bad_utf8 = base64.b64encode(b'"\xff"').decode()
    assert decode_base64url_json(bad_utf8, Limits()) == "\ufffd"
    with pytest.raises(NotJsonError, match="invalid JSON"):
        decode_base64url_json(base64.b64encode(b"{nope").decode(), Limits())
    with pytest.raises(DocumentTooLargeError):
        decode_base64url_json("QUFB" * 100, Limits(max_bytes=10))
    with pytest.raises(DepthLimitExceededError):
        decode_base64url_json(base64.b64encode(nested(41).encode()).decode(), Limits())


@given(st.binary(max_size=300))
def test_parse_json_never_raises_anything_but_not_json(raw: bytes) -> None:
    with contextlib.suppress(NotJsonError):
        parse_json(raw, Limits(max_depth=5, max_bytes=200))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    )
)
def test_parse_json_reads_what_json_dumps_writes(value: object) -> None:
    text = json.dumps(value)
    try:
        assert parse_json(text, Limits(max_depth=40)) == json.loads(text)
    except NotJsonError:  # only for infinities, which JSON cannot carry
        assert "Infinity" in text
