"""Turn a resolved Iglu schema into a fast compiled validator (jsonschema-rs, draft 4).

Before compiling, the schema's references are checked here, iteratively:

* only local references (``#`` and ``#/json/pointer``) are allowed, plus the draft-04
  meta-schema that jsonschema-rs carries: it would otherwise try to fetch remote ones over the
  network while compiling;
* a loop of ``$ref`` / ``allOf`` / ``anyOf`` / ``oneOf`` / ``not`` / schema ``dependencies`` that
  comes back to the same instance without descending into it is a ``SchemaRefCycleError``
  (a validator following it would never terminate). Recursion through ``properties`` or
  ``items`` is fine: it descends into the instance, whose depth is bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import jsonschema_rs
from plowline.spec.errors import InvalidSchemaError, SchemaRefCycleError
from plowline.spec.iglu import SchemaKey

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN[1:-1])  # used with fullmatch: Python's "$" allows a final \n


def _is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


# Snowplow validates with networknt's draft-4 meta-schema, whose built-in formats include
# "uuid" (used by web_page, client_session...); jsonschema-rs only knows it from 2019-09 on.
FORMATS = {"uuid": _is_uuid}

# Keywords whose schemas apply to the same instance as their parent (no descent).
_SAME_INSTANCE_ARRAYS = ("allOf", "anyOf", "oneOf")
# Keywords holding one schema / a map of schemas / one-or-list of schemas.
_ONE_SCHEMA = ("not", "additionalItems", "additionalProperties")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")


# Documents jsonschema-rs carries itself (no network): the draft-04 meta-schema, which
# Iglu's self-describing meta-schema references.
BUILTIN_REFS = frozenset({"http://json-schema.org/draft-04/schema"})


def _refuse_retrieval(uri: str) -> Any:
    raise ValueError(f"remote $ref {uri} is not fetched")


class CompiledSchema:
    """A schema ready to validate: ``is_valid`` is the fast yes/no path, ``iter_errors`` gives
    the detailed errors (only asked for invalid data)."""

    __slots__ = ("_detailed", "is_valid")

    def __init__(self, fast: jsonschema_rs.Validator, detailed: jsonschema_rs.Validator) -> None:
        self.is_valid: Callable[[Any], bool] = fast.is_valid
        self._detailed = detailed

    def iter_errors(self, instance: Any) -> Iterator[jsonschema_rs.ValidationError]:
        return self._detailed.iter_errors(instance)


def compile_schema(key: SchemaKey | None, schema: dict[str, Any]) -> CompiledSchema:
    """A draft-4 validator for ``schema``; raises InvalidSchemaError (or SchemaRefCycleError)."""
    check_references(key, schema)
    # "$schema" names Iglu's meta-schema, unknown to jsonschema-rs; "self" is Iglu metadata.
    body = {k: v for k, v in schema.items() if k not in ("$schema", "self")}
    detailed = _draft4(key, body)
    # The fast path checks "uuid" with a pattern, in Rust, instead of calling back into Python
    # for every UUID; errors still come from the detailed validator, which says "format".
    fast_body = _uuid_format_as_pattern(body)
    fast = detailed if fast_body is body else _draft4(key, fast_body)
    return CompiledSchema(fast, detailed)


def _draft4(key: SchemaKey | None, body: dict[str, Any]) -> jsonschema_rs.Validator:
    try:
        return jsonschema_rs.Draft4Validator(
            body,
            formats=FORMATS,
            validate_formats=True,
            retriever=_refuse_retrieval,
        )
    except jsonschema_rs.ValidationError as exc:
        raise InvalidSchemaError(key, [(json_path(exc.instance_path), exc.message)]) from None
    except (ValueError, jsonschema_rs.ReferencingError, RecursionError) as exc:
        raise InvalidSchemaError(key, [("$", str(exc).splitlines()[0])]) from None


def _uuid_format_as_pattern(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` where each schema ``{"format": "uuid"}`` (without its own pattern)
    uses the equivalent pattern instead; ``body`` itself when there is none."""
    if '"uuid"' not in json.dumps(body):
        return body
    copy: dict[str, Any] = json.loads(json.dumps(body))
    todo: list[tuple[Any, tuple[str, ...]]] = [(copy, ())]
    while todo:
        node, pointer = todo.pop()
        if not isinstance(node, dict):
            continue
        if node.get("format") == "uuid" and "pattern" not in node:
            del node["format"]
            node["pattern"] = UUID_PATTERN
        todo.extend((child, p) for child, p, _ in _children(node, pointer))
    return copy


