"""Readable one-line reasons for bad rows (snowplow-badrows), shown in `/micro/bad` and the UI."""

from __future__ import annotations

import json
from typing import Any

_LIMIT = 500


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def _iglu_error(error: Any) -> str:
    if not isinstance(error, dict):
        return _short(error)
    kind = error.get("error")
    if kind == "ValidationError":
        parts = [
            f"{r.get('path', '$')}: {r.get('message', '')}"
            for r in error.get("dataReports", []) + error.get("schemaIssues", [])
            if isinstance(r, dict)
        ]
        return "invalid: " + "; ".join(parts) if parts else "invalid"
    if kind == "ResolutionError":
        repos = [
            str(h.get("repository")) for h in error.get("lookupHistory", []) if isinstance(h, dict)
        ]
        return "schema not found (looked in: " + ", ".join(repos) + ")"
    return _short(error)


def message_text(message: Any) -> str:
    """One adapter / schema-violation / enrichment message (the §4.2 variants) as text."""
    if not isinstance(message, dict):
        return _short(message)
    if "enrichment" in message:
        enrichment = message.get("enrichment")
        who = enrichment.get("identifier") if isinstance(enrichment, dict) else None
        return f"enrichment {who or '(unknown)'} failed: {message_text(message.get('message'))}"
    if "schemaKey" in message and "error" in message:
        return f"{message['schemaKey']}: {_iglu_error(message['error'])}"
    if "schemaKey" in message and "schemaCriterion" in message:
        return f"{message['schemaKey']} does not match {message['schemaCriterion']}"
    if "field" in message and "expectation" in message:
        return (
            f"field {message['field']} = {_short(message.get('value'))}: {message['expectation']}"
        )
    if "field" in message and "error" in message:
        return f"field {message['field']} is not JSON: {message['error']}"
    if "json" in message and "error" in message:
        return f"not self-describing JSON: {message['error']} in {_short(message['json'])}"
    if "payloadField" in message:
        value = _short(message.get("value"))
        return f"{message['payloadField']} = {value}: {message.get('expectation', '')}"
    if "error" in message:
        return _short(message["error"])
    return _short(message)


def describe(row: dict[str, Any]) -> list[str]:
    """Readable reasons for one bad-row SDJ; never raises."""
    try:
        schema = str(row.get("schema", ""))
        kind = schema.split("/")[1] if schema.count("/") >= 3 else "bad row"
        data = row.get("data") or {}
        failure = data.get("failure") or {}
        if kind == "size_violation":
            return [
                f"size_violation: {failure.get('actualSizeBytes')} bytes, at most "
                f"{failure.get('maximumAllowedSizeBytes')} allowed ({failure.get('expectation')})"
            ]
        if kind == "collector_payload_format_violation":
            return [f"{kind}: {message_text(failure.get('message'))}"]
        if kind == "generic_error":
            return [f"{kind}: {_short(e)}" for e in failure.get("errors", [])] or [kind]
        if kind.startswith("loader_"):
            return [f"{kind}: {_short(failure)}"]
        messages = failure.get("messages")
        if isinstance(messages, list) and messages:
            return [f"{kind}: {message_text(m)}" for m in messages]
        return [f"{kind}: {_short(failure)}"]
    except Exception as exc:  # a reason must never take the pipeline down
        return [f"unreadable bad row ({type(exc).__name__})"]
