"""The language-neutral event and subject shapes (spec/vectors/FORMAT.md) as Python objects.

The conformance driver and the shared test vectors describe calls as data, e.g.
``{"type": "page_view", "page_url": "https://a.example/"}``; these functions turn such data into
this package's events, with the same clear errors as the typed API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plowline.tracker.errors import InvalidEventError
from plowline.tracker.events import (
    AddToCart,
    ChangeForm,
    EcommerceTransaction,
    Event,
    FocusForm,
    FormElement,
    LinkClick,
    PagePing,
    PageView,
    RemoveFromCart,
    ScreenView,
    SelfDescribing,
    SiteSearch,
    Structured,
    SubmitForm,
    Timing,
    TransactionItem,
)
from plowline.tracker.subject import Subject


def _build(factory: Callable[..., Any], what: str, fields: Mapping[str, Any]) -> Any:
    try:
        return factory(**fields)
    except TypeError as error:  # unknown or missing keyword: say it in the data's terms
        message = str(error).split("__init__() ", 1)[-1]
        raise InvalidEventError(f"{what}: {message}") from None


def _list_of(factory: Callable[..., Any], what: str, values: object) -> list[Any] | object:
    if not isinstance(values, list):
        return values  # let the event's own validation explain the wrong type
    items = []
    for index, value in enumerate(values):
        if not isinstance(value, Mapping):
            raise InvalidEventError(f"{what}[{index}] must be an object")
        items.append(_build(factory, f"{what}[{index}]", value))
    return items


def _submit_form(fields: dict[str, Any]) -> Event:
    if "elements" in fields:
        fields["elements"] = _list_of(FormElement, "elements", fields["elements"])
    return SubmitForm(**fields)


def _transaction(fields: dict[str, Any]) -> Event:
    if "items" in fields:
        fields["items"] = _list_of(TransactionItem, "items", fields["items"])
    return EcommerceTransaction(**fields)


EVENT_TYPES: dict[str, Callable[..., Event]] = {
    "page_view": PageView,
    "page_ping": PagePing,
    "structured": Structured,
    "self_describing": SelfDescribing,
    "screen_view": ScreenView,
    "link_click": LinkClick,
    "submit_form": lambda **f: _submit_form(f),
    "change_form": ChangeForm,
    "focus_form": FocusForm,
    "site_search": SiteSearch,
    "timing": Timing,
    "ecommerce_transaction": lambda **f: _transaction(f),
    "add_to_cart": AddToCart,
    "remove_from_cart": RemoveFromCart,
}
"""Every ``event.type`` this tracker understands, mapped to a builder taking the other keys."""


def event_from_neutral(spec: Mapping[str, Any]) -> Event:
    """Build an event from ``{"type": ..., <keys>}``; InvalidEventError when it does not fit."""
    if not isinstance(spec, Mapping):
        raise InvalidEventError(f"an event must be an object, got {type(spec).__name__}")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise InvalidEventError(f"unknown event type {kind!r}; known: {sorted(EVENT_TYPES)}")
    fields = {k: v for k, v in spec.items() if k != "type"}
    if not all(isinstance(k, str) for k in fields):
        raise InvalidEventError("event keys must be strings")
    result: Event = _build(EVENT_TYPES[kind], kind, fields)
    return result


def subject_from_neutral(spec: Mapping[str, Any] | None) -> Subject | None:
    """Build a Subject from the neutral subject keys (``None`` or ``{}`` means no subject)."""
    if not spec:
        return None
    if not isinstance(spec, Mapping):
        raise InvalidEventError(f"a subject must be an object, got {type(spec).__name__}")
    fields = dict(spec)
    for key in ("screen_resolution", "viewport"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    result: Subject = _build(Subject, "subject", fields)
    return result