def _children(
    node: dict[str, Any], pointer: tuple[str, ...]
) -> Iterator[tuple[Any, tuple[str, ...], bool]]:
    """(subschema, its pointer, applies to the same instance?) for every schema position."""
    for keyword in _SAME_INSTANCE_ARRAYS:
        items = node.get(keyword)
        if isinstance(items, list):
            for i, child in enumerate(items):
                yield child, (*pointer, keyword, str(i)), True
    for keyword in _ONE_SCHEMA:
        child = node.get(keyword)
        if isinstance(child, dict):
            yield child, (*pointer, keyword), keyword == "not"
    items = node.get("items")
    if isinstance(items, dict):
        yield items, (*pointer, "items"), False
    elif isinstance(items, list):
        for i, child in enumerate(items):
            yield child, (*pointer, "items", str(i)), False
    for keyword in _SCHEMA_MAPS:
        mapping = node.get(keyword)
        if isinstance(mapping, dict):
            for name, child in mapping.items():
                # A schema-valued dependency applies to the same object; definitions apply to
                # nothing by themselves (only through $ref).
                yield child, (*pointer, keyword, name), keyword == "dependencies"


def _resolve_pointer(schema: dict[str, Any], ref: str) -> tuple[tuple[str, ...], Any] | None:
    """Target of a local ``#...`` reference, or None when it does not exist."""
    fragment = unquote(ref[1:])
    if fragment == "":
        return (), schema
    if not fragment.startswith("/"):
        return None
    tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in fragment[1:].split("/"))
    node: Any = schema
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return tokens, node


def check_references(key: SchemaKey | None, schema: dict[str, Any]) -> None:
    """Raise InvalidSchemaError for non-local or dangling ``$ref`` and SchemaRefCycleError for
    reference loops on one instance. Iterative: any nesting depth is safe."""
    nodes: dict[tuple[str, ...], dict[str, Any]] = {}
    same_instance: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    issues: list[tuple[str, str]] = []
    todo: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while todo:
        node, pointer = todo.pop()
        if not isinstance(node, dict) or pointer in nodes:
            continue
        nodes[pointer] = node
        edges = same_instance.setdefault(pointer, [])
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.split("#", 1)[0] not in BUILTIN_REFS:
            if not ref.startswith("#"):
                issues.append(
                    (
                        pointer_path(pointer),
                        f"$ref {ref!r} is not local; only '#...' "
                        "references inside the schema are supported",
                    )
                )
            else:
                target = _resolve_pointer(schema, ref)
                if target is None:
                    issues.append((pointer_path(pointer), f"$ref {ref!r} points to nothing"))
                elif isinstance(target[1], dict):
                    edges.append(target[0])
                    todo.append((target[1], target[0]))
                else:
                    issues.append((pointer_path(pointer), f"$ref {ref!r} is not a schema"))
        for child, child_pointer, same in _children(node, pointer):
            if same and isinstance(child, dict):
                edges.append(child_pointer)
            todo.append((child, child_pointer))
    if issues:
        raise InvalidSchemaError(key, issues)
    cycle = _find_cycle(same_instance)
    if cycle is not None:
        loop = " -> ".join(pointer_path(p) for p in cycle)
        raise SchemaRefCycleError(
            key, [(pointer_path(cycle[0]), f"reference loop on the same instance: {loop}")]
        )


def _find_cycle(
    graph: dict[tuple[str, ...], list[tuple[str, ...]]],
) -> list[tuple[str, ...]] | None:
    """A cycle in ``graph`` as a list of nodes (first repeated last), or None. Iterative DFS."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for start in graph:
        if colour[start] != white:
            continue
        colour[start] = grey
        path = [start]
        stack = [iter(graph[start])]
        while stack:
            advanced = False
            for nxt in stack[-1]:
                state = colour.get(nxt, white)
                if state == grey:
                    return [*path[path.index(nxt) :], nxt]
                if state == white:
                    colour[nxt] = grey
                    path.append(nxt)
                    stack.append(iter(graph.get(nxt, [])))
                    advanced = True
                    break
            if not advanced:
                colour[path.pop()] = black
                stack.pop()
    return None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Any) -> str:
    """``["data", 0, "a b"]`` → ``$.data[0]['a b']`` (the JSONPath style of Iglu reports)."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


def pointer_path(pointer: tuple[str, ...]) -> str:
    """A schema location as a JSONPath (``("allOf", "0")`` → ``$.allOf[0]``)."""
    return json_path(int(t) if t.isdigit() else t for t in pointer)
