"""Emitters deliver tracked events to a collector: synchronously or from a background worker."""

from plowline.tracker.emitters.background import BackgroundEmitter
from plowline.tracker.emitters.base import Emitter
from plowline.tracker.emitters.delivery import DeliveryFailure, FailureCallback, SuccessCallback
from plowline.tracker.emitters.retry import NO_RETRY, RetryPolicy
from plowline.tracker.emitters.store import EventStore, MemoryStore, SqliteStore, StoredEvent
from plowline.tracker.emitters.sync import SyncEmitter
from plowline.tracker.emitters.transport import (
    Endpoint,
    HttpClientTransport,
    HttpResponse,
    Transport,
)
from plowline.tracker.emitters.wire import GET_PATH, POST_PATH

__all__ = [
    "GET_PATH",
    "NO_RETRY",
    "POST_PATH",
    "BackgroundEmitter",
    "DeliveryFailure",
    "Emitter",
    "Endpoint",
    "EventStore",
    "FailureCallback",
    "HttpClientTransport",
    "HttpResponse",
    "MemoryStore",
    "RetryPolicy",
    "SqliteStore",
    "StoredEvent",
    "SuccessCallback",
    "SyncEmitter",
    "Transport",
]
