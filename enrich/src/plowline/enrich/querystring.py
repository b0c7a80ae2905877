"""Querystring parsing with Apache ``URLEncodedUtils`` semantics (Snowplow tracker protocol docs).

Enrich parses ``URI.create("http://localhost/?" + qs)``, so characters a java.net.URI forbids
make the whole payload a collector_payload_format_violation; ``&`` and ``;`` both separate
pairs; ``+`` is a space; ``k`` without ``=`` has no value; empty names are dropped.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_plus

_ILLEGAL: Final = re.compile(
    r'[\x00-\x20"<>\\^`{|}\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
    r"|%(?![0-9A-Fa-f]{2})"
)
_SEPARATORS: Final = re.compile(r"[&;]")
_PREFIX: Final = "http://localhost/?"


class QuerystringError(ValueError):
    """A querystring java.net.URI would reject."""


Pairs = list[tuple[str, str | None]]


def _check(component: str, offset: int, kind: str, full: str) -> None:
    bad = _ILLEGAL.search(component)
    if bad is not None:
        index = len(_PREFIX) + offset + bad.start()
        what = "Malformed escape pair" if bad.group(0).startswith("%") else "Illegal character"
        raise QuerystringError(f"{what} in {kind} at index {index}: {_PREFIX}{full}")


def parse_querystring(querystring: str | None) -> Pairs:
    """Name/value pairs in order (duplicates kept); raise QuerystringError when illegal."""
    if not querystring:
        return []
    query, hash_sign, fragment = querystring.partition("#")
    _check(query, 0, "query", querystring)
    if hash_sign:
        if "#" in fragment:
            index = len(query) + 1 + fragment.index("#")
            raise QuerystringError(
                f"Illegal character in fragment at index {len(_PREFIX) + index}: "
                f"{_PREFIX}{querystring}"
            )
        _check(fragment, len(query) + 1, "fragment", querystring)
    pairs: Pairs = []
    for token in _SEPARATORS.split(query):
        if not token:
            continue
        name, equals, value = token.partition("=")
        decoded_name = _decode(name.strip())
        if not decoded_name:
            continue
        pairs.append((decoded_name, _decode(value.strip()) if equals else None))
    return pairs


def _decode(text: str) -> str:
    if "%" not in text and "+" not in text:
        return text
    return unquote_plus(text, encoding="utf-8", errors="replace")


def to_map(pairs: Pairs) -> dict[str, str | None]:
    """Last value wins, as enrich's ``toMap`` does."""
    return dict(pairs)


def parse_form_pairs(text: str) -> Pairs:
    """Lenient ``a=1&b=2`` parsing (page URL queries, form bodies): no legality check,
    ``+`` is a space, bad escapes are kept as they are, blank values kept as ``""``."""
    pairs: Pairs = []
    for token in text.split("&"):
        if not token:
            continue
        name, _, value = token.partition("=")
        pairs.append((_decode(name), _decode(value)))
    return pairs
