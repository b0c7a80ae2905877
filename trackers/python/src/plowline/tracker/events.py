"""Events: each one validates its arguments when built and builds its own wire parameters.

Every check runs in ``__post_init__`` (on the caller's thread), so a bad argument raises
:class:`~plowline.tracker.errors.InvalidEventError` at the call, never in an emitter's worker.
The wire names follow the Snowplow tracker protocol (``e``, ``url``, ``se_ca``, ``ue_px`` ...).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from plowline.tracker.encoding import (
    Number,
    add_contexts,
    add_unstruct_event,
    check_int,
    check_number,
    check_text,
    number_text,
    optional_text,
)
from plowline.tracker.errors import InvalidEventError
from plowline.tracker.self_describing import SelfDescribingJson

SNOWPLOW = "iglu:com.snowplowanalytics.snowplow"
MOBILE_SCREEN_VIEW_SCHEMA = "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0"
LEGACY_SCREEN_VIEW_SCHEMA = f"{SNOWPLOW}/screen_view/jsonschema/1-0-0"
LINK_CLICK_SCHEMA = f"{SNOWPLOW}/link_click/jsonschema/1-0-1"
SUBMIT_FORM_SCHEMA = f"{SNOWPLOW}/submit_form/jsonschema/1-0-0"
CHANGE_FORM_SCHEMA = f"{SNOWPLOW}/change_form/jsonschema/1-0-0"
FOCUS_FORM_SCHEMA = f"{SNOWPLOW}/focus_form/jsonschema/1-0-0"
SITE_SEARCH_SCHEMA = f"{SNOWPLOW}/site_search/jsonschema/1-0-0"
TIMING_SCHEMA = f"{SNOWPLOW}/timing/jsonschema/1-0-0"
ADD_TO_CART_SCHEMA = f"{SNOWPLOW}/add_to_cart/jsonschema/1-0-0"
REMOVE_FROM_CART_SCHEMA = f"{SNOWPLOW}/remove_from_cart/jsonschema/1-0-0"

# Enumerations of the form schemas (submit_form, change_form, focus_form 1-0-0).
NODE_NAMES = frozenset({"INPUT", "TEXTAREA", "SELECT"})
_INPUT_TYPE_NAMES = """button checkbox color date datetime datetime-local email file hidden image
month number password radio range reset search submit tel text time url week"""
INPUT_TYPES = frozenset(_INPUT_TYPE_NAMES.split())
INT32_MAX = 2_147_483_647

ContextLike = SelfDescribingJson | Mapping[str, Any]


def _text_list(name: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidEventError(f"{name} must be a list of strings, got {type(values).__name__}")
    return tuple(check_text(f"{name}[{i}]", v, allow_empty=True) for i, v in enumerate(values))


def _optional_text_list(name: str, values: object) -> tuple[str, ...] | None:
    return None if values is None else _text_list(name, values)


def _enum(name: str, value: object, allowed: frozenset[str]) -> str:
    text = check_text(name, value)
    if text not in allowed:
        raise InvalidEventError(f"{name} must be one of {sorted(allowed)}, got {text!r}")
    return text


def _optional_enum(name: str, value: object, allowed: frozenset[str]) -> str | None:
    return None if value is None else _enum(name, value, allowed)


def _set(event: object, name: str, value: object) -> None:
    """Normalise a field of a frozen dataclass during validation."""
    object.__setattr__(event, name, value)


def _put(params: dict[str, str], key: str, value: str | None) -> None:
    """Add a wire parameter unless it is ``None`` (absent and empty differ on the wire)."""
    if value is not None:
        params[key] = value


def _put_number(params: dict[str, str], key: str, value: Number | None) -> None:
    if value is not None:
        params[key] = number_text(value)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Drop the optional properties that were not given (schemas forbid explicit nulls there)."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Fields every event takes: entities (``contexts``) and an optional true timestamp (ms)."""

    contexts: Sequence[ContextLike] = ()
    true_timestamp_ms: int | None = None

    def __post_init__(self) -> None:
        contexts = self.contexts
        if contexts:  # the common case, no entities, skips the ABC checks below
            if isinstance(contexts, str | Mapping) or not isinstance(contexts, Sequence):
                raise InvalidEventError("contexts must be a list of self-describing JSON objects")
            _set(self, "contexts", tuple(SelfDescribingJson.from_dict(c) for c in contexts))
        elif not isinstance(contexts, tuple | list):
            raise InvalidEventError("contexts must be a list of self-describing JSON objects")
        if self.true_timestamp_ms is not None:
            check_int("true_timestamp_ms", self.true_timestamp_ms, minimum=0)
        self._validate()

    def _validate(self) -> None:
        """Check and normalise the event's own fields (overridden by each event)."""

    def _params(self, encode_base64: bool) -> dict[str, str]:
        raise NotImplementedError

    def wire_events(self, *, encode_base64: bool) -> list[dict[str, str]]:
        """The event-specific wire parameters of each request this event produces, in order."""
        return [self._finish(self._params(encode_base64), encode_base64)]

    def _finish(self, params: dict[str, str], encode_base64: bool) -> dict[str, str]:
        contexts: Sequence[SelfDescribingJson] = self.contexts  # type: ignore[assignment]
        add_contexts(params, contexts, encode_base64=encode_base64)
        if self.true_timestamp_ms is not None:
            params["ttm"] = str(self.true_timestamp_ms)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class PageView(Event):
    """``e=pv``: a web page was viewed."""

    page_url: str
    page_title: str | None = None
    referrer: str | None = None

    def _validate(self) -> None:
        check_text("page_url", self.page_url)
        optional_text("page_title", self.page_title)
        optional_text("referrer", self.referrer)

    def _params(self, encode_base64: bool) -> dict[str, str]:
        params = {"e": "pv", "url": self.page_url}
        _put(params, "page", self.page_title)
        _put(params, "refr", self.referrer)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class PagePing(Event):
    """``e=pp``: the page is still being looked at; offsets are the scroll range since last ping."""

    page_url: str
    page_title: str | None = None
    referrer: str | None = None
    min_x: int
    max_x: int
    min_y: int
    max_y: int

    def _validate(self) -> None:
        check_text("page_url", self.page_url)
        optional_text("page_title", self.page_title)
        optional_text("referrer", self.referrer)
        for name in ("min_x", "max_x", "min_y", "max_y"):
            check_int(name, getattr(self, name))

    def _params(self, encode_base64: bool) -> dict[str, str]:
        params = {"e": "pp", "url": self.page_url}
        _put(params, "page", self.page_title)
        _put(params, "refr", self.referrer)
        params["pp_mix"] = str(self.min_x)
        params["pp_max"] = str(self.max_x)
        params["pp_miy"] = str(self.min_y)
        params["pp_may"] = str(self.max_y)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class Structured(Event):
    """``e=se``: a Google-Analytics-style category/action event."""

    category: str
    action: str
    label: str | None = None
    property: str | None = None
    value: Number | None = None

    def _validate(self) -> None:
        check_text("category", self.category)
        check_text("action", self.action)
        optional_text("label", self.label)
        optional_text("property", self.property)
        if self.value is not None:
            check_number("value", self.value)

    def _params(self, encode_base64: bool) -> dict[str, str]:
        params = {"e": "se", "se_ca": self.category, "se_ac": self.action}
        _put(params, "se_la", self.label)
        _put(params, "se_pr", self.property)
        _put_number(params, "se_va", self.value)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class _SelfDescribingBase(Event):
    """``e=ue``: the event is a self-describing JSON wrapped in ``unstruct_event/1-0-0``."""

    def sdj(self) -> SelfDescribingJson:
        """The event as self-describing JSON."""
        raise NotImplementedError

    def _params(self, encode_base64: bool) -> dict[str, str]:
        params = {"e": "ue"}
        add_unstruct_event(params, self.sdj(), encode_base64=encode_base64)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class SelfDescribing(_SelfDescribingBase):
    """Any event described by your own schema."""

    event: SelfDescribingJson | Mapping[str, Any]

    def _validate(self) -> None:
        _set(self, "event", SelfDescribingJson.from_dict(self.event))

    def sdj(self) -> SelfDescribingJson:
        assert isinstance(self.event, SelfDescribingJson)  # normalised in _validate
        return self.event


