"""Retry rules: which statuses retry, backoff with jitter, Retry-After parsing."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plowline.tracker.emitters.retry import Outcome, RetryPolicy, classify, parse_retry_after


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (302, Outcome.RETRY),
        # spec/delivery/rules.yaml: Snowplow's give-up set; every other status is retried.
        (400, Outcome.GIVE_UP),
        (401, Outcome.GIVE_UP),
        (403, Outcome.GIVE_UP),
        (410, Outcome.GIVE_UP),
        (422, Outcome.GIVE_UP),
        (404, Outcome.RETRY),
        (413, Outcome.RETRY),
        (425, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff_s=1, multiplier=2, max_backoff_s=5, jitter=0)
    assert [policy.backoff_s(n, 0.0) for n in (1, 2, 3, 4, 100_000)] == [1, 2, 4, 5, 5]


@given(
    failures=st.integers(min_value=1, max_value=10_000),
    rand=st.floats(min_value=0, max_value=1, exclude_max=True),
    jitter=st.floats(min_value=0, max_value=1),
)
def test_jitter_only_shortens_the_wait(failures: int, rand: float, jitter: float) -> None:
    policy = RetryPolicy(initial_backoff_s=0.5, max_backoff_s=30, jitter=jitter)
    plain = RetryPolicy(initial_backoff_s=0.5, max_backoff_s=30, jitter=0).backoff_s(failures, 0)
    wait = policy.backoff_s(failures, rand)
    assert plain * (1 - jitter) <= wait <= plain


def test_retry_after_seconds_and_http_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 0 ", now) == 0.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None


def test_wait_prefers_retry_after_capped() -> None:
    policy = RetryPolicy(initial_backoff_s=1, jitter=0, max_retry_after_s=60)
    assert policy.wait_s(1, 0.0, "7", 0.0) == 7.0
    assert policy.wait_s(1, 0.0, "3600", 0.0) == 60.0
    assert policy.wait_s(1, 0.0, "garbage", 0.0) == 1.0
    ignoring = RetryPolicy(initial_backoff_s=1, jitter=0, honour_retry_after=False)
    assert ignoring.wait_s(1, 0.0, "7", 0.0) == 1.0


def test_defaults_are_the_shared_delivery_rules() -> None:
    """The policy's defaults are spec/delivery/rules.yaml's (seconds here, milliseconds there)."""
    import yaml
    from plowline.spec.data import data_path

    rules = yaml.safe_load(data_path("delivery", "rules.yaml").read_text(encoding="utf-8"))
    policy = RetryPolicy()
    assert policy.max_attempts == rules["max_attempts"]
    assert policy.initial_backoff_s * 1000 == rules["backoff"]["initial_ms"]
    assert policy.max_backoff_s * 1000 == rules["backoff"]["max_ms"]
    assert policy.multiplier == rules["backoff"]["multiplier"]
    assert policy.jitter == rules["backoff"]["jitter"]
    assert policy.honour_retry_after is rules["retry_after"]["honoured"]
    assert policy.max_retry_after_s * 1000 == rules["retry_after"]["max_ms"]
    for status in range(300, 600):
        expected = Outcome.GIVE_UP if status in rules["give_up_statuses"] else Outcome.RETRY
        assert classify(status) is expected
