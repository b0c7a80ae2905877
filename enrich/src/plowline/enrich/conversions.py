"""Value parsers with the exact semantics of Snowplow enrich (enrich's ConversionUtils).

Each parser takes the raw parameter string and returns the TSV representation, or raises
ParseError with a readable message. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_INT_RE: Final = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIMS_RE: Final = re.compile(r"([0-9]+)x([0-9]+)")
_UUID_RE: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_B64_KEEP: Final = re.compile(r"[^A-Za-z0-9+/]")
_MAX_SCALE: Final = 1000
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_MAX_TSTAMP_MS: Final = 253402300799999  # 9999-12-31 23:59:59.999
_FAST_MIN_MS: Final = -30610224000000  # 1000-01-01: four-digit years, strftime pads nothing
_MIN_TSTAMP_MS: Final = -62135596800000  # 0001-01-01 00:00:00.000 (Python has no year 0)


class ParseError(ValueError):
    """A parameter value that does not parse as its field's type."""


def tsv_safe(value: str) -> str | None:
    """Tabs become four spaces, other ASCII control characters are dropped; empty -> null."""
    if value.isprintable():  # fast path: no control characters at all
        return value or None
    if "\t" in value:
        value = value.replace("\t", "    ")
    if _CONTROL_RE.search(value):
        value = _CONTROL_RE.sub("", value)
    return value or None


def java_length(value: str) -> int:
    """String length as Java counts it (UTF-16 code units), used for field limits."""
    n = len(value)
    if value.isascii():
        return n
    return n + sum(1 for ch in value if ord(ch) > 0xFFFF)


def parse_int(value: str) -> str | None:
    """A Java 32-bit int; the literal ``null`` (any case) means null."""
    if value.lower() == "null":
        return None
    if not _INT_RE.fullmatch(value):
        raise ParseError(f"cannot be converted to java.lang.Integer: [{value}]")
    number = int(value)
    if not _INT_MIN <= number <= _INT_MAX:
        raise ParseError(f"cannot be converted to java.lang.Integer: [{value}]")
    return str(number)


def parse_decimal(value: str) -> str | None:
    """A Java BigDecimal in its toString form; negative scales are normalised to scale 0."""
    if value.lower() == "null":
        return None
    if not _DECIMAL_RE.fullmatch(value):
        raise ParseError(f"cannot be converted to java.math.BigDecimal: [{value}]")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError) as exc:  # pragma: no cover - regex guards this
        raise ParseError(f"cannot be converted to java.math.BigDecimal: [{value}]") from exc
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite by the regex
    if not -_MAX_SCALE <= exponent <= _MAX_SCALE:
        raise ParseError(f"cannot be converted to java.math.BigDecimal: [{value}]")
    if exponent > 0:  # Java keeps a negative scale; enrich normalises it to scale 0
        text = "".join(map(str, digits)).lstrip("0") + "0" * exponent
        text = text if text.strip("0") else "0"
        return ("-" if sign and text != "0" else "") + text
    if number.is_zero():
        number = abs(number)  # BigDecimal has no negative zero
    return str(number)


def parse_bool_byte(value: str) -> str:
    """Only ``1`` and ``0`` are booleans on the wire."""
    if value in ("1", "0"):
        return value
    raise ParseError(f"cannot be converted to Boolean. Only 1 or 0 are supported: [{value}]")


def parse_dims(value: str) -> tuple[str, str]:
    """``<width>x<height>`` as two Java ints."""
    match = _DIMS_RE.fullmatch(value)
    if match is None:
        raise ParseError(f"does not contain two ints separated by x: [{value}]")
    width, height = match.group(1), match.group(2)
    if int(width) > _INT_MAX or int(height) > _INT_MAX:
        raise ParseError(f"dimensions do not fit in an int: [{value}]")
    return str(int(width)), str(int(height))


@lru_cache(maxsize=4096)
def format_tstamp(ms: int) -> str:
    """Milliseconds since the epoch -> ``yyyy-MM-dd HH:mm:ss.SSS`` (UTC)."""
    if _FAST_MIN_MS <= ms <= _MAX_TSTAMP_MS:
        seconds, millis = divmod(ms, 1000)
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}"
    if not _MIN_TSTAMP_MS <= ms <= _MAX_TSTAMP_MS:
        raise ParseError(f"timestamp {ms} is out of range (year 1-9999)")
    m = _EPOCH + timedelta(milliseconds=ms)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d} "
        f"{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond // 1000:03d}"
    )


def parse_tstamp(value: str) -> str:
    """A tracker timestamp: integer milliseconds since the epoch."""
    if not _INT_RE.fullmatch(value) or len(value) > 20:
        raise ParseError(f"[{value}] is not in the expected format: ms since epoch")
    return format_tstamp(int(value))


def tstamp_to_ms(tstamp: str) -> int:
    """Inverse of format_tstamp (used for derived_tstamp arithmetic)."""
    moment = datetime(
        int(tstamp[0:4]), int(tstamp[5:7]), int(tstamp[8:10]),
        int(tstamp[11:13]), int(tstamp[14:16]), int(tstamp[17:19]),
        int(tstamp[20:23]) * 1000, tzinfo=UTC,
    )  # fmt: skip
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def tstamp_to_iso(tstamp: str) -> str:
    """TSV timestamp -> ISO-8601 with ``Z``, as the analytics SDKs write it."""
    return tstamp.replace(" ", "T", 1) + "Z"


def parse_uuid(value: str) -> str:
    """A UUID in canonical 8-4-4-4-12 form (any case); stored lower-cased."""
    if not _UUID_RE.fullmatch(value):
        raise ParseError(f"[{value}] is not a valid UUID")
    return value.lower()


def is_uuid(value: str) -> bool:
    return _UUID_RE.fullmatch(value) is not None


def decode_base64url(value: str) -> str:
    """Lenient Base64 like commons-codec: both alphabets, optional padding, junk skipped.

    Decoding stops at the first ``=``; a dangling single character is dropped; the bytes are
    read as UTF-8 with replacement characters, so this never fails.
    """
    text = value.split("=", 1)[0].replace("-", "+").replace("_", "/")
    if _B64_KEEP.search(text):
        text = _B64_KEEP.sub("", text)
    if len(text) % 4 == 1:
        text = text[:-1]
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - input is sanitised above
        raw = b""
    return raw.decode("utf-8", errors="replace")


def encode_base64url(text: str) -> str:
    """URL-safe Base64 without padding (what the JS tracker sends)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
