"""The resolver's TTL + LRU cache, on a fake clock."""

from __future__ import annotations

import pytest
from plowline.spec.cache import TtlCache


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_get_put_pop_clear_len() -> None:
    cache: TtlCache[str, int] = TtlCache(10, None, FakeClock())
    assert cache.get("a") is None
    cache.put("a", 1)
    cache.put("b", 2)
    assert (cache.get("a"), cache.get("b"), len(cache)) == (1, 2, 2)
    assert cache.pop("a") == 1
    assert cache.pop("a") is None
    cache.clear()
    assert len(cache) == 0


def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(10, 60, clock)
    cache.put("a", 1)
    clock.now += 59.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0  # expired entries are dropped when seen


def test_storing_again_restarts_the_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(10, 10, clock)
    cache.put("a", 1)
    clock.now += 8
    cache.put("a", 2)
    clock.now += 8
    assert cache.get("a") == 2


def test_no_ttl_means_forever() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(10, None, clock)
    cache.put("a", 1)
    clock.now += 10**9
    assert cache.get("a") == 1


def test_least_recently_used_is_evicted_first() -> None:
    cache: TtlCache[str, int] = TtlCache(2, None, FakeClock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now more recent than b
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_size_zero_disables_caching() -> None:
    cache: TtlCache[str, int] = TtlCache(0, None, FakeClock())
    cache.put("a", 1)
    assert cache.get("a") is None


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="size"):
        TtlCache(-1, None, FakeClock())
    with pytest.raises(ValueError, match="TTL"):
        TtlCache(1, -5, FakeClock())
