"""Fixtures for the collector tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from plowline.collector.testing import Harness, make_harness


@pytest.fixture
def collector() -> Iterator[Callable[..., Harness]]:
    """Factory: ``collector({"cookie": {...}}, good_max=...)`` -> a started Harness."""
    made: list[Harness] = []

    def make(settings: dict[str, Any] | None = None, **kwargs: Any) -> Harness:
        harness = make_harness(settings, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
