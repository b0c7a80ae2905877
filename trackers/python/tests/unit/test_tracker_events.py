"""The typed API: what each event puts on the wire, and bad input refused at the call."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from plowline.tracker import (
    TRACKER_VERSION,
    AddToCart,
    BackgroundEmitter,
    ChangeForm,
    ConfigurationError,
    EcommerceTransaction,
    EmitterClosedError,
    Event,
    FocusForm,
    FormElement,
    InvalidEventError,
    LinkClick,
    ManualClock,
    PagePing,
    PageView,
    RemoveFromCart,
    RetryPolicy,
    ScreenView,
    SelfDescribing,
    SelfDescribingJson,
    SiteSearch,
    Structured,
    Subject,
    SubmitForm,
    SyncEmitter,
    Timing,
    Tracker,
    TransactionItem,
    seeded_event_ids,
)
from plowline.tracker.clock import seeded_event_id
from plowline.tracker.neutral import event_from_neutral, subject_from_neutral

SCHEMA = "iglu:com.acme/thing/jsonschema/1-0-0"
SCREEN_ID = "a7e32d70-8f4d-49e2-9127-d8e1278cdf20"


class ListEmitter:
    """Collects payloads in memory: payload building is tested without any I/O."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, str]] = []
        self.closed = False

    def input(self, payload: dict[str, str]) -> None:
        if self.closed:
            raise EmitterClosedError("closed")
        self.payloads.append(payload)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> bool:
        self.closed = True
        return True


def _tracker(**kwargs: Any) -> tuple[Tracker, ListEmitter]:
    emitter = ListEmitter()
    options: dict[str, Any] = {
        "namespace": "ns",
        "app_id": "app",
        "clock": ManualClock(1_000),
        "event_id_factory": seeded_event_ids(7),
        "encode_base64": False,
    }
    options.update(kwargs)
    return Tracker(emitter, **options), emitter


def _ue(payload: dict[str, str]) -> Any:
    wrapper = json.loads(payload["ue_pr"])
    assert (
        wrapper["schema"] == "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
    )
    return wrapper["data"]


# -- standard parameters -------------------------------------------------------------------


def test_standard_parameters_and_injected_clock_and_ids() -> None:
    tracker, emitter = _tracker(platform="srv")
    ids = tracker.track(PageView(page_url="https://a.example/"))
    assert ids == [seeded_event_id(7, 0)]
    assert emitter.payloads == [
        {
            "e": "pv",
            "url": "https://a.example/",
            "tv": TRACKER_VERSION,
            "p": "srv",
            "tna": "ns",
            "aid": "app",
            "eid": "00000007-0000-4000-8000-000000000000",
            "dtm": "1000",
        }
    ]


def test_namespace_and_app_id_are_optional() -> None:
    tracker, emitter = _tracker(namespace=None, app_id=None)
    tracker.track(PageView(page_url="u"))
    assert "tna" not in emitter.payloads[0]
    assert "aid" not in emitter.payloads[0]


def test_subject_per_call_adds_to_the_tracker_subject() -> None:
    tracker, emitter = _tracker(subject=Subject(user_id="u1", language="en"))
    tracker.track(PageView(page_url="u"), subject=Subject(user_id="u2", viewport=(3, 4)))
    tracker.track(PageView(page_url="u"))
    first, second = emitter.payloads
    assert (first["uid"], first["lang"], first["vp"]) == ("u2", "en", "3x4")
    assert (second["uid"], second["lang"], "vp" in second) == ("u1", "en", False)


def test_subject_wire_names() -> None:
    subject = Subject(
        user_id="u",
        domain_user_id="d",
        network_user_id="n",
        screen_resolution=(1, 2),
        viewport=(3, 4),
        color_depth=24,
        timezone="Europe/Berlin",
        language="de",
        ip_address="203.0.113.1",
        useragent="UA",
        session_id="s",
        session_index=2,
    )
    assert subject.wire_params() == {
        "uid": "u",
        "duid": "d",
        "tnuid": "n",
        "res": "1x2",
        "vp": "3x4",
        "cd": "24",
        "tz": "Europe/Berlin",
        "lang": "de",
        "ip": "203.0.113.1",
        "ua": "UA",
        "sid": "s",
        "vid": "2",
    }


def test_true_timestamp_and_contexts_on_any_event() -> None:
    tracker, emitter = _tracker()
    context = SelfDescribingJson(SCHEMA, {"a": [1, {"b": None}]})
    tracker.track(Structured(category="c", action="a", contexts=[context], true_timestamp_ms=5))
    payload = emitter.payloads[0]
    assert payload["ttm"] == "5"
    assert json.loads(payload["co"]) == {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
        "data": [{"schema": SCHEMA, "data": {"a": [1, {"b": None}]}}],
    }


