"""Mailchimp webhook ``/com.mailchimp/v1`` (enrich ``adapters/registry/MailchimpAdapter.scala``).

A form POST (``type=subscribe&fired_at=...&data[merges][EMAIL]=...``) becomes one event; the
bracketed form keys nest (``data[merges][EMAIL]`` -> ``{"data": {"merges": {"EMAIL": ...}}}``)
and ``fired_at`` (``yyyy-MM-dd HH:mm:ss``, UTC) becomes a JSON Schema date-time. Schemas:
``iglu:com.mailchimp/<name>/jsonschema/1-0-0`` (Iglu Central).
"""

from __future__ import annotations

import re
from typing import Any, Final

from plowline.enrich.adapters.common import (
    check_body,
    data_params,
    lookup_schema,
    parse_form,
    raw_event,
    reformat_datetime,
)
from plowline.enrich.context import EnrichContext
from plowline.enrich.querystring import Pairs, to_map
from plowline.enrich.raw import AdapterFailure, RawEvent, input_data
from plowline.spec.collector_payload import CollectorPayload

VENDOR: Final = "com.mailchimp"
TRACKER: Final = "com.mailchimp-v1"
CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
SCHEMAS: Final = {
    "subscribe": "iglu:com.mailchimp/subscribe/jsonschema/1-0-0",
    "unsubscribe": "iglu:com.mailchimp/unsubscribe/jsonschema/1-0-0",
    "campaign": "iglu:com.mailchimp/campaign_sending_status/jsonschema/1-0-0",
    "cleaned": "iglu:com.mailchimp/cleaned_email/jsonschema/1-0-0",
    "upemail": "iglu:com.mailchimp/email_address_change/jsonschema/1-0-0",
    "profile": "iglu:com.mailchimp/profile_update/jsonschema/1-0-0",
}
_KEY_SPLIT: Final = re.compile(r"\]?(?:\[|\])")


def to_keys(form_key: str) -> list[str]:
    """``data[merges][EMAIL]`` -> ``["data", "merges", "EMAIL"]`` (Java ``split``: trailing
    empty parts dropped)."""
    keys = _KEY_SPLIT.split(form_key)
    while keys and keys[-1] == "":
        keys.pop()
    return keys or [form_key]


def _merge(target: dict[str, Any], keys: list[str], value: str) -> None:
    head, rest = keys[0], keys[1:]
    if not rest:
        target[head] = value
        return
    child = target.get(head)
    if not isinstance(child, dict):
        child = {}
        target[head] = child
    _merge(child, rest, value)


def nest(params: dict[str, str | None]) -> Any:
    """The nested JSON of the parameters with a value (``mergeJsons(toJsons(...))``)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is not None:
            _merge(out, to_keys(key), value)
    return out or None


def mailchimp(
    payload: CollectorPayload, pairs: Pairs, ctx: EnrichContext
) -> list[RawEvent] | AdapterFailure:
    body = check_body(payload, CONTENT_TYPE)
    if isinstance(body, AdapterFailure):
        return body
    form = parse_form(body)
    event_type = form.get("type")
    if event_type is None:
        return AdapterFailure(
            [input_data("body", body, "no `type` parameter provided: cannot determine event type")]
        )
    schema = lookup_schema(event_type, SCHEMAS)
    if isinstance(schema, dict):
        return AdapterFailure([schema])
    fired_at = form.get("fired_at")
    if fired_at is not None:
        form["fired_at"] = reformat_datetime(fired_at, "%Y-%m-%d %H:%M:%S")
    params = to_map(pairs) | form
    return [raw_event(payload, VENDOR, "v1", TRACKER, params, schema, nest(data_params(params)))]
