"""When to retry a request, and how long to wait before the next attempt."""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from enum import Enum

from plowline.tracker.emitters.delivery_rules import (
    BACKOFF_MULTIPLIER,
    GIVE_UP_STATUSES,
    HONOUR_RETRY_AFTER,
    INITIAL_BACKOFF_S,
    JITTER,
    MAX_ATTEMPTS,
    MAX_BACKOFF_S,
    MAX_RETRY_AFTER_S,
)
from plowline.tracker.errors import ConfigurationError


class Outcome(Enum):
    """What a response status means for the events in the request."""

    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


def classify(status: int) -> Outcome:
    """2xx delivered; the give-up set of spec/delivery/rules.yaml ends the request; else retry."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in GIVE_UP_STATUSES:
        return Outcome.GIVE_UP
    return Outcome.RETRY


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``max_attempts`` counts the first attempt.

    The n-th wait is ``min(max_backoff_s, initial_backoff_s * multiplier**(n-1))`` shortened by
    a random fraction up to ``jitter`` (so clients that failed together do not retry together).
    A Retry-After header, when honoured, replaces the computed wait (capped at
    ``max_retry_after_s``).
    """

    # Defaults: spec/delivery/rules.yaml, shared by every Plowline tracker.
    max_attempts: int = MAX_ATTEMPTS
    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S
    multiplier: float = BACKOFF_MULTIPLIER
    jitter: float = JITTER
    honour_retry_after: bool = HONOUR_RETRY_AFTER
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ConfigurationError("max_attempts must be an integer")
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, got {self.max_attempts}")
        for name in ("initial_backoff_s", "max_backoff_s", "max_retry_after_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigurationError(f"{name} must be a finite number >= 0, got {value}")
        if not math.isfinite(self.multiplier) or self.multiplier < 1:
            raise ConfigurationError(f"multiplier must be >= 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ConfigurationError(f"jitter must be within [0, 1], got {self.jitter}")

    def backoff_s(self, failed_attempts: int, rand: float) -> float:
        """Wait after the ``failed_attempts``-th failure; ``rand`` is uniform in [0, 1)."""
        exponent = max(0, failed_attempts - 1)
        # Cap the exponent so a large attempt count cannot overflow the float.
        raw = self.initial_backoff_s * self.multiplier ** min(exponent, 64)
        return min(self.max_backoff_s, raw) * (1.0 - self.jitter * rand)

    def wait_s(
        self, failed_attempts: int, rand: float, retry_after: str | None, now_s: float
    ) -> float:
        """The wait before the next attempt: Retry-After when honoured and valid, else backoff."""
        if self.honour_retry_after and retry_after is not None:
            seconds = parse_retry_after(retry_after, now_s)
            if seconds is not None:
                return min(seconds, self.max_retry_after_s)
        return self.backoff_s(failed_attempts, rand)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str, now_s: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if invalid."""
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means it said "-0000"
        return None
    return max(0.0, when.timestamp() - now_s)