@dataclass(frozen=True, kw_only=True, slots=True)
class ScreenView(_SelfDescribingBase):
    """A mobile screen view (``com.snowplowanalytics.mobile/screen_view/1-0-0``, the default)
    or the legacy one (``com.snowplowanalytics.snowplow/screen_view/1-0-0``: name and id only).
    """

    name: str
    id: str | None = None
    variant: Literal["mobile", "legacy"] = "mobile"
    screen_type: str | None = None
    previous_name: str | None = None
    previous_id: str | None = None
    previous_type: str | None = None
    transition_type: str | None = None

    _MOBILE_ONLY: ClassVar[tuple[str, ...]] = (
        "screen_type",
        "previous_name",
        "previous_id",
        "previous_type",
        "transition_type",
    )

    def _validate(self) -> None:
        check_text("name", self.name)
        if self.variant == "mobile":
            if self.id is None:
                raise InvalidEventError("id is required for a mobile screen view (a UUID)")
            _check_uuid("id", self.id)
            if self.previous_id is not None:
                _check_uuid("previous_id", self.previous_id)
            for name in self._MOBILE_ONLY:
                optional_text(name, getattr(self, name))
        elif self.variant == "legacy":
            optional_text("id", self.id)
            given = [n for n in self._MOBILE_ONLY if getattr(self, n) is not None]
            if given:
                raise InvalidEventError(
                    f"the legacy screen_view schema has only name and id; got {given}"
                )
        else:
            raise InvalidEventError(f"variant must be 'mobile' or 'legacy', got {self.variant!r}")

    def sdj(self) -> SelfDescribingJson:
        if self.variant == "legacy":
            return SelfDescribingJson(
                LEGACY_SCREEN_VIEW_SCHEMA, _compact({"name": self.name, "id": self.id})
            )
        data = {
            "name": self.name,
            "id": self.id,
            "type": self.screen_type,
            "previousName": self.previous_name,
            "previousId": self.previous_id,
            "previousType": self.previous_type,
            "transitionType": self.transition_type,
        }
        return SelfDescribingJson(MOBILE_SCREEN_VIEW_SCHEMA, _compact(data))