def test_base64_uses_cx_and_ue_px() -> None:
    tracker, emitter = _tracker(encode_base64=True)
    tracker.track(SelfDescribing(event={"schema": SCHEMA, "data": {"ü": "✓"}}, contexts=[
        {"schema": SCHEMA, "data": {}}
    ]))  # fmt: skip
    payload = emitter.payloads[0]
    assert "co" not in payload
    assert "ue_pr" not in payload
    assert "-" in base64.urlsafe_b64encode(b"\xfb\xff").decode()  # sanity: URL-safe alphabet
    event = json.loads(base64.urlsafe_b64decode(payload["ue_px"]))
    assert event["data"] == {"schema": SCHEMA, "data": {"ü": "✓"}}
    assert json.loads(base64.urlsafe_b64decode(payload["cx"]))["data"][0]["schema"] == SCHEMA


# -- each event's own parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            PageView(page_url="u", page_title="t", referrer="r"),
            {"e": "pv", "url": "u", "page": "t", "refr": "r"},
        ),
        (
            PagePing(page_url="u", min_x=0, max_x=10, min_y=-5, max_y=500),
            {"e": "pp", "url": "u", "pp_mix": "0", "pp_max": "10", "pp_miy": "-5", "pp_may": "500"},
        ),
        (
            Structured(category="c", action="a", label="l", property="p", value=10.0),
            {"e": "se", "se_ca": "c", "se_ac": "a", "se_la": "l", "se_pr": "p", "se_va": "10"},
        ),
        (
            Structured(category="c", action="a", value=Decimal("12.990")),
            {"e": "se", "se_ca": "c", "se_ac": "a", "se_va": "12.990"},
        ),
        (Structured(category="c", action="a", value=0.1), {"se_va": "0.1"}),
    ],
)
def test_event_parameters(event: Event, expected: dict[str, str]) -> None:
    tracker, emitter = _tracker()
    tracker.track(event)
    payload = emitter.payloads[0]
    assert {k: payload.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("event", "schema", "data"),
    [
        (
            ScreenView(name="Home", id=SCREEN_ID, previous_id=SCREEN_ID, transition_type="push"),
            "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0",
            {"name": "Home", "id": SCREEN_ID, "previousId": SCREEN_ID, "transitionType": "push"},
        ),
        (
            ScreenView(name="Home", variant="legacy"),
            "iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0",
            {"name": "Home"},
        ),
        (
            LinkClick(target_url="https://t", element_classes=["a", "b"], element_content=""),
            "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
            {"targetUrl": "https://t", "elementClasses": ["a", "b"], "elementContent": ""},
        ),
        (
            SubmitForm(
                form_id="f",
                elements=[FormElement(name="n", value=None, node_name="INPUT", type="email")],
            ),
            "iglu:com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0",
            {
                "formId": "f",
                "elements": [{"name": "n", "value": None, "nodeName": "INPUT", "type": "email"}],
            },
        ),
        (
            ChangeForm(form_id="f", element_id="e", node_name="SELECT", value=None),
            "iglu:com.snowplowanalytics.snowplow/change_form/jsonschema/1-0-0",
            {"formId": "f", "elementId": "e", "nodeName": "SELECT", "value": None},
        ),
        (
            FocusForm(
                form_id="f", element_id="e", node_name="INPUT", value="v", element_type="text"
            ),
            "iglu:com.snowplowanalytics.snowplow/focus_form/jsonschema/1-0-0",
            {
                "formId": "f",
                "elementId": "e",
                "nodeName": "INPUT",
                "value": "v",
                "elementType": "text",
            },
        ),
        (
            SiteSearch(terms=["a b"], filters={"x": True}, total_results=0),
            "iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0",
            {"terms": ["a b"], "filters": {"x": True}, "totalResults": 0},
        ),
        (
            Timing(category="c", variable="v", timing=Decimal("1.5")),
            "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0",
            {"category": "c", "variable": "v", "timing": 1.5},
        ),
        (
            AddToCart(sku="s", quantity=2, unit_price=9.5, currency="EUR"),
            "iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0",
            {"sku": "s", "quantity": 2, "unitPrice": 9.5, "currency": "EUR"},
        ),
        (
            RemoveFromCart(sku="s", quantity=1, name="n", category="c"),
            "iglu:com.snowplowanalytics.snowplow/remove_from_cart/jsonschema/1-0-0",
            {"sku": "s", "quantity": 1, "name": "n", "category": "c"},
        ),
    ],
)
def test_self_describing_event_data(event: Event, schema: str, data: dict[str, Any]) -> None:
    tracker, emitter = _tracker()
    tracker.track(event)
    payload = emitter.payloads[0]
    assert payload["e"] == "ue"
    assert _ue(payload) == {"schema": schema, "data": data}


