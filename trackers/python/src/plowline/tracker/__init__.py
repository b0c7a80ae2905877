"""plowline-tracker: a Snowplow-protocol tracker for Python."""

from plowline.tracker._version import TRACKER_VERSION, __version__
from plowline.tracker.clock import ManualClock, random_event_id, seeded_event_ids, system_clock_ms
from plowline.tracker.emitters import (
    BackgroundEmitter,
    DeliveryFailure,
    Emitter,
    MemoryStore,
    RetryPolicy,
    SqliteStore,
    SyncEmitter,
)
from plowline.tracker.errors import (
    ConfigurationError,
    EmitterClosedError,
    InvalidEventError,
    TrackerError,
    TransportError,
)
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
from plowline.tracker.self_describing import SelfDescribingJson
from plowline.tracker.subject import Subject
from plowline.tracker.tracker import Tracker

__all__ = [
    "TRACKER_VERSION",
    "AddToCart",
    "BackgroundEmitter",
    "ChangeForm",
    "ConfigurationError",
    "DeliveryFailure",
    "EcommerceTransaction",
    "Emitter",
    "EmitterClosedError",
    "Event",
    "FocusForm",
    "FormElement",
    "InvalidEventError",
    "LinkClick",
    "ManualClock",
    "MemoryStore",
    "PagePing",
    "PageView",
    "RemoveFromCart",
    "RetryPolicy",
    "ScreenView",
    "SelfDescribing",
    "SelfDescribingJson",
    "SiteSearch",
    "SqliteStore",
    "Structured",
    "Subject",
    "SubmitForm",
    "SyncEmitter",
    "Timing",
    "Tracker",
    "TrackerError",
    "TransactionItem",
    "TransportError",
    "__version__",
    "random_event_id",
    "seeded_event_ids",
    "system_clock_ms",
]