def _check_uuid(name: str, value: object) -> None:
    text = check_text(name, value)
    try:
        uuid.UUID(text)
    except ValueError:
        raise InvalidEventError(f"{name} must be a UUID, got {text!r}") from None


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkClick(_SelfDescribingBase):
    """A link was followed (``link_click/1-0-1``)."""

    target_url: str
    element_id: str | None = None
    element_classes: Sequence[str] | None = None
    element_target: str | None = None
    element_content: str | None = None

    def _validate(self) -> None:
        check_text("target_url", self.target_url)
        optional_text("element_id", self.element_id)
        _set(self, "element_classes", _optional_text_list("element_classes", self.element_classes))
        optional_text("element_target", self.element_target)
        optional_text("element_content", self.element_content)

    def sdj(self) -> SelfDescribingJson:
        data = {
            "targetUrl": self.target_url,
            "elementId": self.element_id,
            "elementClasses": None if self.element_classes is None else list(self.element_classes),
            "elementTarget": self.element_target,
            "elementContent": self.element_content,
        }
        return SelfDescribingJson(LINK_CLICK_SCHEMA, _compact(data))


@dataclass(frozen=True, kw_only=True, slots=True)
class FormElement:
    """One field of a submitted form (``submit_form/1-0-0`` ``elements[]``)."""

    name: str
    value: str | None
    node_name: str
    type: str | None = None

    def __post_init__(self) -> None:
        check_text("elements[].name", self.name, allow_empty=True)
        optional_text("elements[].value", self.value)
        _enum("elements[].node_name", self.node_name, NODE_NAMES)
        _optional_enum("elements[].type", self.type, INPUT_TYPES)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "value": self.value, "nodeName": self.node_name}
        if self.type is not None:
            data["type"] = self.type
        return data


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitForm(_SelfDescribingBase):
    """A form was submitted (``submit_form/1-0-0``)."""

    form_id: str
    form_classes: Sequence[str] | None = None
    elements: Sequence[FormElement] | None = None

    def _validate(self) -> None:
        check_text("form_id", self.form_id, allow_empty=True)
        _set(self, "form_classes", _optional_text_list("form_classes", self.form_classes))
        if self.elements is not None:
            if not isinstance(self.elements, Sequence) or not all(
                isinstance(e, FormElement) for e in self.elements
            ):
                raise InvalidEventError("elements must be a list of FormElement")
            _set(self, "elements", tuple(self.elements))

    def sdj(self) -> SelfDescribingJson:
        data = {
            "formId": self.form_id,
            "formClasses": None if self.form_classes is None else list(self.form_classes),
            "elements": None if self.elements is None else [e.to_dict() for e in self.elements],
        }
        return SelfDescribingJson(SUBMIT_FORM_SCHEMA, _compact(data))


