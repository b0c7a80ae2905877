"""Reading untrusted JSON and base64url with guard rails: size, nesting depth, strict syntax.

Every failure is a ``NotJsonError`` subclass; a RecursionError never escapes. The depth limit
matters beyond politeness: the Rust validator recurses natively and a very deep document
would overflow its stack, so nothing deeper than the limit is ever handed to it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from plowline.spec.errors import DepthLimitExceededError, DocumentTooLargeError, NotJsonError

DEFAULT_MAX_DEPTH = 40
"""Snowplow enrich's ``maxJsonDepth`` default (its reference.conf)."""

DEFAULT_MAX_BYTES = 1_048_576
"""1 MiB: the collector's default ``maxPayloadSize`` (collector reference.conf)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How large and how deeply nested a document (or a decoded field) may be."""

    max_depth: int = DEFAULT_MAX_DEPTH
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, not {self.max_depth}")
        if self.max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, not {self.max_bytes}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for all calls: json.loads(**kwargs) would build a new one every time.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json(raw: str | bytes | bytearray, limits: Limits) -> Any:
    """Decode one JSON document (UTF-8 when bytes) within ``limits``; raise NotJsonError."""
    check_size(raw, limits.max_bytes)
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotJsonError(f"not valid UTF-8 at byte {exc.start}: {exc.reason}") from None
    else:
        text = raw
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise NotJsonError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise DepthLimitExceededError(limits.max_depth) from None
    except ValueError as exc:  # NaN/Infinity, integers with too many digits
        raise NotJsonError(f"invalid JSON: {exc}") from None
    # Cheap bound first: a document cannot nest deeper than its count of opening brackets.
    if text.count("{") + text.count("[") > limits.max_depth:
        check_depth(value, limits.max_depth)
    return value


def check_size(raw: str | bytes | bytearray, max_bytes: int) -> None:
    """Raise DocumentTooLargeError when ``raw`` is more than ``max_bytes`` (UTF-8 for text)."""
    size = len(raw)
    if isinstance(raw, str) and size * 4 > max_bytes:
        if size > max_bytes:
            raise DocumentTooLargeError(size, max_bytes)  # at least that many bytes
        size = len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise DocumentTooLargeError(size, max_bytes)


def check_depth(value: Any, max_depth: int) -> None:
    """Raise DepthLimitExceededError when arrays/objects nest deeper than ``max_depth``.

    Iterative, so neither a deep document nor a self-containing Python list can blow the stack.
    A top-level object or array is depth 1.
    """
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise DepthLimitExceededError(max_depth)
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


_OUTSIDE_ALPHABET = re.compile(r"[^A-Za-z0-9+/]")


def decode_base64url(text: str) -> bytes:
    """Decode base64 the way enrich does (Apache commons-codec, URL-safe mode).

    Both alphabets are accepted (``-_`` and ``+/``), padding is optional, decoding stops at the
    first ``=``, characters outside the alphabet are skipped, and a dangling final character
    (6 bits, not a whole byte) is ignored. Never raises for any ``str`` input.
    """
    standard = text.replace("-", "+").replace("_", "/")
    if "=" in standard:
        standard = standard.split("=", 1)[0]
    if len(standard) % 4 != 1:
        # Fast path: a clean string (what trackers send) decodes strictly in one C call.
        try:
            padded = (standard + "=" * (-len(standard) % 4)).encode("ascii")
            return binascii.a2b_base64(padded, strict_mode=True)
        except ValueError:  # binascii.Error, or non-ASCII text: take the lenient path
            pass
    cleaned = _OUTSIDE_ALPHABET.sub("", standard)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def decode_base64url_json(text: str, limits: Limits) -> Any:
    """base64url → UTF-8 (invalid bytes replaced, like enrich's Java String) → JSON."""
    # Base64 is 4/3 the decoded size: refuse huge fields before decoding them.
    if len(text) > limits.max_bytes * 4 // 3 + 4:
        raise DocumentTooLargeError(len(text) * 3 // 4, limits.max_bytes)
    decoded = decode_base64url(text).decode("utf-8", "replace")
    return parse_json(decoded, limits)
