"""A small JSONPath subset shared by the PII, API-request and SQL-query enrichments.

Supported: ``$``, ``.name``, ``['name']``, ``[n]``, ``[*]``, ``.*``. Anything else (filters,
recursive descent, slices) is refused when the configuration is loaded, never at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from plowline.enrich.event import EnrichedEvent
from plowline.enrich.validation import Criterion

Steps = list[str | int | None]
_STEP: Final = re.compile(r"\.([A-Za-z0-9_\-$]+|\*)|\[(\d+|\*)\]|\['([^']*)'\]")


class JsonPathError(ValueError):
    """A JSONPath outside the supported subset."""


def compile_path(path: str) -> Steps:
    """Steps of a simple JSONPath: a name, an index, or None for a wildcard."""
    if not path.startswith("$"):
        raise JsonPathError(f"JSONPath must start with $: {path!r}")
    steps: Steps = []
    pos = 1
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            raise JsonPathError(f"unsupported JSONPath {path!r} at offset {pos}")
        name, index, quoted = match.groups()
        if quoted is not None:
            steps.append(quoted)
        elif index is not None:
            steps.append(None if index == "*" else int(index))
        else:
            steps.append(None if name == "*" else name)
        pos = match.end()
    return steps


def _children(node: Any, step: str | int | None) -> list[tuple[Any, Any]]:
    """(container key, child) pairs a step selects in ``node``."""
    if isinstance(node, dict):
        if step is None:
            return list(node.items())
        return [(step, node[step])] if isinstance(step, str) and step in node else []
    if isinstance(node, list):
        if step is None:
            return list(enumerate(node))
        if isinstance(step, int) and 0 <= step < len(node):
            return [(step, node[step])]
    return []


def select(node: Any, steps: Steps) -> list[Any]:
    """Every value the path matches, in document order."""
    current = [node]
    for step in steps:
        current = [child for item in current for _, child in _children(item, step)]
    return current


def replace(node: Any, steps: Steps, fn: Callable[[str], str]) -> Any:
    """Apply ``fn`` to every string/number the path matches; returns the new node."""
    if not steps:
        if isinstance(node, str):
            return fn(node)
        if isinstance(node, int | float) and not isinstance(node, bool):
            return fn(str(node))
        return node
    for key, child in _children(node, steps[0]):
        node[key] = replace(child, steps[1:], fn)
    return node


def entities(event: EnrichedEvent, field: str) -> list[dict[str, Any]]:
    """The SDJs of ``contexts`` / ``derived_contexts`` / ``unstruct_event``."""
    if field == "contexts":
        return event.contexts
    if field == "derived_contexts":
        return event.derived_contexts
    return [event.unstruct_event] if event.unstruct_event is not None else []


class InputSpec:
    """Where an API/SQL enrichment input comes from: an atomic field or a JSON path."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if "pojo" in spec:
            self.field: str = spec["pojo"]["field"]
            self.json: tuple[Criterion, Steps] | None = None
        else:
            json_spec = spec["json"]
            self.field = json_spec["field"]
            self.json = (
                Criterion(json_spec["schemaCriterion"]),
                compile_path(json_spec["jsonPath"]),
            )

    def value(self, event: EnrichedEvent) -> Any:
        """The input's value for ``event`` (None when absent)."""
        if self.json is None:
            return event.field_text(self.field)
        criterion, steps = self.json
        for entity in entities(event, self.field):
            if criterion.matches(entity["schema"]):
                found = select(entity["data"], steps)
                if found and found[0] is not None:
                    return found[0]
        return None
