"""JSONPath for the PII, API-request and SQL-query enrichments, through ``jsonpath-ng``.

Snowplow's enrich evaluates these paths with Jayway JsonPath, so configs use its syntax: dotted
and bracket names, unions (``$.['clientId', 'userId']``, ``$.data.['email', 'ip_opt']``),
indexes, slices, wildcards, recursive descent and filters. ``jsonpath-ng`` (its ``ext``
parser) reads all of these; a path it cannot parse is refused when the configuration is
loaded, never at run time. See enrich/README.md ("JSONPath") for why this library.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JSONPathError as _LibraryError
from jsonpath_ng.ext.parser import parse as _parse
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.validation import Criterion

Steps = JSONPath


class JsonPathError(ValueError):
    """A JSONPath that cannot be parsed."""


@lru_cache(maxsize=1024)
def compile_path(path: str) -> Steps:
    """The compiled JSONPath (configs repeat paths: parse each once)."""
    if not path.startswith("$"):
        raise JsonPathError(f"JSONPath must start with $: {path!r}")
    try:
        return _parse(path)
    except (_LibraryError, ValueError, TypeError, IndexError) as exc:
        raise JsonPathError(f"unsupported JSONPath {path!r}: {exc}") from exc


def select(node: Any, steps: Steps) -> list[Any]:
    """Every value the path matches, in document order."""
    return [match.value for match in steps.find(node)]


def replace(node: Any, steps: Steps, fn: Callable[[str], str]) -> Any:
    """Apply ``fn`` to every string/number the path matches; returns the new node.

    Objects, arrays, booleans and nulls that a path matches are left as they are.
    """
    for match in steps.find(node):
        value = match.value
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        node = match.full_path.update(node, fn(value if isinstance(value, str) else str(value)))
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
