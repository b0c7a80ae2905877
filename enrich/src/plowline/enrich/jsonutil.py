"""Strict JSON parsing and compact printing, as enrich (circe) does it."""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

SDJ = dict[str, Any]

_DECODER: Final = json.JSONDecoder(parse_constant=lambda name: _reject_constant(name))


class JsonError(ValueError):
    """Text that is not strict JSON (RFC 8259), or is nested too deeply."""


def _reject_constant(name: str) -> Any:
    raise JsonError(f"invalid JSON literal {name}")


def parse_json(text: str, max_depth: int = 40) -> Any:
    """Parse strict JSON (no NaN/Infinity, no trailing data) and enforce a nesting limit."""
    try:
        value = orjson.loads(text)  # strict RFC 8259, fast path
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits and deep nesting, which circe accepts or
        # reports differently: ask the standard (strict) decoder for the final word.
        try:
            value = _DECODER.decode(text)
        except JsonError:
            raise
        except RecursionError as exc:
            raise JsonError(f"JSON nesting exceeds the maximum depth {max_depth}") from exc
        except ValueError as exc:
            raise JsonError(str(exc)) from exc
    if (
        isinstance(value, (dict, list))
        and text.count("{") + text.count("[") > max_depth
        and _depth_exceeds(value, max_depth)
    ):
        raise JsonError(f"JSON nesting exceeds the maximum depth {max_depth}")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if _nested(child))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if _nested(child))
    return False


def _nested(value: Any) -> bool:
    return isinstance(value, (dict, list))


def compact(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (circe's ``noSpaces``)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sdj(schema: str, data: Any) -> SDJ:
    """A self-describing JSON object with ``schema`` first."""
    return {"schema": schema, "data": data}
