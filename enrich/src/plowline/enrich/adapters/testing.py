"""Test helpers for webhook adapters: send one request through the whole enrich pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from plowline.enrich.badrows import BadRow
from plowline.enrich.context import EnrichContext
from plowline.enrich.event import EnrichedEvent
from plowline.enrich.pipeline import enrich
from plowline.enrich.testing import payload_from_request


@dataclass
class Webhook:
    """Send one request to enrich and read the events or the bad row it makes."""

    ctx: EnrichContext

    def run(
        self, path: str, body: str | None, content_type: str | None = None, query: str = ""
    ) -> list[EnrichedEvent | BadRow]:
        headers = {} if content_type is None else {"Content-Type": content_type}
        method = "GET" if body is None else "POST"
        return enrich(payload_from_request(method, path, query, headers, body), self.ctx)

    def events(
        self, path: str, body: str | None, content_type: str | None = None, query: str = ""
    ) -> list[EnrichedEvent]:
        results = self.run(path, body, content_type, query)
        bad = [r.to_json() for r in results if isinstance(r, BadRow)]
        assert not bad, bad
        return [r for r in results if isinstance(r, EnrichedEvent)]

    def unstruct(
        self, path: str, body: str | None, content_type: str | None = None, query: str = ""
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event in self.events(path, body, content_type, query):
            assert event.unstruct_event is not None
            out.append(event.unstruct_event)
        return out

    def failure(
        self, path: str, body: str | None, content_type: str | None = None, query: str = ""
    ) -> list[dict[str, Any]]:
        """The messages of the single adapter_failures bad row the request must produce."""
        results = self.run(path, body, content_type, query)
        assert len(results) == 1, results
        row = results[0]
        assert isinstance(row, BadRow), row
        assert row.kind == "adapter_failures", row.to_json()
        messages: list[dict[str, Any]] = row.data["failure"]["messages"]
        return messages


def never_crashes(
    webhook: Webhook,
    path: str,
    body: str | None,
    content_type: str | None,
    query: str = "",
    kinds: frozenset[str] = frozenset({"adapter_failures", "schema_violations"}),
) -> None:
    """Any body gives events or bad rows of ``kinds``, never raises."""
    results = webhook.run(path, body, content_type, query)
    assert results
    for result in results:
        if isinstance(result, BadRow):
            assert result.kind in kinds, result.to_json()
            error = webhook.ctx.validator.check(result.schema, result.data)
            assert error is None, (error, result.to_json())
            json.loads(result.to_json())
        else:
            assert isinstance(result, EnrichedEvent)
            result.to_tsv()
