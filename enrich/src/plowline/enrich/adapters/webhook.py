"""Helpers shared by webhook adapters (enrich ``Adapter.toUnstructEventParams``)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl

from plowline.enrich.jsonutil import compact

UNSTRUCT: Final = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
# Querystring parameters a webhook request may set on the event itself.
ACCEPTED_QUERY_PARAMETERS: Final = ("nuid", "aid", "cv", "eid", "ttm", "url")


def unstruct_event_params(
    tracker: str, query: dict[str, str | None], schema: str, data: Any, platform: str
) -> dict[str, str | None]:
    """Parameters of one ``e=ue`` event wrapping ``{schema, data}``."""
    params: dict[str, str | None] = {
        "tv": tracker,
        "e": "ue",
        "p": query.get("p") or platform,
        "ue_pr": compact({"schema": UNSTRUCT, "data": {"schema": schema, "data": data}}),
    }
    for name in ACCEPTED_QUERY_PARAMETERS:
        if query.get(name) is not None:
            params[name] = query[name]
    return params


def parse_form(body: str) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (last value wins)."""
    return dict(parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="replace"))


def media_type(content_type: str | None) -> str | None:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower()