def test_transaction_sends_one_event_per_item_with_its_own_id() -> None:
    tracker, emitter = _tracker()
    ids = tracker.track(
        EcommerceTransaction(
            order_id="o",
            total_value=3,
            currency="EUR",
            items=[
                TransactionItem(sku="a", price=1, quantity=1),
                TransactionItem(sku="b", price=2.25, quantity=1, name="B"),
            ],
            true_timestamp_ms=9,
        )
    )
    assert ids == [seeded_event_id(7, n) for n in range(3)]
    tr, ti_a, ti_b = emitter.payloads
    assert (tr["e"], tr["tr_id"], tr["tr_tt"], tr["tr_cu"], tr["ttm"]) == (
        "tr",
        "o",
        "3",
        "EUR",
        "9",
    )
    assert (ti_a["e"], ti_a["ti_id"], ti_a["ti_sk"], ti_a["ti_cu"]) == ("ti", "o", "a", "EUR")
    assert (ti_b["ti_pr"], ti_b["ti_nm"], ti_b["ttm"]) == ("2.25", "B", "9")
    assert len({p["eid"] for p in emitter.payloads}) == 3
    assert {p["dtm"] for p in emitter.payloads} == {"1000"}


# -- bad input is refused at the call --------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PageView(page_url=""), "page_url must not be empty"),
        (lambda: PageView(page_url=5), "page_url must be a string"),  # type: ignore[arg-type]
        (lambda: PageView(page_url="\ud800"), "not encodable as UTF-8"),
        (lambda: PageView(page_url="u", contexts="x"), "contexts must be a list"),  # type: ignore[arg-type]
        (lambda: PageView(page_url="u", contexts=[{"schema": "x", "data": 1}]), "Iglu URI"),
        (lambda: PageView(page_url="u", contexts=[{"data": 1}]), "exactly 'schema' and 'data'"),
        (lambda: PageView(page_url="u", true_timestamp_ms=-1), "true_timestamp_ms must be >= 0"),
        (lambda: PagePing(page_url="u", min_x=0.5, max_x=1, min_y=0, max_y=0), "min_x must be an"),  # type: ignore[arg-type]
        (lambda: Structured(category="c", action="a", value=True), "value must be a number"),
        (lambda: Structured(category="c", action="a", value=float("nan")), "must be finite"),
        (lambda: Structured(category="", action="a"), "category must not be empty"),
        (lambda: SelfDescribing(event={"schema": "iglu:a/b/c/1-0"}), "exactly 'schema' and 'data'"),
        (lambda: ScreenView(name="n", id="not-a-uuid"), "id must be a UUID"),
        (lambda: ScreenView(name="n"), "id is required for a mobile screen view"),
        (lambda: ScreenView(name="n", variant="legacy", screen_type="t"), "only name and id"),
        (lambda: ScreenView(name="n", id=SCREEN_ID, variant="tv"), "variant must be"),  # type: ignore[arg-type]
        (lambda: LinkClick(target_url="u", element_classes="a b"), "must be a list of strings"),
        (lambda: ChangeForm(form_id="f", element_id="e", node_name="DIV", value=""), "one of"),
        (
            lambda: FocusForm(
                form_id="f", element_id="e", node_name="INPUT", value="", element_type="x"
            ),
            "element_type must be one of",
        ),
        (lambda: FormElement(name="n", value="v", node_name="BUTTON"), "node_name must be one"),
        (lambda: SubmitForm(form_id="f", elements=[{"name": "n"}]), "list of FormElement"),  # type: ignore[list-item]
        (lambda: SiteSearch(terms=[]), "at least one search term"),
        (lambda: SiteSearch(terms=["a"], total_results=-1), "total_results must be >= 0"),
        (lambda: SiteSearch(terms=["a"], filters={"k": 1}), "must be a string or a bool"),  # type: ignore[dict-item]
        (lambda: Timing(category="c", variable="v", timing="5"), "timing must be a number"),  # type: ignore[arg-type]
        (
            lambda: EcommerceTransaction(order_id="o", total_value=1, items=[{"sku": "s"}]),  # type: ignore[list-item]
            "list of TransactionItem",
        ),
        (lambda: TransactionItem(sku="s", price=1, quantity=1.5), "quantity must be an integer"),  # type: ignore[arg-type]
        (lambda: AddToCart(sku="s", quantity=None), "quantity must be a number"),  # type: ignore[arg-type]
        (lambda: Subject(screen_resolution=(1, 2, 3)), "pair of non-negative integers"),  # type: ignore[arg-type]
        (lambda: Subject(session_index=0), "session_index must be >= 1"),
        (lambda: Subject(user_id=1), "user_id must be a string"),  # type: ignore[arg-type]
        (lambda: SelfDescribingJson("iglu:com.acme/x/jsonschema/1-0", {}), "Iglu URI"),
    ],
)
def test_bad_arguments_raise_at_the_call(build: Any, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        build()


def test_unserialisable_data_raises_in_track_and_nothing_is_emitted() -> None:
    tracker, emitter = _tracker()
    with pytest.raises(InvalidEventError, match="not JSON-serialisable"):
        tracker.track(SelfDescribing(event=SelfDescribingJson(SCHEMA, {"a": {1, 2}})))
    with pytest.raises(InvalidEventError, match="not JSON-serialisable"):
        tracker.track(PageView(page_url="u", contexts=[SelfDescribingJson(SCHEMA, float("inf"))]))
    with pytest.raises(InvalidEventError, match="UTF-8"):
        tracker.track(SelfDescribing(event=SelfDescribingJson(SCHEMA, {"k": "\udfff"})))
    with pytest.raises(InvalidEventError, match="takes an Event"):
        tracker.track({"type": "page_view"})  # type: ignore[arg-type]
    assert emitter.payloads == []


def test_background_emitter_never_sees_an_invalid_event() -> None:
    emitter = BackgroundEmitter("http://127.0.0.1:9", shutdown_timeout_s=None)
    tracker = Tracker(emitter)
    with pytest.raises(InvalidEventError):
        tracker.track(SelfDescribing(event=SelfDescribingJson(SCHEMA, object())))
    assert emitter.pending == 0
    assert emitter.close(0)
    with pytest.raises(EmitterClosedError):
        tracker.track(PageView(page_url="u"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Tracker(ListEmitter(), platform="desktop"), "platform must be one of"),
        (lambda: Tracker([]), "at least one emitter"),
        (lambda: Tracker(ListEmitter(), namespace="\ud800"), "namespace"),
        (lambda: SyncEmitter("ftp://host"), "must be http"),
        (lambda: SyncEmitter("http://host:99999"), "bad port"),
        (lambda: SyncEmitter("http://h", method="PUT"), "method must be"),  # type: ignore[arg-type]
        (lambda: SyncEmitter("http://h", batch_size=0), "batch_size must be >= 1"),
        (lambda: SyncEmitter("http://h", max_bytes=10), "max_bytes must be >= 200"),
        (lambda: SyncEmitter("http://h", request_timeout_s=0), "timeout_s must be positive"),
        (lambda: RetryPolicy(max_attempts=0), "max_attempts must be >= 1"),
        (lambda: RetryPolicy(jitter=2), "jitter must be within"),
        (lambda: RetryPolicy(multiplier=0.5), "multiplier must be >= 1"),
        (lambda: BackgroundEmitter("http://h", queue_size=0), "queue_size must be >= 1"),
    ],
)
def test_bad_configuration_raises(build: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


# -- the language-neutral shape --------------------------------------------------------------


def test_neutral_shapes_build_the_same_events() -> None:
    event = event_from_neutral(
        {
            "type": "submit_form",
            "form_id": "f",
            "elements": [{"name": "n", "value": "v", "node_name": "INPUT"}],
        }
    )
    assert event == SubmitForm(
        form_id="f", elements=[FormElement(name="n", value="v", node_name="INPUT")]
    )
    assert subject_from_neutral({"screen_resolution": [1, 2]}) == Subject(screen_resolution=(1, 2))
    assert subject_from_neutral({}) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "media_play"}, "unknown event type 'media_play'"),
        ({"page_url": "u"}, "unknown event type None"),
        ({"type": "page_view"}, "page_view: missing 1 required keyword-only argument"),
        ({"type": "page_view", "page_url": "u", "colour": 1}, "unexpected keyword argument"),
        ({"type": "ecommerce_transaction", "order_id": "o", "total_value": 1, "items": [1]},
         r"items\[0\] must be an object"),
    ],
)  # fmt: skip
def test_neutral_shape_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        event_from_neutral(spec)