@dataclass(frozen=True, kw_only=True, slots=True)
class _FormFieldEvent(_SelfDescribingBase):
    """change_form and focus_form: the same fields under two schemas; ``value`` may be ``None``.

    The schemas name the input type differently (``type`` vs ``elementType``).
    """

    _SCHEMA: ClassVar[str]
    _TYPE_KEY: ClassVar[str]

    form_id: str
    element_id: str
    node_name: str
    value: str | None
    element_type: str | None = None
    element_classes: Sequence[str] | None = None

    def _validate(self) -> None:
        check_text("form_id", self.form_id, allow_empty=True)
        check_text("element_id", self.element_id, allow_empty=True)
        _enum("node_name", self.node_name, NODE_NAMES)
        optional_text("value", self.value)
        _optional_enum("element_type", self.element_type, INPUT_TYPES)
        _set(self, "element_classes", _optional_text_list("element_classes", self.element_classes))

    def sdj(self) -> SelfDescribingJson:
        data: dict[str, Any] = {
            "formId": self.form_id,
            "elementId": self.element_id,
            "nodeName": self.node_name,
        }
        if self.element_type is not None:
            data[self._TYPE_KEY] = self.element_type
        if self.element_classes is not None:
            data["elementClasses"] = list(self.element_classes)
        data["value"] = self.value  # required by both schemas, null allowed
        return SelfDescribingJson(self._SCHEMA, data)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeForm(_FormFieldEvent):
    """A form field's value changed (``change_form/1-0-0``).

    ``element_type`` is the input type (``"text"``, ``"email"`` ...), sent as ``type``.
    """

    _SCHEMA = CHANGE_FORM_SCHEMA
    _TYPE_KEY = "type"


@dataclass(frozen=True, kw_only=True, slots=True)
class FocusForm(_FormFieldEvent):
    """A form field received focus (``focus_form/1-0-0``); ``element_type`` is ``elementType``."""

    _SCHEMA = FOCUS_FORM_SCHEMA
    _TYPE_KEY = "elementType"


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteSearch(_SelfDescribingBase):
    """An internal site search (``site_search/1-0-0``)."""

    terms: Sequence[str]
    filters: Mapping[str, str | bool] | None = None
    total_results: int | None = None
    page_results: int | None = None

    def _validate(self) -> None:
        terms = _text_list("terms", self.terms)
        if not terms:
            raise InvalidEventError("terms must hold at least one search term")
        _set(self, "terms", terms)
        if self.filters is not None:
            if not isinstance(self.filters, Mapping):
                raise InvalidEventError("filters must be a mapping of name to string or bool")
            for key, value in self.filters.items():
                check_text("filters key", key, allow_empty=True)
                if not isinstance(value, str | bool):
                    raise InvalidEventError(f"filters[{key!r}] must be a string or a bool")
                if isinstance(value, str):
                    check_text(f"filters[{key!r}]", value, allow_empty=True)
            _set(self, "filters", dict(self.filters))
        for name in ("total_results", "page_results"):
            value = getattr(self, name)
            if value is not None and check_int(name, value, minimum=0) > INT32_MAX:
                raise InvalidEventError(f"{name} must be <= {INT32_MAX}")

    def sdj(self) -> SelfDescribingJson:
        data = {
            "terms": list(self.terms),
            "filters": None if self.filters is None else dict(self.filters),
            "totalResults": self.total_results,
            "pageResults": self.page_results,
        }
        return SelfDescribingJson(SITE_SEARCH_SCHEMA, _compact(data))


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing(_SelfDescribingBase):
    """A user timing (``timing/1-0-0``), typically milliseconds."""

    category: str
    variable: str
    timing: Number
    label: str | None = None

    def _validate(self) -> None:
        check_text("category", self.category, allow_empty=True)
        check_text("variable", self.variable, allow_empty=True)
        check_number("timing", self.timing)
        optional_text("label", self.label)

    def sdj(self) -> SelfDescribingJson:
        data = {
            "category": self.category,
            "variable": self.variable,
            "timing": _json_number(self.timing),
            "label": self.label,
        }
        return SelfDescribingJson(TIMING_SCHEMA, _compact(data))


