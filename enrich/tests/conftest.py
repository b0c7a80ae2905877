"""Shared fixtures of the plowline-enrich tests: a deterministic context over real schemas."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from plowline.enrich.context import EnrichContext
from plowline.enrich.iglu import IgluValidator

TEST_SCHEMAS = Path(__file__).parent / "schemas"
NOW_MS = 1_700_000_000_000


@pytest.fixture(scope="session")
def validator() -> IgluValidator:
    """Plowline's spec schemas plus the test-only schemas under tests/schemas."""
    return IgluValidator.from_resolver_file(None, [TEST_SCHEMAS])


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


@pytest.fixture
def ctx(validator: IgluValidator) -> EnrichContext:
    return EnrichContext(validator, clock_ms=lambda: NOW_MS, new_uuid=_ids())