def _json_number(value: Number) -> int | float:
    """JSON has no Decimal: send it as the float it denotes."""
    return float(value) if not isinstance(value, int | float) else value


@dataclass(frozen=True, kw_only=True, slots=True)
class TransactionItem:
    """One line of a legacy ecommerce transaction (sent as its own ``e=ti`` event)."""

    sku: str
    price: Number
    quantity: int
    name: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        check_text("items[].sku", self.sku)
        check_number("items[].price", self.price)
        check_int("items[].quantity", self.quantity)
        optional_text("items[].name", self.name)
        optional_text("items[].category", self.category)


@dataclass(frozen=True, kw_only=True, slots=True)
class EcommerceTransaction(Event):
    """A legacy ecommerce transaction: one ``e=tr`` event, then one ``e=ti`` per item.

    Every wire event carries the transaction's entities and true timestamp, and each item
    repeats the order id and currency, as the Snowplow trackers do.
    """

    order_id: str
    total_value: Number
    affiliation: str | None = None
    tax_value: Number | None = None
    shipping: Number | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    currency: str | None = None
    items: Sequence[TransactionItem] = field(default_factory=tuple)

    def _validate(self) -> None:
        check_text("order_id", self.order_id)
        check_number("total_value", self.total_value)
        for name in ("tax_value", "shipping"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name))
        for name in ("affiliation", "city", "state", "country", "currency"):
            optional_text(name, getattr(self, name))
        items: object = self.items
        if not isinstance(items, list | tuple) or not all(
            isinstance(i, TransactionItem) for i in items
        ):
            raise InvalidEventError("items must be a list of TransactionItem")
        _set(self, "items", tuple(items))

    def wire_events(self, *, encode_base64: bool) -> list[dict[str, str]]:
        events = [self._finish(self._params(encode_base64), encode_base64)]
        for item in self.items:
            events.append(self._finish(self._item_params(item), encode_base64))
        return events

    def _params(self, encode_base64: bool) -> dict[str, str]:
        params = {"e": "tr", "tr_id": self.order_id, "tr_tt": number_text(self.total_value)}
        _put(params, "tr_af", self.affiliation)
        _put_number(params, "tr_tx", self.tax_value)
        _put_number(params, "tr_sh", self.shipping)
        _put(params, "tr_ci", self.city)
        _put(params, "tr_st", self.state)
        _put(params, "tr_co", self.country)
        _put(params, "tr_cu", self.currency)
        return params

    def _item_params(self, item: TransactionItem) -> dict[str, str]:
        params = {
            "e": "ti",
            "ti_id": self.order_id,
            "ti_sk": item.sku,
            "ti_pr": number_text(item.price),
            "ti_qu": str(item.quantity),
        }
        _put(params, "ti_nm", item.name)
        _put(params, "ti_ca", item.category)
        _put(params, "ti_cu", self.currency)
        return params


@dataclass(frozen=True, kw_only=True, slots=True)
class _CartEvent(_SelfDescribingBase):
    sku: str
    quantity: Number
    name: str | None = None
    category: str | None = None
    unit_price: Number | None = None
    currency: str | None = None

    _SCHEMA: ClassVar[str] = ""

    def _validate(self) -> None:
        check_text("sku", self.sku)
        check_number("quantity", self.quantity)
        optional_text("name", self.name)
        optional_text("category", self.category)
        if self.unit_price is not None:
            check_number("unit_price", self.unit_price)
        optional_text("currency", self.currency)

    def sdj(self) -> SelfDescribingJson:
        data = {
            "sku": self.sku,
            "quantity": _json_number(self.quantity),
            "name": self.name,
            "category": self.category,
            "unitPrice": None if self.unit_price is None else _json_number(self.unit_price),
            "currency": self.currency,
        }
        return SelfDescribingJson(self._SCHEMA, _compact(data))


@dataclass(frozen=True, kw_only=True, slots=True)
class AddToCart(_CartEvent):
    """Self-describing ecommerce: an item went into the cart (``add_to_cart/1-0-0``)."""

    _SCHEMA: ClassVar[str] = ADD_TO_CART_SCHEMA


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoveFromCart(_CartEvent):
    """Self-describing ecommerce: an item left the cart (``remove_from_cart/1-0-0``)."""

    _SCHEMA: ClassVar[str] = REMOVE_FROM_CART_SCHEMA
